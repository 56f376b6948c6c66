using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace GenerativePaths.Tensors;

/// <summary>
/// A batched, dense, contiguous tensor of shape <c>[batch, ...sampleShape]</c>: one row of
/// <see cref="RowLength"/> elements per sample, rows stored one after another.
/// </summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>; any other element type (e.g. <see cref="Half"/>) throws
/// <see cref="NotSupportedException"/> when a tensor is allocated or wrapped (see <see cref="IsSupported"/>).</typeparam>
/// <remarks>
/// <para>Element <c>(b, i)</c> of the flattened sample lives at <c>Span[b * RowLength + i]</c>.</para>
/// <para>Storage is either owned (a 64-byte aligned pinned array, released by <see cref="Dispose"/>)
/// or a view over the caller's <see cref="Memory{T}"/> or array, made without a copy
/// (<see cref="Wrap(Memory{T}, int, int[])"/>); disposing a view releases nothing.</para>
/// <para>The tensor never changes shape after construction. It is not thread-safe for writes, but
/// distinct rows may be written from different threads.</para>
/// </remarks>
public sealed class BatchTensor<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _sampleShape;
    private readonly bool _owned;
    private bool _disposed;

    /// <summary>A counter a sampler state bumps on every write it makes to this tensor (its guard against reading a tensor that was
    /// overwritten since a denoised estimate was taken from it).</summary>
    internal long WriteVersion;
    private Memory<T> _memory;

    private BatchTensor(Memory<T> memory, bool owned, int batchSize, int[] sampleShape, int rowLength)
    {
        ThrowIfUnsupported();
        _memory = memory;
        _owned = owned;
        BatchSize = batchSize;
        _sampleShape = sampleShape;
        RowLength = rowLength;
    }

    /// <summary>
    /// True when <typeparamref name="T"/> is an element type the tensor core supports (<see cref="float"/> or
    /// <see cref="double"/>); <see cref="Allocate"/> and <see cref="Wrap"/> throw for any other.
    /// </summary>
    public static bool IsSupported => SimdElement.IsSupported<T>();

    private static void ThrowIfUnsupported() => SimdElement.ThrowIfUnsupported<T>($"BatchTensor<{typeof(T).Name}>");

    /// <summary>The combination <c>c x</c>, evaluated later in one fused pass (see <see cref="TensorCombination{T}"/>); nothing is computed here.</summary>
    public static TensorCombination<T> operator *(double coefficient, BatchTensor<T> tensor) => TensorCombination<T>.Of(coefficient, tensor);

    /// <summary>The combination <c>c x</c> (see <see cref="TensorCombination{T}"/>).</summary>
    public static TensorCombination<T> operator *(BatchTensor<T> tensor, double coefficient) => TensorCombination<T>.Of(coefficient, tensor);

    /// <summary>The combination <c>c[b] x[b]</c> with one coefficient per row (see <see cref="TensorCombination{T}"/>).</summary>
    public static TensorCombination<T> operator *(SampleCoefficients coefficients, BatchTensor<T> tensor) => TensorCombination<T>.Of(coefficients, tensor);

    /// <summary>The combination <c>-x</c> (see <see cref="TensorCombination{T}"/>).</summary>
    public static TensorCombination<T> operator -(BatchTensor<T> tensor) => TensorCombination<T>.Of(-1.0, tensor);

    /// <summary>Number of samples (rows).</summary>
    public int BatchSize { get; }

    /// <summary>Number of elements in one sample: the product of <see cref="SampleShape"/>.</summary>
    public int RowLength { get; }

    /// <summary>Total number of elements, <c>BatchSize * RowLength</c>.</summary>
    public int Length => BatchSize * RowLength;

    /// <summary>The shape of one sample (without the batch dimension).</summary>
    public ReadOnlySpan<int> SampleShape => _sampleShape;

    /// <summary>The full shape <c>[batch, ...sampleShape]</c> as a new array.</summary>
    public int[] Shape => [BatchSize, .. _sampleShape];

    /// <summary>True when the storage belongs to this tensor (and is freed by <see cref="Dispose"/>).</summary>
    public bool OwnsStorage => _owned;

    /// <summary>All elements, row-major.</summary>
    public Span<T> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _memory.Span;
        }
    }

    /// <summary>All elements as <see cref="Memory{T}"/>.</summary>
    public Memory<T> Memory
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _memory;
        }
    }

    /// <summary>A <see cref="TensorSpan{T}"/> of shape <c>[batch, ...sampleShape]</c> over this tensor's elements, without a copy.</summary>
    /// <remarks>For passing the batch to <c>System.Numerics.Tensors</c> operations that take tensor spans.</remarks>
    public TensorSpan<T> AsTensorSpan()
    {
        Span<nint> lengths = stackalloc nint[1 + _sampleShape.Length];
        FillLengths(lengths);
        return new TensorSpan<T>(Span, lengths, default);
    }

    /// <summary>A read-only <see cref="ReadOnlyTensorSpan{T}"/> of shape <c>[batch, ...sampleShape]</c>, without a copy.</summary>
    public ReadOnlyTensorSpan<T> AsReadOnlyTensorSpan()
    {
        Span<nint> lengths = stackalloc nint[1 + _sampleShape.Length];
        FillLengths(lengths);
        return new ReadOnlyTensorSpan<T>((ReadOnlySpan<T>)Span, lengths, default);
    }

    private void FillLengths(Span<nint> lengths)
    {
        lengths[0] = BatchSize;
        for (int i = 0; i < _sampleShape.Length; i++) lengths[i + 1] = _sampleShape[i];
    }

    /// <summary>The elements of sample <paramref name="index"/>.</summary>
    public Span<T> Row(int index)
    {
        if ((uint)index >= (uint)BatchSize)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Row index must be in [0, {BatchSize}).");
        return Span.Slice(index * RowLength, RowLength);
    }

    /// <summary>A view of rows <c>[start, start + count)</c> sharing this tensor's storage.</summary>
    public BatchTensor<T> Rows(int start, int count)
    {
        if ((uint)start > (uint)BatchSize || (uint)count > (uint)(BatchSize - start))
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows [{start}, {start + count}) are outside a batch of {BatchSize}.");
        return new BatchTensor<T>(_memory.Slice(start * RowLength, count * RowLength), false, count, _sampleShape, RowLength);
    }

    /// <summary>Allocates a zero-filled tensor with owned, 64-byte aligned native storage.</summary>
    /// <param name="batchSize">Number of samples, at least 0.</param>
    /// <param name="sampleShape">Shape of one sample; every dimension at least 0. Empty means a scalar per sample.</param>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not <see cref="float"/> or <see cref="double"/>.</exception>
    public static BatchTensor<T> Allocate(int batchSize, params int[] sampleShape)
    {
        ThrowIfUnsupported();
        int rowLength = CheckShape(batchSize, sampleShape);
        var memory = AlignedStorage.Allocate<T>(checked(batchSize * rowLength));
        return new BatchTensor<T>(memory, true, batchSize, (int[])sampleShape.Clone(), rowLength);
    }

    /// <summary>Allocates a tensor with the same shape as <paramref name="like"/>.</summary>
    public static BatchTensor<T> AllocateLike<TOther>(BatchTensor<TOther> like)
        where TOther : unmanaged, IFloatingPointIeee754<TOther>
        => Allocate(like.BatchSize, like._sampleShape);

    /// <summary>Wraps the caller's memory as a tensor without copying.</summary>
    /// <exception cref="ArgumentException">The memory length differs from <c>batchSize * prod(sampleShape)</c>.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not <see cref="float"/> or <see cref="double"/>.</exception>
    public static BatchTensor<T> Wrap(Memory<T> memory, int batchSize, params int[] sampleShape)
    {
        ThrowIfUnsupported();
        int rowLength = CheckShape(batchSize, sampleShape);
        if (memory.Length != checked(batchSize * rowLength))
            throw new ArgumentException(
                $"Memory of length {memory.Length} does not hold a tensor of shape [{batchSize}, {string.Join(", ", sampleShape)}] ({batchSize * rowLength} elements).",
                nameof(memory));
        return new BatchTensor<T>(memory, false, batchSize, (int[])sampleShape.Clone(), rowLength);
    }

    /// <summary>Wraps a jagged array <c>rows[b][i]</c> by copying it into a new owned tensor of shape <c>[rows.Length, rowLength]</c>.</summary>
    /// <exception cref="ArgumentException">The rows have different lengths.</exception>
    public static BatchTensor<T> FromRows(IReadOnlyList<IReadOnlyList<T>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int d = rows.Count == 0 ? 0 : rows[0].Count;
        var t = Allocate(rows.Count, d);
        for (int b = 0; b < rows.Count; b++)
        {
            if (rows[b].Count != d)
                throw new ArgumentException($"Row {b} has {rows[b].Count} elements; row 0 has {d}.", nameof(rows));
            var row = t.Row(b);
            for (int i = 0; i < d; i++) row[i] = rows[b][i];
        }
        return t;
    }

    /// <summary>Copies the tensor into a new jagged array, one array per sample.</summary>
    public T[][] ToRows()
    {
        var result = new T[BatchSize][];
        for (int b = 0; b < BatchSize; b++) result[b] = Row(b).ToArray();
        return result;
    }

    /// <summary>Copies all elements into <paramref name="destination"/>, which must have the same shape.</summary>
    public void CopyTo(BatchTensor<T> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ShapeCheck.SameShape(this, destination, nameof(destination));
        Span.CopyTo(destination.Span);
    }

    /// <summary>A new owned tensor with a copy of this one's elements.</summary>
    public BatchTensor<T> Clone()
    {
        var t = Allocate(BatchSize, _sampleShape);
        Span.CopyTo(t.Span);
        return t;
    }

    /// <summary>True when <paramref name="other"/> has the same batch size and sample shape.</summary>
    public bool HasSameShape<TOther>(BatchTensor<TOther> other)
        where TOther : unmanaged, IFloatingPointIeee754<TOther>
        => other.BatchSize == BatchSize && other.SampleShape.SequenceEqual(_sampleShape);

    /// <summary>The shape as text, e.g. <c>[2, 4, 64, 64]</c>.</summary>
    public string ShapeString => "[" + string.Join(", ", Shape) + "]";

    /// <inheritdoc/>
    public override string ToString() => $"BatchTensor<{typeof(T).Name}>{ShapeString}";

    /// <summary>Frees owned storage. Views release nothing. Using the tensor afterwards throws.</summary>
    public void Dispose()
    {
        _disposed = true;
        _memory = Memory<T>.Empty;
    }

    private static int CheckShape(int batchSize, int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(sampleShape);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        long n = 1;
        for (int i = 0; i < sampleShape.Length; i++)
        {
            if (sampleShape[i] < 0)
                throw new ArgumentOutOfRangeException(nameof(sampleShape), $"Dimension {i} of the sample shape is negative ({sampleShape[i]}).");
            n *= sampleShape[i];
            if (n * Math.Max(batchSize, 1) > Array.MaxLength)
                throw new ArgumentOutOfRangeException(nameof(sampleShape), "The tensor has more elements than a span can address.");
        }
        return (int)n;
    }
}

/// <summary>
/// Owned storage: a pinned array on the pinned object heap, sliced so that element 0 sits on a
/// 64-byte boundary (one AVX-512 vector). The garbage collector frees it once no tensor or span refers to it,
/// so a span that outlives <see cref="BatchTensor{T}.Dispose"/> never points at freed memory.
/// </summary>
/// <remarks>
/// Successive allocations start at different 64-byte offsets within a 4 KiB page ("cache colouring"):
/// large tensors of the same size would otherwise all begin at the same page offset, so that element
/// <c>i</c> of every input and of the output of a multi-input kernel falls into the same cache set and the
/// same 4 KiB store/load alias class. Only tensors of at least <see cref="ColouringThresholdBytes"/> are
/// coloured (at most 4 KiB of padding each, under 7% of their size); smaller ones get just the 64-byte
/// alignment, so a small tensor's allocation does not depend on how many tensors came before it.
/// </remarks>
internal static class AlignedStorage
{
    private static int s_colour;

    /// <summary>Tensors at least this large (in bytes) are cache-coloured.</summary>
    public const int ColouringThresholdBytes = 64 * 1024;

    public static unsafe Memory<T> Allocate<T>(int length) where T : unmanaged
    {
        if (length == 0) return Memory<T>.Empty;
        // 0..63 lines of 64 bytes, visited in a scattered order (7 is odd, so all 64 colours occur).
        int colourBytes = (long)length * sizeof(T) >= ColouringThresholdBytes
            ? ((Interlocked.Increment(ref s_colour) * 7) & 63) * 64
            : 0;
        int pad = (64 + colourBytes) / sizeof(T);
        var array = GC.AllocateArray<T>(length + pad, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref array[0]);
        int offset = ((int)((64 - (address & 63)) & 63) + colourBytes) / sizeof(T);
        return new Memory<T>(array, offset, length);
    }
}
