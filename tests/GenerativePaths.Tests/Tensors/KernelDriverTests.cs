using GenerativePaths.Ode;
using GenerativePaths.Samplers;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Tensors.TestData;

namespace GenerativePaths.Tests.Tensors;

/// <summary>
/// The one kernel driver under every forced width: the kernels moved into it from Ode/ and Samplers/ (the ODE error norms,
/// the samplers' finite check) against oracles written here (a scalar double loop in the documented lane order, which is the
/// order the previous 256-bit-only kernels summed in, and a plain double loop), and the element-type guard.
/// </summary>
[Collection(TensorSettingsCollection.Name)]
public sealed class KernelDriverTests
{
    /// <summary>The documented order: term i to lane i mod 8, lanes ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)), one sum over the span.</summary>
    private static double LaneOrderNorm(double[] e, double[] a, double[] b, double atol, double[]? per, double rtol)
    {
        var l = new double[8];
        for (int i = 0; i < e.Length; i++)
        {
            double r = e[i] / ((per?[i] ?? atol) + rtol * Math.Max(Math.Abs(a[i]), Math.Abs(b[i])));
            l[i & 7] += r * r;
        }
        double sum = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
        return Math.Sqrt(sum / e.Length);
    }

    private static double PlainNorm(double[] e, double[] a, double[] b, double atol, double[]? per, double rtol)
    {
        double s = 0;
        for (int i = 0; i < e.Length; i++)
        {
            double r = e[i] / ((per?[i] ?? atol) + rtol * Math.Max(Math.Abs(a[i]), Math.Abs(b[i])));
            s += r * r;
        }
        return Math.Sqrt(s / e.Length);
    }

    private static void AssertBits(double expected, double actual, string what)
        => Assert.True(BitConverter.DoubleToInt64Bits(expected) == BitConverter.DoubleToInt64Bits(actual), $"{what}: {actual:R}, expected {expected:R}");

    [Fact]
    public void OdeErrorNormIsTheLaneOrderSumAtEveryWidth()
    {
        var rng = new Random(31);
        foreach (int n in Lengths(large: false).Where(n => n > 0 && (n < 80 || n % 37 == 0)).Concat([1021, 16_387, 40_001]))
        {
            var e = Uniform<double>(rng, n, 1e-3); var a = Uniform<double>(rng, n, 3); var b = Uniform<double>(rng, n, 3);
            var per = Enumerable.Range(0, n).Select(_ => 1e-7 + 1e-4 * rng.NextDouble()).ToArray();
            double expected = LaneOrderNorm(e, a, b, 1e-6, null, 1e-3), expectedPer = LaneOrderNorm(e, a, b, 0, per, 1e-3);
            Assert.True(Math.Abs(expected - PlainNorm(e, a, b, 1e-6, null, 1e-3)) <= 1e-12 * expected, $"n = {n}: oracles disagree");
            foreach (int w in TensorSettings.Widths)
            {
                using var settings = TensorSettings.Use(width: w);
                AssertBits(expected, OdeNorms.ErrorNorm<double>(e, a, b, 1e-6, default, 1e-3, out bool finite), $"n = {n}, width {w}");
                Assert.True(finite);
                AssertBits(expectedPer, OdeNorms.ErrorNorm<double>(e, a, b, 0, per, 1e-3, out _), $"n = {n}, width {w}, per component");
            }
        }
    }

    [Fact]
    public void FusedOdeErrorNormIsTheLaneOrderSumOfTheLeftToRightEstimateAtEveryWidth()
    {
        var rng = new Random(32);
        foreach (int n in new[] { 1, 5, 8, 13, 64, 511, 512, 520, 1031 })
            foreach (int count in new[] { 0, 1, 3, 6, 8, 9, 12 })
            {
                var k = Enumerable.Range(0, 12).Select(_ => { var t = BatchTensor<double>.Allocate(2, n); Uniform<double>(rng, 2 * n).CopyTo(t.Span); return t; }).ToArray();
                var idx = Enumerable.Range(0, count).Select(j => (5 * j + 2) % 12).ToArray();
                var wts = Enumerable.Range(0, count).Select(_ => rng.NextDouble() - 0.5).ToArray();
                var a = Uniform<double>(rng, n, 2); var b = Uniform<double>(rng, n, 2);
                double h = 0.3;
                var e = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double acc = 0;
                    for (int j = 0; j < count; j++) acc = j == 0 ? (h * wts[j]) * k[idx[j]].Span[n + i] : acc + (h * wts[j]) * k[idx[j]].Span[n + i];
                    e[i] = acc;
                }
                double expected = LaneOrderNorm(e, a, b, 1e-6, null, 1e-3);
                foreach (int w in TensorSettings.Widths)
                {
                    using var settings = TensorSettings.Use(width: w);
                    AssertBits(expected, OdeNorms.FusedErrorNorm(a, b, h, idx, wts, count, k, n, 1e-6, default, 1e-3, out bool finite), $"n = {n}, count = {count}, width {w}");
                    Assert.True(finite);
                    var bad = (double[])b.Clone();
                    bad[rng.Next(n)] = double.PositiveInfinity;
                    OdeNorms.FusedErrorNorm(a, bad, h, idx, wts, count, k, n, 1e-6, default, 1e-3, out bool badFinite);
                    Assert.False(badFinite, $"n = {n}, count = {count}, width {w}: infinity in the new state not flagged");
                }
                foreach (var t in k) t.Dispose();
            }
    }

    [Fact]
    public void SamplersFiniteCheckSeesEveryBadValueAtEveryWidth()
    {
        foreach (int w in TensorSettings.Widths)
        {
            using var settings = TensorSettings.Use(width: w);
            for (int n = 0; n <= 70; n++)
            {
                var f = Enumerable.Range(0, n).Select(i => (float)(i - 30)).ToArray();
                var d = f.Select(v => (double)v * 1e300).ToArray(); // finite but huge: x * 0 stays 0
                Assert.True(FiniteCheck.AllFinite<float>(f), $"width {w}, n = {n}");
                Assert.True(FiniteCheck.AllFinite<double>(d), $"width {w}, n = {n}");
                for (int i = 0; i < n; i++)
                    foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
                    {
                        var f2 = (float[])f.Clone(); f2[i] = (float)bad;
                        var d2 = (double[])d.Clone(); d2[i] = bad;
                        Assert.False(FiniteCheck.AllFinite<float>(f2), $"width {w}, n = {n}, float {bad} at {i}");
                        Assert.False(FiniteCheck.AllFinite<double>(d2), $"width {w}, n = {n}, double {bad} at {i}");
                    }
            }
        }
    }

    [Fact]
    public void UnsupportedElementTypesFailAtConstructionWithAClearMessage()
    {
        Assert.True(BatchTensor<float>.IsSupported);
        Assert.True(BatchTensor<double>.IsSupported);
        Assert.False(BatchTensor<Half>.IsSupported);
        var e = Assert.Throws<NotSupportedException>(() => BatchTensor<Half>.Allocate(2, 3));
        Assert.Contains("BatchTensor<Half>", e.Message);
        Assert.Contains("float and double", e.Message);
        Assert.Throws<NotSupportedException>(() => BatchTensor<Half>.Wrap(new Half[6], 2, 3));
        Assert.Throws<NotSupportedException>(() => BatchTensor<Half>.FromRows([[Half.One]]));
        Assert.Throws<NotSupportedException>(() => BatchTensor<Half>.AllocateLike(BatchTensor<float>.Allocate(1, 1)));
    }
}
