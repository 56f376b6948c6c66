using GenerativePaths.Metrics;
using MathNet.Numerics.LinearAlgebra;
using Xunit;

namespace GenerativePaths.Tests.Cli;

/// <summary>The Fréchet distance against closed forms.</summary>
public sealed class FrechetDistanceTests
{
    private static double[] Gaussian(int n, int d, double[] mean, double[] std, int seed)
    {
        var rng = new Random(seed);
        var v = new double[n * d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                v[i * d + j] = mean[j] + std[j] * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            }
        return v;
    }

    [Theory]
    [InlineData(0.0, 1.0, 0.0, 1.0)]
    [InlineData(1.0, 2.0, -0.5, 0.5)]
    [InlineData(3.0, 0.1, 3.0, 4.0)]
    public void OneDimensionalGaussiansMatchTheClosedForm(double m1, double s1, double m2, double s2)
    {
        var mu1 = Vector<double>.Build.Dense([m1]);
        var mu2 = Vector<double>.Build.Dense([m2]);
        var c1 = Matrix<double>.Build.DenseOfArray(new[,] { { s1 * s1 } });
        var c2 = Matrix<double>.Build.DenseOfArray(new[,] { { s2 * s2 } });
        Assert.Equal((m1 - m2) * (m1 - m2) + (s1 - s2) * (s1 - s2), FrechetDistance.Squared(mu1, c1, mu2, c2), 10);
    }

    [Fact]
    public void OneDimensionalSampleSetsMatchTheirMoments()
    {
        double[] a = [1, 2, 3, 4, 6], b = [-1, 0, 0.5, 2];
        double ma = a.Average(), mb = b.Average();
        double sa = Math.Sqrt(a.Sum(x => (x - ma) * (x - ma)) / (a.Length - 1)), sb = Math.Sqrt(b.Sum(x => (x - mb) * (x - mb)) / (b.Length - 1));
        Assert.Equal((ma - mb) * (ma - mb) + (sa - sb) * (sa - sb), FrechetDistance.Squared(a, a.Length, b, b.Length, 1), 10);
    }

    [Fact]
    public void CommutingDiagonalCovariancesMatchTheClosedForm()
    {
        double[] m1 = [0, 1, 2], m2 = [1, 1, -1], v1 = [1, 4, 0.25], v2 = [9, 1, 0.25];
        var c1 = Matrix<double>.Build.DenseOfDiagonalArray(v1);
        var c2 = Matrix<double>.Build.DenseOfDiagonalArray(v2);
        double expected = 0;
        for (int i = 0; i < 3; i++) expected += (m1[i] - m2[i]) * (m1[i] - m2[i]) + (Math.Sqrt(v1[i]) - Math.Sqrt(v2[i])) * (Math.Sqrt(v1[i]) - Math.Sqrt(v2[i]));
        Assert.Equal(expected, FrechetDistance.Squared(Vector<double>.Build.Dense(m1), c1, Vector<double>.Build.Dense(m2), c2), 10);
        // Rotating both by the same orthogonal matrix changes nothing.
        double c = Math.Cos(0.7), s = Math.Sin(0.7);
        var q = Matrix<double>.Build.DenseOfArray(new[,] { { c, -s, 0 }, { s, c, 0 }, { 0, 0, 1 } });
        Assert.Equal(expected, FrechetDistance.Squared(q * Vector<double>.Build.Dense(m1), q * c1 * q.Transpose(), q * Vector<double>.Build.Dense(m2), q * c2 * q.Transpose()), 9);
    }

    [Fact]
    public void IdenticalSetsGiveZero()
    {
        var a = Gaussian(300, 5, [0, 1, 2, 3, 4], [1, 2, 0.5, 1, 3], 1);
        Assert.InRange(FrechetDistance.Squared(a, 300, a, 300, 5), 0, 1e-9);
        var f = a.Select(x => (float)x).ToArray();
        Assert.InRange(FrechetDistance.Squared(f, 300, f, 300, 5), 0, 1e-6);
    }

    [Fact]
    public void IsSymmetricAndInvariantToRowOrder()
    {
        var a = Gaussian(200, 4, [0, 0, 0, 0], [1, 1, 1, 1], 2);
        var b = Gaussian(150, 4, [0.5, 0, -1, 0], [2, 1, 0.5, 1], 3);
        double ab = FrechetDistance.Squared(a, 200, b, 150, 4);
        Assert.Equal(ab, FrechetDistance.Squared(b, 150, a, 200, 4), 9);
        var rows = Enumerable.Range(0, 200).Reverse().ToArray();
        var shuffled = rows.SelectMany(r => a.Skip(r * 4).Take(4)).ToArray();
        Assert.Equal(ab, FrechetDistance.Squared(shuffled, 200, b, 150, 4), 9);
        Assert.True(ab > 0.5);
    }

    [Fact]
    public void RejectsBadInput()
    {
        Assert.Throws<ArgumentException>(() => FrechetDistance.Squared(new double[3], 1, new double[6], 2, 3));
        Assert.Throws<ArgumentException>(() => FrechetDistance.Squared(new double[5], 2, new double[6], 2, 3));
        Assert.Throws<ArgumentException>(() => FrechetDistance.Squared([1.0, double.NaN], 2, [1.0, 2.0], 2, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => FrechetDistance.Squared(new double[4], 2, new double[4], 2, 0));
    }
}
