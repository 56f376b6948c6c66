using GenerativePaths.Ode;
using GenerativePaths.Ode.Problems;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Ode;

public class LikelihoodTests
{
    // A three-component mixture in 4 dimensions.
    private static readonly double[] W = [0.2, 0.5, 0.3];
    private static readonly double[][] Mu = [[-1, 0.5, 2, 0], [1.5, -1, 0, 0.5], [0, 2, -1.5, -1]];
    private static readonly double[] S = [0.3, 0.6, 0.45];

    /// <summary>The oracle: x = x0 + sigma eps makes component k an isotropic Gaussian N(mu_k, (s_k^2 + sigma^2) I).</summary>
    private static double ExactLogDensity(ReadOnlySpan<double> x, double sigma)
    {
        int d = x.Length;
        var terms = new double[W.Length];
        for (int k = 0; k < W.Length; k++)
        {
            double v = S[k] * S[k] + sigma * sigma, q = 0;
            for (int i = 0; i < d; i++) q += (x[i] - Mu[k][i]) * (x[i] - Mu[k][i]);
            terms[k] = Math.Log(W[k]) - 0.5 * d * Math.Log(2 * Math.PI * v) - 0.5 * q / v;
        }
        double m = terms.Max();
        return m + Math.Log(terms.Sum(t => Math.Exp(t - m)));
    }

    [Theory]
    [InlineData(DivergenceEstimator.FiniteDifference)]
    [InlineData(DivergenceEstimator.Provided)]
    public void LogDensityThroughTheProbabilityFlowMatchesTheExactMixture(DivergenceEstimator estimator)
    {
        var gmm = new GaussianMixtureFlow(W, Mu, S);
        double[][] points = [[-1.1, 0.4, 2.2, 0.1], [1.0, -0.5, 0.3, 0.2], [0.5, 1.5, -1.0, -0.8]];
        using var x = BatchTensor<double>.FromRows(points);
        var lik = new ProbabilityFlowLikelihood<double>(gmm.ProbabilityFlow<double>(), 3, 4, estimator, gmm.ProbabilityFlowDivergence<double>());
        const double s0 = 0.2, s1 = 40;
        var (result, delta) = lik.Solve(x, s0, s1, EmbeddedTableau.Tsitouras54, new OdeOptions { RelativeTolerance = 1e-9, AbsoluteTolerance = 1e-9 });
        using (result)
        {
            Assert.Equal(OdeStatus.Success, result.Status);
            for (int b = 0; b < 3; b++)
            {
                var end = result.FinalState.Row(b)[..4].ToArray();
                double viaOde = ExactLogDensity(end, s1) + delta[b];
                double exact = ExactLogDensity(points[b], s0);
                Assert.True(Math.Abs(viaOde - exact) < 1e-5, $"sample {b}: ODE {viaOde} vs exact {exact}");
            }
        }
    }

    [Fact]
    public void MixtureDivergenceMatchesFiniteDifferences()
    {
        var gmm = new GaussianMixtureFlow(W, Mu, S);
        double[] x = [0.3, -0.2, 1.1, 0.4];
        foreach (double sigma in new[] { 0.1, 0.7, 5.0 })
        {
            var v0 = new double[4]; var v1 = new double[4];
            double div = 0;
            for (int i = 0; i < 4; i++)
            {
                // central differences of v = (x - D)/sigma, independently of the library's divergence formula
                var xp = (double[])x.Clone(); var xm = (double[])x.Clone();
                xp[i] += 1e-5; xm[i] -= 1e-5;
                gmm.Denoise(xp, sigma, v0); gmm.Denoise(xm, sigma, v1);
                div += ((xp[i] - v0[i]) - (xm[i] - v1[i])) / (2e-5 * sigma);
            }
            Assert.True(Math.Abs(div - gmm.VelocityDivergence(x, sigma)) < 1e-5 * Math.Max(1, Math.Abs(div)), $"sigma {sigma}");
        }
    }

    [Fact]
    public void HutchinsonIsExactForADiagonalLinearField()
    {
        // v = -a .* x: z^T diag(-a) z = -sum a for every Rademacher z, so Delta = -(t1 - t0) sum a.
        double[] a = [0.5, 1.0, 2.0];
        OdeFunction<double> v = (t, x, o) => { for (int b = 0; b < x.BatchSize; b++) for (int i = 0; i < 3; i++) o.Row(b)[i] = -a[i] * x.Row(b)[i]; };
        using var x0 = BatchTensor<double>.FromRows([[1.0, -2.0, 0.5], [0.3, 0.1, -0.7]]);
        var lik = new ProbabilityFlowLikelihood<double>(v, 2, 3, DivergenceEstimator.Hutchinson, seed: 7);
        var (r, delta) = lik.Solve(x0, 0, 1.5, EmbeddedTableau.DormandPrince54, new OdeOptions { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-10 });
        r.Dispose();
        foreach (var d in delta) Assert.True(Math.Abs(d + 1.5 * 3.5) < 1e-6, $"{d}");
    }

    [Fact]
    public void HutchinsonIsUnbiasedOnTheMixture()
    {
        // The same point in 256 rows: every row has its own fixed Rademacher vector; the mean estimate matches the exact divergence integral.
        var gmm = new GaussianMixtureFlow(W, Mu, S);
        const int n = 256;
        using var x = BatchTensor<double>.FromRows(Enumerable.Range(0, n).Select(_ => new[] { 0.2, 0.9, -0.4, 0.1 }).ToArray());
        var opts = new OdeOptions { RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-6, StepSizeSharing = StepSizeSharing.PerSample };
        var hutch = new ProbabilityFlowLikelihood<double>(gmm.ProbabilityFlow<double>(), n, 4, DivergenceEstimator.Hutchinson, seed: 3);
        var (r1, d1) = hutch.Solve(x, 0.3, 10, EmbeddedTableau.Tsitouras54, opts);
        r1.Dispose();
        using var one = BatchTensor<double>.FromRows([[0.2, 0.9, -0.4, 0.1]]);
        var exact = new ProbabilityFlowLikelihood<double>(gmm.ProbabilityFlow<double>(), 1, 4, DivergenceEstimator.Provided, gmm.ProbabilityFlowDivergence<double>());
        var (r2, d2) = exact.Solve(one, 0.3, 10, EmbeddedTableau.Tsitouras54, opts);
        r2.Dispose();
        double mean = d1.Average(), sd = Math.Sqrt(d1.Sum(d => (d - mean) * (d - mean)) / (n - 1));
        Assert.True(sd > 0, "the estimates should vary between Rademacher vectors");
        Assert.True(Math.Abs(mean - d2[0]) < 4 * sd / Math.Sqrt(n), $"mean {mean} vs exact {d2[0]} (sd {sd})");
    }

    [Fact]
    public void ProvidedEstimatorNeedsAFunction()
        => Assert.Throws<ArgumentException>(() => new ProbabilityFlowLikelihood<double>((t, x, o) => { }, 1, 2, DivergenceEstimator.Provided));
}
