using System.Numerics;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Tensors.TestData;

namespace GenerativePaths.Tests.Tensors;

/// <summary>
/// The combinations that report non-finite output (<c>TensorKernels.CombineAllFinite</c>, <c>CombineWithEstimateAllFinite</c>):
/// bit for bit against the public kernel in the documented order, within rounding against a plain double loop, in place,
/// with NaN and infinities injected at every position class, for every length 0..300 and every vector-width setting.
/// </summary>
[Collection(TensorSettingsCollection.Name)]
public class CheckedCombinationTests
{
    public static TheoryData<int> WidthCodes => [.. TensorSettings.Widths];

    [Theory, MemberData(nameof(WidthCodes))]
    public void CombineAllFiniteMatchesThePlainKernelAndReportsBadValues_Float(int width) => CombineAllFinite<float>(width);

    [Theory, MemberData(nameof(WidthCodes))]
    public void CombineAllFiniteMatchesThePlainKernelAndReportsBadValues_Double(int width) => CombineAllFinite<double>(width);

    [Theory, MemberData(nameof(WidthCodes))]
    public void EstimateKernelMatchesTwoPlainCombinationsAndReportsBadValues_Float(int width) => Estimate<float>(width);

    [Theory, MemberData(nameof(WidthCodes))]
    public void EstimateKernelMatchesTwoPlainCombinationsAndReportsBadValues_Double(int width) => Estimate<double>(width);

    [Fact]
    public void LargeCallsFallBackToThePlainKernelAndAScan()
    {
        // A parallel threshold below the length sends the call through the plain (split) kernel and a finite scan.
        using var _ = TensorSettings.Use(threshold: 64, degree: 2);
        var rng = new Random(7);
        int n = 70_001;
        var x0 = Uniform<float>(rng, n); var x1 = Uniform<float>(rng, n);
        var d = new float[n]; var expected = new float[n];
        TensorKernels.LinearCombination<float>(expected, 0.5f, x0, -2f, x1);
        Assert.True(TensorKernels.CombineAllFinite<float>(d, Terms(2, [0.5f, -2f], [x0, x1])));
        Assert.Equal(expected, d);
        x1[n - 5] = float.NegativeInfinity;
        Assert.False(TensorKernels.CombineAllFinite<float>(d, Terms(2, [0.5f, -2f], [x0, x1])));
        var e = new float[n];
        Assert.True(TensorKernels.CombineWithEstimateAllFinite<float>(x0, e, x1.AsSpan().ToArray().Select(v => float.IsFinite(v) ? v : 1f).ToArray(), default, 1f, 2f, 3f, 4f, 0f, false));
    }

    [Fact]
    public void EstimateKernelRejectsOverlapAndLengthMismatch()
    {
        var x = new double[40]; var p = new double[40]; var q = new double[40];
        Assert.Throws<ArgumentException>(() => TensorKernels.CombineWithEstimateAllFinite<double>(x, x, p, q, 1, 1, 1, 1, 1, true));
        Assert.Throws<ArgumentException>(() => TensorKernels.CombineWithEstimateAllFinite<double>(x, new double[40], x, q, 1, 1, 1, 1, 1, true));
        Assert.Throws<ArgumentException>(() => TensorKernels.CombineWithEstimateAllFinite<double>(x, new double[39], p, q, 1, 1, 1, 1, 1, true));
        Assert.Throws<ArgumentException>(() => TensorKernels.CombineWithEstimateAllFinite<double>(x, new double[40], p, new double[41], 1, 1, 1, 1, 1, true));
    }

    private static TensorKernels.Terms<T> Terms<T>(int k, T[] c, T[][] x) where T : unmanaged
    {
        ReadOnlySpan<T> At(int j) => j < x.Length ? x[j] : default;
        T C(int j) => j < c.Length ? c[j] : default;
        return new TensorKernels.Terms<T>(k, C(0), At(0), C(1), At(1), C(2), At(2), C(3), At(3), C(4), At(4), C(5), At(5));
    }

    private static T[] Plain<T>(T[] c, T[][] x, int k, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = new T[n];
        switch (k)
        {
            case 1: TensorKernels.LinearCombination<T>(d, c[0], x[0]); break;
            case 2: TensorKernels.LinearCombination<T>(d, c[0], x[0], c[1], x[1]); break;
            case 3: TensorKernels.LinearCombination<T>(d, c[0], x[0], c[1], x[1], c[2], x[2]); break;
            case 4: TensorKernels.LinearCombination<T>(d, c[0], x[0], c[1], x[1], c[2], x[2], c[3], x[3]); break;
            case 5: TensorKernels.LinearCombination<T>(d, c[0], x[0], c[1], x[1], c[2], x[2], c[3], x[3], c[4], x[4]); break;
            default: TensorKernels.LinearCombination<T>(d, c[0], x[0], c[1], x[1], c[2], x[2], c[3], x[3], c[4], x[4], c[5], x[5]); break;
        }
        return d;
    }

    private static void CombineAllFinite<T>(int width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var _ = TensorSettings.Use(width);
        var rng = new Random(31 + width);
        T[] bad = [T.NaN, T.PositiveInfinity, T.NegativeInfinity];
        double tol = typeof(T) == typeof(float) ? 1e-5 : 1e-13;
        for (int k = 1; k <= 6; k++)
        {
            foreach (int n in Lengths(large: false))
            {
                var x = new T[k][];
                for (int j = 0; j < k; j++) x[j] = Uniform<T>(rng, n);
                var c = Uniform<T>(rng, k, 2.0);
                if (k > 1) c[k - 1] = T.Zero; // a zero coefficient must still propagate a bad input
                var expected = Plain(c, x, k, n);

                var d = new T[n + 2];
                d[n] = d[n + 1] = T.CreateTruncating(777.0);
                Assert.True(TensorKernels.CombineAllFinite(d.AsSpan(0, n), Terms(k, c, x)), $"k={k}, n={n}");
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(expected[i], d[i]);
                    double oracle = 0;
                    for (int j = 0; j < k; j++) oracle += double.CreateTruncating(c[j]) * double.CreateTruncating(x[j][i]);
                    Assert.True(Math.Abs(double.CreateTruncating(d[i]) - oracle) <= tol * (1 + Math.Abs(oracle) * 4), $"k={k}, n={n}, i={i}");
                }
                Assert.Equal(T.CreateTruncating(777.0), d[n]);

                // In place over each input in turn.
                for (int j = 0; j < k; j++)
                {
                    var saved = (T[])x[j].Clone();
                    Assert.True(TensorKernels.CombineAllFinite<T>(x[j], Terms(k, c, x)));
                    Assert.Equal(expected, x[j]);
                    x[j] = saved;
                }

                if (n == 0) continue;
                // A bad value in any input (including the zero-coefficient one), first, last or anywhere: reported, and visible in the output.
                foreach (int pos in new[] { 0, n - 1, rng.Next(n) }.Distinct())
                {
                    int j = rng.Next(k);
                    if (k > 1 && pos == n - 1) j = k - 1;
                    var saved = x[j][pos];
                    x[j][pos] = bad[rng.Next(3)];
                    var dd = new T[n];
                    Assert.False(TensorKernels.CombineAllFinite<T>(dd, Terms(k, c, x)), $"k={k}, n={n}, pos={pos}, input {j}");
                    Assert.False(T.IsFinite(dd[pos]));
                    x[j][pos] = saved;
                }
            }
        }
    }

    private static void Estimate<T>(int width) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var _ = TensorSettings.Use(width);
        var rng = new Random(77 + width);
        T[] bad = [T.NaN, T.PositiveInfinity, T.NegativeInfinity];
        double tol = typeof(T) == typeof(float) ? 1e-5 : 1e-13;
        foreach (bool withQ in new[] { false, true })
        {
            foreach (int n in Lengths(large: false))
            {
                var x = Uniform<T>(rng, n); var p = Uniform<T>(rng, n); var q = Uniform<T>(rng, n);
                var co = Uniform<T>(rng, 5, 2.0);
                T ce = co[0], cp = co[1], a = co[2], b = co[3], c = withQ ? co[4] : T.Zero;
                // Oracle 1: two calls of the public kernel in the documented order.
                var e1 = new T[n]; var x1 = new T[n];
                TensorKernels.LinearCombination<T>(e1, ce, x, cp, p);
                if (withQ) TensorKernels.LinearCombination<T>(x1, a, x, b, e1, c, q);
                else TensorKernels.LinearCombination<T>(x1, a, x, b, e1);

                var xs = (T[])x.Clone();
                var e = new T[n + 1];
                e[n] = T.CreateTruncating(555.0);
                Assert.True(TensorKernels.CombineWithEstimateAllFinite<T>(xs, e.AsSpan(0, n), p, withQ ? q : default, ce, cp, a, b, c, withQ));
                Assert.Equal(T.CreateTruncating(555.0), e[n]);
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(e1[i], e[i]);
                    Assert.Equal(x1[i], xs[i]);
                    // Oracle 2: a plain double loop.
                    double de = double.CreateTruncating(ce) * double.CreateTruncating(x[i]) + double.CreateTruncating(cp) * double.CreateTruncating(p[i]);
                    double dx = double.CreateTruncating(a) * double.CreateTruncating(x[i]) + double.CreateTruncating(b) * de
                        + (withQ ? double.CreateTruncating(c) * double.CreateTruncating(q[i]) : 0);
                    Assert.True(Math.Abs(double.CreateTruncating(e[i]) - de) <= tol * (1 + 4 * Math.Abs(de)), $"n={n}, i={i}");
                    Assert.True(Math.Abs(double.CreateTruncating(xs[i]) - dx) <= tol * (4 + 16 * Math.Abs(dx)), $"n={n}, i={i}");
                }

                if (n == 0) continue;
                foreach (int pos in new[] { 0, n - 1, rng.Next(n) }.Distinct())
                {
                    // In the model output, with a zero coefficient too, and in the previous estimate.
                    foreach (int where in withQ ? new[] { 0, 1, 2 } : new[] { 0, 1 })
                    {
                        var pp = (T[])p.Clone(); var qq = (T[])q.Clone(); var xx = (T[])x.Clone();
                        (where == 2 ? qq : pp)[pos] = bad[rng.Next(3)];
                        T cpUsed = where == 1 ? T.Zero : cp;
                        var ee = new T[n];
                        Assert.False(TensorKernels.CombineWithEstimateAllFinite<T>(xx, ee, pp, withQ ? qq : default, ce, cpUsed, a, b, c, withQ), $"n={n}, pos={pos}, where={where}");
                        Assert.False(where == 2 ? T.IsFinite(xx[pos]) : T.IsFinite(ee[pos]));
                    }
                }
            }
        }
    }
}
