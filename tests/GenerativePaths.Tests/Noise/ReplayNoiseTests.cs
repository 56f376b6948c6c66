using GenerativePaths.Noise;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Noise;

public class ReplayNoiseTests
{
    [Fact]
    public void HandsOutTheTapeInOrderThenThrowsWhenExhausted()
    {
        double[][][] tape =
        [
            [[1.0, 2.0], [3.0, 4.0]],
            [[-1.5, 0.25], [1e-3, 7.0]],
        ];
        var replay = new ReplayNoise(tape);
        Assert.Equal(2, replay.Remaining);
        using var t = BatchTensor<float>.Allocate(2, 2);
        replay.Fill(t, stream: 99);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, t.Span.ToArray());
        replay.Fill(t, stream: 0);
        Assert.Equal(new[] { -1.5f, 0.25f, 1e-3f, 7f }, t.Span.ToArray());
        Assert.Equal(2, replay.Consumed);
        Assert.Equal(0, replay.Remaining);
        var ex = Assert.Throws<InvalidOperationException>(() => replay.Fill(t, stream: 5));
        Assert.Contains("exhausted", ex.Message);
        Assert.Contains("2", ex.Message);
    }

    [Fact]
    public void WrongShapeThrowsNamingTheDestination()
    {
        var replay = new ReplayNoise([[[1.0, 2.0, 3.0]]]);
        using var t = BatchTensor<double>.Allocate(1, 2);
        var ex = Assert.Throws<ArgumentException>(() => replay.Fill(t, 0));
        Assert.Equal("destination", ex.ParamName);
        Assert.Contains("[1, 2]", ex.Message);
    }
}
