using System.Numerics;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Tensors.TestData;

namespace GenerativePaths.Tests.Tensors;

/// <summary>
/// Reductions against oracles written here: the documented summation order in double (bit for bit)
/// and a plain double loop (within rounding).
/// </summary>
public class ReductionTests
{
    /// <summary>The documented order: lane i mod 8 within each chunk, pairwise lanes, chunks in order.</summary>
    internal static double OrderedSum(Func<int, double> term, int n)
    {
        double total = 0;
        var l = new double[8];
        for (int start = 0; start < n; start += TensorReductions.ChunkLength)
        {
            Array.Clear(l);
            int len = Math.Min(TensorReductions.ChunkLength, n - start);
            for (int i = 0; i < len; i++) l[i % 8] += term(start + i);
            total += ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
        }
        return total;
    }

    internal static void AssertSum(double actual, Func<int, double> term, int n, string what)
    {
        double ordered = OrderedSum(term, n);
        if (BitConverter.DoubleToInt64Bits(ordered) != BitConverter.DoubleToInt64Bits(actual))
            Assert.Fail($"{what}: {actual:R}, the documented order gives {ordered:R}.");
        double naive = 0, magnitude = 0;
        for (int i = 0; i < n; i++) { double t = term(i); naive += t; magnitude += Math.Abs(t); }
        Assert.True(Math.Abs(actual - naive) <= 1e-15 * (n + 8) * magnitude + double.Epsilon, $"{what}: {actual} vs plain loop {naive}.");
    }

    private static double D<T>(T v) where T : unmanaged, IFloatingPointIeee754<T> => double.CreateTruncating(v);

    [Fact] public void DotAndSumOfSquaresForEveryLength_Float() => DotForEveryLength<float>();
    [Fact] public void DotAndSumOfSquaresForEveryLength_Double() => DotForEveryLength<double>();

    private static void DotForEveryLength<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(11);
        foreach (int n in Lengths())
        {
            var x = Uniform<T>(rng, n, 3.0);
            var y = Uniform<T>(rng, n, 3.0);
            AssertSum(TensorReductions.Dot<T>(x, y), i => D(x[i]) * D(y[i]), n, $"Dot n={n}");
            AssertSum(TensorReductions.SumOfSquares<T>(x), i => D(x[i]) * D(x[i]), n, $"SumOfSquares n={n}");
        }
    }

    [Fact] public void ErrorNormForEveryLength_Float() => ErrorNormForEveryLength<float>();
    [Fact] public void ErrorNormForEveryLength_Double() => ErrorNormForEveryLength<double>();

    private static void ErrorNormForEveryLength<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(12);
        foreach (int n in Lengths())
        {
            var e = Uniform<T>(rng, n, 1e-3);
            var a = Uniform<T>(rng, n, 10);
            var b = Uniform<T>(rng, n, 10);
            var atolPer = new double[n];
            for (int i = 0; i < n; i++) atolPer[i] = 1e-6 * (1 + i % 5);
            double atol = 1e-5, rtol = 1e-3;
            double Scaled(int i, double at) { double r = D(e[i]) / (at + rtol * Math.Max(Math.Abs(D(a[i])), Math.Abs(D(b[i])))); return r * r; }
            double got = TensorReductions.ErrorNorm<T>(e, a, b, atol, rtol);
            double gotPer = TensorReductions.ErrorNorm<T>(e, a, b, atolPer, rtol);
            if (n == 0) { Assert.Equal(0, got); Assert.Equal(0, gotPer); continue; }
            Assert.Equal(Math.Sqrt(OrderedSum(i => Scaled(i, atol), n) / n), got);
            Assert.Equal(Math.Sqrt(OrderedSum(i => Scaled(i, atolPer[i]), n) / n), gotPer);
            double naive = 0;
            for (int i = 0; i < n; i++) naive += Scaled(i, atol);
            Assert.Equal(Math.Sqrt(naive / n), got, 1e-12 * Math.Sqrt(naive / n));
        }
    }

    [Fact] public void PerSampleReductionsMatchOracles_Float() => PerSample<float>();
    [Fact] public void PerSampleReductionsMatchOracles_Double() => PerSample<double>();

    private static void PerSample<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(13);
        (int Batch, int[] Shape)[] shapes = [(0, [4]), (3, [0]), (1, [1]), (4, [7]), (3, [16]), (5, [33]), (2, [4, 8, 8]), (300, [3]), (2, [16_385]), (3, [40_001])];
        foreach (var (batch, shape) in shapes)
        {
            using var e = BatchTensor<T>.Allocate(batch, shape);
            using var a = BatchTensor<T>.Allocate(batch, shape);
            using var b = BatchTensor<T>.Allocate(batch, shape);
            Uniform<T>(rng, e.Length, 1e-2).CopyTo(e.Span);
            Uniform<T>(rng, a.Length, 5).CopyTo(a.Span);
            Uniform<T>(rng, b.Length, 5).CopyTo(b.Span);
            int d = e.RowLength;
            var atolPer = new double[d];
            for (int i = 0; i < d; i++) atolPer[i] = 1e-4 / (1 + i % 3);
            var dot = new double[batch + 1];
            var ss = new double[batch];
            var max = new double[batch];
            var norms = new double[batch];
            var normsPer = new double[batch];
            TensorReductions.Dot(e, a, dot);
            TensorReductions.SumOfSquares(a, ss);
            TensorReductions.MaxAbs(b, max);
            TensorReductions.ErrorNorms(e, a, b, 1e-4, 1e-2, norms);
            TensorReductions.ErrorNorms(e, a, b, atolPer, 1e-2, normsPer);
            for (int s = 0; s < batch; s++)
            {
                var er = e.Row(s).ToArray(); var ar = a.Row(s).ToArray(); var br = b.Row(s).ToArray();
                AssertSum(dot[s], i => D(er[i]) * D(ar[i]), d, $"Dot row {s}");
                AssertSum(ss[s], i => D(ar[i]) * D(ar[i]), d, $"SumOfSquares row {s}");
                Assert.Equal(br.Length == 0 ? 0 : br.Max(v => Math.Abs(D(v))), max[s]);
                double Scaled(int i, double at) { double r = D(er[i]) / (at + 1e-2 * Math.Max(Math.Abs(D(ar[i])), Math.Abs(D(br[i])))); return r * r; }
                Assert.Equal(d == 0 ? 0 : Math.Sqrt(OrderedSum(i => Scaled(i, 1e-4), d) / d), norms[s]);
                Assert.Equal(d == 0 ? 0 : Math.Sqrt(OrderedSum(i => Scaled(i, atolPer[i]), d) / d), normsPer[s]);
            }
            Assert.Equal(0, dot[batch]);
        }
    }

    [Fact]
    public void MaxAbsAndFiniteChecksSeeNaNAndInfinityAtEveryPosition()
    {
        foreach (int n in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100 })
            for (int p = 0; p < n; p++)
            {
                Inject<float>(n, p);
                Inject<double>(n, p);
            }
    }

    private static void Inject<T>(int n, int p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Uniform<T>(new Random(n + 31 * p), n);
        double expectedMax = x.Max(v => Math.Abs(D(v)));
        Assert.Equal(expectedMax, TensorReductions.MaxAbs<T>(x));
        Assert.True(TensorReductions.IsFinite<T>(x));
        x[p] = T.CreateTruncating(-1e3);
        Assert.Equal(1e3, TensorReductions.MaxAbs<T>(x));
        x[p] = T.NaN;
        Assert.True(double.IsNaN(TensorReductions.MaxAbs<T>(x)), $"NaN at {p} of {n}");
        Assert.False(TensorReductions.IsFinite<T>(x), $"NaN at {p} of {n}");
        x[p] = T.PositiveInfinity;
        Assert.Equal(double.PositiveInfinity, TensorReductions.MaxAbs<T>(x));
        Assert.False(TensorReductions.IsFinite<T>(x), $"+Inf at {p} of {n}");
        x[p] = T.NegativeInfinity;
        Assert.False(TensorReductions.IsFinite<T>(x), $"-Inf at {p} of {n}");
        x[p] = T.CreateTruncating(typeof(T) == typeof(float) ? float.MaxValue : double.MaxValue);
        Assert.True(TensorReductions.IsFinite<T>(x), $"MaxValue at {p} of {n}");
    }

    [Fact]
    public void FirstNonFiniteSampleFindsTheFirstBadRow()
    {
        foreach (var (batch, row) in new[] { (1, 1), (3, 5), (8, 17), (4, 20_000) })
        {
            using var x = BatchTensor<float>.Allocate(batch, row);
            Uniform<float>(new Random(batch), x.Length).CopyTo(x.Span);
            Assert.Equal(-1, TensorReductions.FirstNonFiniteSample(x));
            var flags = new bool[batch];
            Assert.Equal(0, TensorReductions.IsFinite(x, flags));
            Assert.All(flags, Assert.True);
            for (int s = batch - 1; s >= 0; s--)
            {
                x.Row(s)[(s * 7) % row] = s % 2 == 0 ? float.NaN : float.NegativeInfinity;
                Assert.Equal(s, TensorReductions.FirstNonFiniteSample(x));
                Assert.Equal(batch - s, TensorReductions.IsFinite(x, flags));
                for (int r = 0; r < batch; r++) Assert.Equal(r < s, flags[r]);
            }
        }
    }

    [Fact]
    public void BadArgumentsThrowNamingTheParameter()
    {
        var x = new double[5];
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => TensorReductions.ErrorNorm<double>(x, x, new double[4], 1e-3, 1e-3)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => TensorReductions.Dot<double>(x, new double[6])).ParamName);
        Assert.Equal("atol", Assert.Throws<ArgumentOutOfRangeException>(() => TensorReductions.ErrorNorm<double>(x, x, x, -1, 1e-3)).ParamName);
        Assert.Equal("rtol", Assert.Throws<ArgumentOutOfRangeException>(() => TensorReductions.ErrorNorm<double>(x, x, x, 1e-3, double.NaN)).ParamName);
        Assert.Equal("atol", Assert.Throws<ArgumentOutOfRangeException>(() => TensorReductions.ErrorNorm<double>(x, x, x, 0, 0)).ParamName);
        Assert.Equal("atol", Assert.Throws<ArgumentOutOfRangeException>(() => TensorReductions.ErrorNorm<double>(x, x, x, new double[] { 1, 1, 0, 1, 1 }, 0)).ParamName);
        using var t = BatchTensor<float>.Allocate(3, 4);
        using var u = BatchTensor<float>.Allocate(3, 5);
        var ex = Assert.Throws<ArgumentException>(() => TensorReductions.ErrorNorms(t, t, u, 1e-3, 1e-3, new double[3]));
        Assert.Equal("b", ex.ParamName);
        Assert.Contains("[3, 5]", ex.Message);
        Assert.Equal("norms", Assert.Throws<ArgumentException>(() => TensorReductions.ErrorNorms(t, t, t, 1e-3, 1e-3, new double[2])).ParamName);
        Assert.Equal("atol", Assert.Throws<ArgumentException>(() => TensorReductions.ErrorNorms(t, t, t, new double[3], 1e-3, new double[3])).ParamName);
        Assert.Equal("result", Assert.Throws<ArgumentException>(() => TensorReductions.MaxAbs(t, new double[2])).ParamName);
    }
}

/// <summary>Reductions give the same bits for every SIMD width and every thread count.</summary>
[Collection(TensorSettingsCollection.Name)]
public class ReductionWidthAndThreadTests
{
    [Fact]
    public void EveryWidthAndThreadCountGivesTheSameBits()
    {
        var rng = new Random(21);
        foreach (int n in new[] { 0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 255, 1021, 16_384, 16_385, 50_001, 140_001 })
        {
            var xf = Uniform<float>(rng, n); var yf = Uniform<float>(rng, n);
            var xd = Uniform<double>(rng, n); var yd = Uniform<double>(rng, n);
            var atolPer = Enumerable.Range(0, n).Select(i => 1e-3 * (1 + i % 4)).ToArray();
            double[]? first = null;
            foreach (int w in TensorSettings.Widths)
                foreach (int threshold in new[] { int.MaxValue, 1 })
                {
                    if (n > 20_000 && w == 64 && threshold == 1) continue; // emulated 512-bit on this size is slow; covered serially
                    using var _ = TensorSettings.Use(width: w, threshold: threshold, degree: 4);
                    double[] r =
                    [
                        TensorReductions.Dot<float>(xf, yf), TensorReductions.Dot<double>(xd, yd),
                        TensorReductions.SumOfSquares<float>(xf),
                        TensorReductions.ErrorNorm<float>(xf, yf, xf, 1e-3, 1e-2), TensorReductions.ErrorNorm<double>(xd, yd, xd, atolPer, 1e-2),
                        TensorReductions.MaxAbs<float>(xf), TensorReductions.MaxAbs<double>(xd),
                        TensorReductions.IsFinite<float>(xf) ? 1 : 0,
                    ];
                    if (first is null) first = r;
                    else
                        for (int i = 0; i < r.Length; i++)
                            Assert.True(BitConverter.DoubleToInt64Bits(first[i]) == BitConverter.DoubleToInt64Bits(r[i]), $"n={n}, width {w}, threshold {threshold}, reduction {i}: {r[i]:R} vs {first[i]:R}");
                    ReductionTests.AssertSum(r[0], i => (double)xf[i] * yf[i], n, "Dot");
                }
        }
    }

    [Fact]
    public void PerSampleReductionsAreTheSameOnOneOrManyThreads()
    {
        var rng = new Random(22);
        foreach (var (batch, row) in new[] { (2, 70_001), (5, 16_384), (3000, 33), (64, 1_000) })
        {
            using var x = BatchTensor<float>.Allocate(batch, row);
            using var y = BatchTensor<float>.Allocate(batch, row);
            Uniform<float>(rng, x.Length).CopyTo(x.Span);
            Uniform<float>(rng, y.Length).CopyTo(y.Span);
            double[] Run(int threshold)
            {
                using var _ = TensorSettings.Use(threshold: threshold, degree: 4);
                var dot = new double[batch]; var norms = new double[batch]; var max = new double[batch];
                TensorReductions.Dot(x, y, dot);
                TensorReductions.ErrorNorms(x, y, x, 1e-3, 1e-3, norms);
                TensorReductions.MaxAbs(y, max);
                return [.. dot, .. norms, .. max];
            }
            var serial = Run(int.MaxValue);
            var parallel = Run(1);
            Assert.Equal(serial.Select(BitConverter.DoubleToInt64Bits), parallel.Select(BitConverter.DoubleToInt64Bits));
            for (int s = 0; s < batch; s += Math.Max(1, batch / 5))
            {
                var xr = x.Row(s).ToArray(); var yr = y.Row(s).ToArray();
                ReductionTests.AssertSum(parallel[s], i => (double)xr[i] * yr[i], row, $"row {s}");
            }
        }
    }
}
