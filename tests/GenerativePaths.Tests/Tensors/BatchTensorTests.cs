using System.Numerics.Tensors;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Tensors;

public class BatchTensorTests
{
    [Fact]
    public void OwnedStorageIsAlignedZeroedAndShaped()
    {
        using var t = BatchTensor<float>.Allocate(3, 4, 5);
        Assert.Equal([3, 4, 5], t.Shape);
        Assert.Equal(20, t.RowLength);
        Assert.Equal(60, t.Length);
        Assert.True(t.OwnsStorage);
        Assert.All(t.Span.ToArray(), v => Assert.Equal(0f, v));
        unsafe { fixed (float* p = t.Span) Assert.Equal(0, (long)p % 64); }
    }

    [Fact]
    public void WrapSharesTheCallersMemoryAndChecksTheLength()
    {
        var a = new double[12];
        using var t = BatchTensor<double>.Wrap(a, 2, 6);
        t.Row(1)[0] = 7;
        Assert.Equal(7, a[6]);
        Assert.False(t.OwnsStorage);
        var ex = Assert.Throws<ArgumentException>(() => BatchTensor<double>.Wrap(a, 2, 5));
        Assert.Equal("memory", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Row(2));
    }

    [Fact]
    public void RowsViewsAndRoundTrips()
    {
        using var t = BatchTensor<float>.FromRows([[1f, 2f], [3f, 4f], [5f, 6f]]);
        using var view = t.Rows(1, 2);
        Assert.Equal([2, 2], view.Shape);
        view.Row(0)[1] = 40f;
        Assert.Equal(40f, t.Row(1)[1]);
        Assert.Equal([[1f, 2f], [3f, 40f], [5f, 6f]], t.ToRows());
        using var c = t.Clone();
        Assert.True(c.HasSameShape(t));
        Assert.Equal(t.Span.ToArray(), c.Span.ToArray());
        Assert.Throws<ArgumentException>(() => BatchTensor<float>.FromRows([[1f], [1f, 2f]]));
        Assert.Throws<ArgumentException>(() => t.CopyTo(BatchTensor<float>.Allocate(3, 3)));
    }

    [Fact]
    public void TensorSpanViewHasTheBatchShapeAndSharesStorage()
    {
        using var t = BatchTensor<float>.Allocate(2, 3, 4);
        var ts = t.AsTensorSpan();
        Assert.Equal(new nint[] { 2, 3, 4 }, ts.Lengths.ToArray());
        ts[1, 2, 3] = 5f;
        Assert.Equal(5f, t.Row(1)[2 * 4 + 3]);
        Assert.Equal(5f, t.AsReadOnlyTensorSpan()[1, 2, 3]);
        Assert.Equal(24, ts.FlattenedLength);
    }

    [Fact]
    public void DisposedTensorThrows()
    {
        var t = BatchTensor<double>.Allocate(1, 2);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Span.Length);
    }
}
