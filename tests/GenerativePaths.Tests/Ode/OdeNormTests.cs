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
}
