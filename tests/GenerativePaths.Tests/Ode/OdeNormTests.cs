using GenerativePaths.Ode;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Ode;

/// <summary>The integrator's fused norm-and-finite kernel against a plain double loop written here.</summary>
public class OdeNormTests
{
    private static double Reference(double[] e, double[] a, double[] b, double atol, double[]? per, double rtol)
    {
        if (e.Length == 0) return 0;
        double s = 0;
        for (int i = 0; i < e.Length; i++)
        {
            double r = e[i] / ((per?[i] ?? atol) + rtol * Math.Max(Math.Abs(a[i]), Math.Abs(b[i])));
            s += r * r;
        }
        return Math.Sqrt(s / e.Length);
    }

    [Fact]
    public void EveryLengthMatchesTheScalarLoop()
    {
        var rng = new Random(5);
        for (int n = 0; n <= 200; n++)
        {
            double[] R() => Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
            var e = R(); var a = R(); var b = R();
            var per = Enumerable.Range(0, n).Select(_ => 1e-6 + rng.NextDouble() * 1e-3).ToArray();
            double got = OdeNorms.ErrorNorm<double>(e, a, b, 1e-6, default, 1e-3, out bool finite);
            Assert.True(finite);
            Assert.True(Math.Abs(got - Reference(e, a, b, 1e-6, null, 1e-3)) <= 1e-13 * Math.Max(1, got), $"n = {n}");
            double gotPer = OdeNorms.ErrorNorm<double>(e, a, b, 0, per, 1e-3, out _);
            Assert.True(Math.Abs(gotPer - Reference(e, a, b, 0, per, 1e-3)) <= 1e-13 * Math.Max(1, gotPer), $"n = {n} (per component)");
            var ef = e.Select(x => (float)x).ToArray(); var af = a.Select(x => (float)x).ToArray(); var bf = b.Select(x => (float)x).ToArray();
            double gotF = OdeNorms.ErrorNorm<float>(ef, af, bf, 1e-6, default, 1e-3, out bool finiteF);
            Assert.True(finiteF);
            Assert.True(Math.Abs(gotF - Reference(ef.Select(x => (double)x).ToArray(), af.Select(x => (double)x).ToArray(), bf.Select(x => (double)x).ToArray(), 1e-6, null, 1e-3)) <= 1e-12 * Math.Max(1, gotF));
        }
    }

    [Fact]
    public void NonFiniteNewStateIsFlaggedAtEveryPosition()
    {
        for (int n = 1; n <= 40; n++)
            for (int bad = 0; bad < n; bad++)
                foreach (double v in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
                {
                    var e = Enumerable.Repeat(1e-7, n).ToArray();
                    var a = Enumerable.Repeat(1.0, n).ToArray();
                    var b = Enumerable.Repeat(1.0, n).ToArray();
                    b[bad] = v;
                    OdeNorms.ErrorNorm<double>(e, a, b, 1e-6, default, 1e-6, out bool finite);
                    Assert.False(finite, $"n = {n}, position {bad}, value {v}");
                    var bf = b.Select(x => (float)x).ToArray();
                    OdeNorms.ErrorNorm<float>(e.Select(x => (float)x).ToArray(), a.Select(x => (float)x).ToArray(), bf, 1e-6, default, 1e-6, out bool finiteF);
                    Assert.False(finiteF);
                }
    }

    [Fact]
    public void FusedErrorEstimateIsBitIdenticalToTheTwoPassForm()
    {
        // Oracle: the error estimate formed by a plain left-to-right double loop written here, then the two-pass norm.
        var rng = new Random(11);
        foreach (int n in new[] { 1, 7, 8, 9, 63, 511, 512, 513, 1030, 1536, 2049 })
            foreach (int count in new[] { 0, 1, 5, 6, 7, 9 })
                foreach (bool per in new[] { false, true })
                {
                    int rows = 2, off = n; // the second row of a two-row tensor
                    var k = new BatchTensor<double>[10];
                    for (int j = 0; j < k.Length; j++)
                    {
                        k[j] = BatchTensor<double>.Allocate(rows, n);
                        foreach (ref var v in k[j].Span) v = rng.NextDouble() * 2 - 1;
                    }
                    var idx = Enumerable.Range(0, count).Select(j => (j * 3) % 10).ToArray();
                    var w = Enumerable.Range(0, count).Select(_ => rng.NextDouble() - 0.5).ToArray();
                    double h = 0.01 + rng.NextDouble();
                    var a = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
                    var b = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
                    var at = per ? Enumerable.Range(0, n).Select(_ => 1e-6 + rng.NextDouble() * 1e-3).ToArray() : null;
                    var e = new double[n];
                    for (int i = 0; i < n; i++)
                    {
                        double acc = 0;
                        for (int j = 0; j < count; j++) acc = j == 0 ? (h * w[j]) * k[idx[j]].Span[off + i] : acc + (h * w[j]) * k[idx[j]].Span[off + i];
                        e[i] = acc;
                    }
                    double twoPass = OdeNorms.ErrorNorm<double>(e, a, b, 1e-6, at, 1e-3, out bool f2);
                    double fused = OdeNorms.FusedErrorNorm(a, b, h, idx, w, count, k, off, 1e-6, at, 1e-3, out bool f1);
                    Assert.True(f1 && f2);
                    Assert.True(BitConverter.DoubleToInt64Bits(twoPass) == BitConverter.DoubleToInt64Bits(fused), $"n = {n}, count = {count}, per = {per}: {fused:R} vs {twoPass:R}");
                    Assert.True(Math.Abs(fused - Reference(e, a, b, 1e-6, at, 1e-3)) <= 1e-13 * Math.Max(1, fused));
                    b[n / 2] = double.NaN;
                    OdeNorms.FusedErrorNorm(a, b, h, idx, w, count, k, off, 1e-6, at, 1e-3, out bool f3);
                    Assert.False(f3, $"n = {n}: NaN in the new state not flagged");
                }
    }
}
