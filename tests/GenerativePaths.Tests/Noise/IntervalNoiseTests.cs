using GenerativePaths.Noise;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Noise;

/// <summary>Noise asked for by interval: the interval-keyed replay and the Brownian noise source.</summary>
public class IntervalNoiseTests
{
    [Fact]
    public void ReplayByIntervalPassesOverDrawsTheSamplerDoesNotNeed()
    {
        double[][][] tape = [[[1.0]], [[2.0]], [[3.0]], [[4.0]]];
        var replay = new ReplayNoise(tape, [(5.0, 4.0), (4.0, 3.0), (3.0, 2.0), (2.0, 0.0)]);
        using var t = BatchTensor<double>.Allocate(1, 1);
        // The peer's draws for (5, 4) and (2, 0) were multiplied by zero; the sampler asks only for the other two.
        replay.FillInterval(t, 4.0, 3.0, 0, [0]);
        Assert.Equal(2.0, t.Span[0]);
        replay.FillInterval(t, 3.0 * (1 + 1e-7), 2.0, 0, [0]); // a float32 peer's level matches within the tolerance
        Assert.Equal(3.0, t.Span[0]);
        Assert.Equal(2, replay.Consumed);
        Assert.Equal(1, replay.Skipped);
        Assert.Equal(1, replay.Remaining);
        // An interval the tape does not hold (further on) is an error naming it; the cursor does not move.
        var e = Assert.Throws<InvalidOperationException>(() => replay.FillInterval(t, 4.0, 3.0, 0, [0]));
        Assert.Contains("(4, 3)", e.Message);
        // A plain request takes the next tensor in order.
        replay.Fill(t, 0);
        Assert.Equal(4.0, t.Span[0]);
        Assert.Throws<ArgumentException>(() => new ReplayNoise(tape, [(1.0, 0.5)]));
    }

    [Fact]
    public void ReplayWithoutIntervalsServesIntervalRequestsInOrder()
    {
        var replay = new ReplayNoise([[[1.0]], [[2.0]]]);
        using var t = BatchTensor<double>.Allocate(1, 1);
        replay.FillInterval(t, 9.0, 8.0, 0, [0]);
        Assert.Equal(1.0, t.Span[0]);
        Assert.False(replay.HasIntervals);
    }

    [Fact]
    public void BrownianNoiseIsTheNormalizedIncrementOfItsTree()
    {
        var noise = new BrownianNoise(11, 0.1, 10.0, depth: 20);
        using var a = BatchTensor<double>.Allocate(3, 5);
        using var b = BatchTensor<double>.Allocate(3, 5);
        long[] ids = [0, 4, 9];
        noise.FillInterval(a, 5.0, 2.0, 3, ids);
        noise.Tree.Increment(5.0, 2.0, b, ids);
        double scale = 1 / Math.Sqrt(Math.Abs(noise.Tree.GridTime(2.0) - noise.Tree.GridTime(5.0)));
        for (int i = 0; i < a.Length; i++) Assert.Equal(b.Span[i] * scale, a.Span[i], 12);

        // Refinement consistency: the two halves' increments, un-normalized, add up to the whole one's.
        using var h1 = BatchTensor<double>.Allocate(3, 5);
        using var h2 = BatchTensor<double>.Allocate(3, 5);
        noise.FillInterval(h1, 5.0, 3.0, 0, ids);
        noise.FillInterval(h2, 3.0, 2.0, 0, ids);
        double g5 = noise.Tree.GridTime(5.0), g3 = noise.Tree.GridTime(3.0), g2 = noise.Tree.GridTime(2.0);
        for (int i = 0; i < a.Length; i++)
            Assert.Equal(a.Span[i] * Math.Sqrt(g5 - g2), h1.Span[i] * Math.Sqrt(g5 - g3) + h2.Span[i] * Math.Sqrt(g3 - g2), 10);

        // A degenerate interval (both ends clamped to the top) falls back to independent normals of the stream, never zeros.
        using var d = BatchTensor<double>.Allocate(3, 5);
        using var philox = BatchTensor<double>.Allocate(3, 5);
        noise.FillInterval(d, 50.0, 20.0, 7, ids);
        new PhiloxNoise(11).Fill(philox, 7, ids);
        Assert.Equal(philox.Span.ToArray(), d.Span.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => noise.FillInterval(d, double.NaN, 1.0, 0, ids));
    }

    [Fact]
    public void ForScheduleCoversTheSchedulesNoiseRange()
    {
        var path = new GenerativePaths.Paths.VarianceExplodingPath(0, 14.6);
        var schedule = new GenerativePaths.Schedules.StepSchedule(path, new[] { 14.6, 3.0, 0.03, 0.0 }.Select(s => new GenerativePaths.Schedules.SchedulePoint(1, s, s)));
        var noise = BrownianNoise.ForSchedule(1, schedule);
        Assert.Equal(0.03, noise.Tree.TMin);
        Assert.Equal(14.6, noise.Tree.TMax);
        var flat = new GenerativePaths.Schedules.StepSchedule(path, new[] { 1.0, 0.0 }.Select(s => new GenerativePaths.Schedules.SchedulePoint(1, s, s)));
        Assert.Throws<ArgumentException>(() => BrownianNoise.ForSchedule(1, flat));
    }
}
