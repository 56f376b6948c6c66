using GenerativePaths.Models;
using Xunit;

namespace GenerativePaths.Tests.Models;

/// <summary>The analytic mixture against brute-force quadrature over x0 and finite differences.</summary>
public class GaussianMixtureTests
{
    private static readonly GaussianMixture TwoD = new(
        [0.3, 0.7],
        [[-1.0, 0.5], [1.5, -0.25]],
        [[0.4, 0.7], [0.6, 0.3]]);

    private static double Normal(double x, double mean, double std)
        => Math.Exp(-0.5 * ((x - mean) / std) * ((x - mean) / std)) / (std * Math.Sqrt(2 * Math.PI));

    /// <summary>Quadrature oracle for p_t(x) and E[x0|x] in two dimensions (grid over x0).</summary>
    private static (double density, double[] mean) Quadrature(double[] x, double alpha, double sigma)
    {
        const int N = 801;
        double lo = -5, hi = 5, h = (hi - lo) / (N - 1);
        double z = 0, m0 = 0, m1 = 0;
        double[] w = [0.3, 0.7];
        double[][] mu = [[-1.0, 0.5], [1.5, -0.25]], s = [[0.4, 0.7], [0.6, 0.3]];
        for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
        {
            double a = lo + i * h, b = lo + j * h;
            double prior = w[0] * Normal(a, mu[0][0], s[0][0]) * Normal(b, mu[0][1], s[0][1])
                         + w[1] * Normal(a, mu[1][0], s[1][0]) * Normal(b, mu[1][1], s[1][1]);
            double like = Normal(x[0], alpha * a, sigma) * Normal(x[1], alpha * b, sigma);
            double f = prior * like * h * h;
            z += f; m0 += f * a; m1 += f * b;
        }
        return (z, [m0 / z, m1 / z]);
    }

    [Theory]
    [InlineData(0.9, 0.3, 0.2, -0.1)]
    [InlineData(0.5, 0.8, 1.0, 1.0)]
    [InlineData(0.2, 1.0, -2.0, 0.5)]
    public void PosteriorMeanAndDensityMatchQuadrature(double alpha, double sigma, double x0, double x1)
    {
        double[] x = [x0, x1];
        var (density, mean) = Quadrature(x, alpha, sigma);
        var got = new double[2];
        TwoD.PosteriorMean(x, alpha, sigma, got);
        Assert.Equal(mean[0], got[0], 6);
        Assert.Equal(mean[1], got[1], 6);
        Assert.Equal(Math.Log(density), TwoD.LogDensity(x, alpha, sigma), 6);
    }

    [Fact]
    public void ScoreIsGradientOfLogDensityAndSatisfiesTweedie()
    {
        double[] x = [0.3, -0.7];
        double alpha = 0.7, sigma = 0.6, h = 1e-5;
        var score = new double[2];
        TwoD.Score(x, alpha, sigma, score);
        for (int d = 0; d < 2; d++)
        {
            var xp = (double[])x.Clone(); xp[d] += h;
            var xm = (double[])x.Clone(); xm[d] -= h;
            double fd = (TwoD.LogDensity(xp, alpha, sigma) - TwoD.LogDensity(xm, alpha, sigma)) / (2 * h);
            Assert.Equal(fd, score[d], 6);
        }
        // Tweedie: alpha E[x0|x] = x + sigma^2 score.
        var (_, mean) = Quadrature(x, alpha, sigma);
        for (int d = 0; d < 2; d++) Assert.Equal(alpha * mean[d], x[d] + sigma * sigma * score[d], 6);
    }

    [Fact]
    public void DivergenceMatchesFiniteDifferences()
    {
        double[] x = [0.3, -0.7];
        double alpha = 0.8, sigma = 0.5, h = 1e-5, fd = 0;
        for (int d = 0; d < 2; d++)
        {
            var xp = (double[])x.Clone(); xp[d] += h;
            var xm = (double[])x.Clone(); xm[d] -= h;
            var mp = new double[2]; var mm = new double[2];
            TwoD.PosteriorMean(xp, alpha, sigma, mp);
            TwoD.PosteriorMean(xm, alpha, sigma, mm);
            fd += (mp[d] - mm[d]) / (2 * h);
        }
        Assert.Equal(fd, TwoD.PosteriorMeanDivergence(x, alpha, sigma), 6);
    }

    [Fact]
    public void ZeroTerminalSnrGivesPriorMean()
    {
        var got = new double[2];
        TwoD.PosteriorMean([5.0, -3.0], alpha: 0, sigma: 1, got);
        Assert.Equal(0.3 * -1.0 + 0.7 * 1.5, got[0], 12);
        Assert.Equal(0.3 * 0.5 + 0.7 * -0.25, got[1], 12);
    }

    [Fact]
    public void BadInputThrows()
    {
        Assert.Throws<ArgumentException>(() => new GaussianMixture([1.0], [[0.0, 1.0]], [[1.0]]));
        Assert.Throws<ArgumentException>(() => new GaussianMixture([-1.0], [[0.0]], [[1.0]]));
        var point = GaussianMixture.Isotropic([1.0], [[2.0]], [0.0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => point.LogDensity([2.0], 1, 0));
        var m = new double[1];
        point.PosteriorMean([0.5], 1, 0.3, m);
        Assert.Equal(2.0, m[0]);
    }
}
