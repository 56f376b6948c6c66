using GenerativePaths.Noise;
using GenerativePaths.Tensors;
using MathNet.Numerics.Distributions;
using Xunit;

namespace GenerativePaths.Tests.Noise;

public class BrownianTreeTests
{
    private static long[] Ids(int n, long first = 0) => [.. Enumerable.Range(0, n).Select(i => first + i)];

    private static double[] Inc(BrownianTree tree, double t0, double t1, int batch, int row, long firstId = 0)
    {
        using var d = BatchTensor<double>.Allocate(batch, row);
        tree.Increment(t0, t1, d, Ids(batch, firstId));
        return d.Span.ToArray();
    }

    [Fact]
    public void IncrementsAddUpOverAdjacentIntervals()
    {
        var tree = new BrownianTree(7, 0.03, 14.6);
        double[] times = [0.03, 0.0311, 0.2, 1.0 / 3, 2.5, 7.77, 14.6];
        for (int i = 0; i < times.Length; i++)
            for (int j = 0; j < times.Length; j++)
                for (int k = 0; k < times.Length; k++)
                {
                    var su = Inc(tree, times[i], times[j], 2, 37);
                    var ut = Inc(tree, times[j], times[k], 2, 37);
                    var st = Inc(tree, times[i], times[k], 2, 37);
                    for (int e = 0; e < st.Length; e++)
                        Assert.True(Math.Abs(su[e] + ut[e] - st[e]) <= 1e-14 * (1 + Math.Abs(st[e])), $"[{times[i]}, {times[j]}, {times[k]}] element {e}");
                }
        // Float destinations: to float rounding.
        using var a = BatchTensor<float>.Allocate(1, 50);
        using var b = BatchTensor<float>.Allocate(1, 50);
        using var c = BatchTensor<float>.Allocate(1, 50);
        tree.Increment(1.0, 2.0, a, [0]);
        tree.Increment(2.0, 9.0, b, [0]);
        tree.Increment(1.0, 9.0, c, [0]);
        for (int e = 0; e < 50; e++) Assert.True(Math.Abs(a.Span[e] + b.Span[e] - c.Span[e]) <= 1e-6f * (1 + Math.Abs(c.Span[e])));
    }

    [Fact]
    public void ReversedIntervalsNegateAndZeroIntervalsVanish()
    {
        var tree = new BrownianTree(3, 0, 1, depth: 10);
        var fwd = Inc(tree, 0.2, 0.7, 3, 11);
        var back = Inc(tree, 0.7, 0.2, 3, 11);
        Assert.Equal(fwd.Select(v => -v).ToArray(), back);
        Assert.All(Inc(tree, 0.5, 0.5, 3, 11), v => Assert.Equal(0, v));
        using var n = BatchTensor<double>.Allocate(3, 11);
        tree.NormalizedIncrement(0.4, 0.4, n, Ids(3));
        Assert.All(n.Span.ToArray(), v => Assert.Equal(0, v));
        Assert.Equal(0.5, tree.GridTime(0.5));
        Assert.Equal(Math.Round(0.3 * 1024) / 1024, tree.GridTime(0.3), 15);
    }

    /// <summary>Increments over disjoint intervals: each a normal of variance |t1 - t0|, the three uncorrelated (also in their squares).</summary>
    [Fact]
    public void DisjointIncrementsAreIndependentNormalsWithTheIntervalsVariance()
    {
        const int batch = 400, row = 250, n = batch * row;
        var tree = new BrownianTree(2024, 0.0, 10.0);
        (double, double)[] intervals = [(0.0, 0.7), (0.7, 3.3), (3.3, 10.0), (5.25, 5.2501)];
        var incs = intervals.Select(iv => Inc(tree, iv.Item1, iv.Item2, batch, row)).ToArray();
        for (int k = 0; k < intervals.Length; k++)
        {
            double var0 = tree.GridTime(intervals[k].Item2) - tree.GridTime(intervals[k].Item1);
            var z = incs[k].Select(v => v / Math.Sqrt(var0)).ToArray();
            double mean = z.Average(), variance = z.Select(v => (v - mean) * (v - mean)).Sum() / (n - 1);
            Assert.True(Math.Abs(mean) < 4 / Math.Sqrt(n), $"interval {k}: mean {mean}");
            Assert.True(Math.Abs(variance - 1) < 4 * Math.Sqrt(2.0 / n), $"interval {k}: variance {variance}");
            Array.Sort(z);
            double ks = 0;
            for (int i = 0; i < n; i++)
            {
                double f = Normal.CDF(0, 1, z[i]);
                ks = Math.Max(ks, Math.Max((i + 1.0) / n - f, f - (double)i / n));
            }
            Assert.True(ks * Math.Sqrt(n) < 1.628, $"interval {k}: KS {ks * Math.Sqrt(n)}");
        }
        double bound = 4 / Math.Sqrt(n);
        for (int a = 0; a < intervals.Length; a++)
            for (int b = a + 1; b < intervals.Length; b++)
            {
                Assert.True(Math.Abs(Correlation(incs[a], incs[b])) < bound, $"intervals {a}, {b}");
                Assert.True(Math.Abs(Correlation([.. incs[a].Select(v => v * v)], [.. incs[b].Select(v => v * v)])) < bound, $"squares of intervals {a}, {b}");
            }
        // Overlapping intervals are correlated as Brownian motion: corr(W(0.7) - W(0), W(3.3) - W(0)) = sqrt(0.7 / 3.3).
        var wide = Inc(tree, 0.0, 3.3, batch, row);
        Assert.True(Math.Abs(Correlation(incs[0], wide) - Math.Sqrt(0.7 / 3.3)) < bound * 2);
    }

    private static double Correlation(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }

    [Fact]
    public void NormalizedIncrementIsTheIncrementOverTheSquareRootOfItsLength()
    {
        var tree = new BrownianTree(5, 0.1, 80, depth: 30);
        using var inc = BatchTensor<float>.Allocate(4, 33);
        using var norm = BatchTensor<float>.Allocate(4, 33);
        tree.Increment(14.6, 3.2, inc, Ids(4));
        tree.NormalizedIncrement(14.6, 3.2, norm, Ids(4));
        double len = Math.Abs(tree.GridTime(3.2) - tree.GridTime(14.6));
        Assert.True(Math.Abs(len - 11.4) < 1e-6);
        for (int i = 0; i < inc.Length; i++) Assert.Equal(inc.Span[i] / Math.Sqrt(len), norm.Span[i], 1e-5);
    }

    [Fact]
    public void AnyQueryOrderAnyBatchSplitAndAnyThreadGiveTheSameValues()
    {
        var tree = new BrownianTree(11, 0, 1);
        (double, double)[] steps = [(1.0, 0.8), (0.8, 0.55), (0.55, 0.3), (0.3, 0.12), (0.12, 0.0)];
        var forward = steps.Select(s => Inc(tree, s.Item1, s.Item2, 6, 21)).ToArray();
        // Reverse order, a fresh instance, each sample on its own.
        var fresh = new BrownianTree(11, 0, 1);
        for (int k = steps.Length - 1; k >= 0; k--)
            for (int b = 0; b < 6; b++)
                Assert.Equal(forward[k].AsSpan(b * 21, 21).ToArray(), Inc(fresh, steps[k].Item1, steps[k].Item2, 1, 21, firstId: b));
        // Many threads at once on one instance, sub-batches with permuted ids.
        var results = new double[steps.Length][];
        Parallel.For(0, steps.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, job =>
        {
            int k = job % steps.Length;
            using var d = BatchTensor<double>.Allocate(3, 21);
            long[] ids = job % 2 == 0 ? [5, 0, 3] : [1, 4, 2];
            tree.Increment(steps[k].Item1, steps[k].Item2, d, ids);
            for (int r = 0; r < 3; r++)
                Assert.Equal(forward[k].AsSpan((int)ids[r] * 21, 21).ToArray(), d.Row(r).ToArray());
        });
    }

    [Fact]
    public void PerSampleSeedsAndBadArguments()
    {
        ulong[] seeds = [4, 9, 16];
        var per = new BrownianTree(seeds, 0, 2);
        using var d = BatchTensor<double>.Allocate(2, 5);
        per.Increment(0.5, 1.5, d, [2, 0]);
        Assert.Equal(Inc(new BrownianTree(16, 0, 2), 0.5, 1.5, 1, 5, firstId: 2), d.Row(0).ToArray());
        Assert.Equal(Inc(new BrownianTree(4, 0, 2), 0.5, 1.5, 1, 5, firstId: 0), d.Row(1).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => per.Increment(0.5, 1.5, d, [3, 0]));
        Assert.Equal("t1", Assert.Throws<ArgumentOutOfRangeException>(() => per.Increment(0.5, 2.5, d, [0, 1])).ParamName);
        Assert.Equal("t0", Assert.Throws<ArgumentOutOfRangeException>(() => per.Increment(double.NaN, 1, d, [0, 1])).ParamName);
        Assert.Equal("sampleIds", Assert.Throws<ArgumentException>(() => per.Increment(0, 1, d, [0])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BrownianTree(1, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BrownianTree(1, 0, 1, depth: 53));
        Assert.Throws<ArgumentException>(() => new BrownianTree(ReadOnlySpan<ulong>.Empty, 0, 1));
    }

    [Fact]
    public void ValueIsTheIncrementFromTheStartWithVarianceTheElapsedTime()
    {
        var tree = new BrownianTree(8, 1, 5);
        using var v = BatchTensor<double>.Allocate(500, 100);
        tree.Value(3.0, v, Ids(500));
        Assert.Equal(Inc(tree, 1, 3.0, 500, 100), v.Span.ToArray());
        var all = v.Span.ToArray();
        double variance = all.Select(x => x * x).Average();
        Assert.True(Math.Abs(variance - 2.0) < 4 * 2.0 * Math.Sqrt(2.0 / all.Length), $"variance {variance}");
    }

    [Fact]
    public void StartAndStepStreamsAreSeparate()
    {
        Assert.Equal(1_000_000_000, NoiseStreams.Start);
        Assert.Equal(12, NoiseStreams.Step(12));
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseStreams.Step(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseStreams.Step(NoiseStreams.Start));
        Assert.True(NoiseStreams.BrownianFirst > NoiseStreams.Start);
        var noise = new PhiloxNoise(42);
        using var start = BatchTensor<float>.Allocate(2, 16);
        using var step0 = BatchTensor<float>.Allocate(2, 16);
        noise.Fill(start, NoiseStreams.Start);
        noise.Fill(step0, NoiseStreams.Step(0));
        Assert.False(start.Span.SequenceEqual(step0.Span));
    }
}
