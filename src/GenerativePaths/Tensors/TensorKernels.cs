using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GenerativePaths.Tensors;

/// <summary>
/// Fused element-wise kernels over spans: linear combinations of up to six inputs, the update form
/// of every Euler, DDIM, Heun, multistep and Runge–Kutta step.
/// </summary>
/// <remarks>
/// <para>Every kernel makes one pass over memory and is safe in place: the destination may be the
/// very same range as any input; a partial overlap throws <see cref="ArgumentException"/>.</para>
/// <para>Each element is computed as <c>((c0*x0 + c1*x1) + c2*x2) + ...</c> with separate multiplies
/// and adds (no fused multiply-add), so the result is bit-identical for every SIMD width and for the
/// scalar fallback.</para>
/// </remarks>
public static partial class TensorKernels
{
    /// <summary><c>destination[i] = c0*x0[i]</c>.</summary>
    /// <remarks>Formula: <c>y = c0 x0</c>.</remarks>
    public static void LinearCombination<T>(Span<T> destination, T c0, ReadOnlySpan<T> x0)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Combine(destination, new Terms<T>(1, c0, x0, T.Zero, default, T.Zero, default, T.Zero, default, T.Zero, default, T.Zero, default));

    /// <summary><c>destination[i] = c0*x0[i] + c1*x1[i]</c>.</summary>
    /// <remarks>Formula: <c>y = c0 x0 + c1 x1</c>.</remarks>
    public static void LinearCombination<T>(Span<T> destination, T c0, ReadOnlySpan<T> x0, T c1, ReadOnlySpan<T> x1)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Combine(destination, new Terms<T>(2, c0, x0, c1, x1, T.Zero, default, T.Zero, default, T.Zero, default, T.Zero, default));

    /// <summary><c>destination[i] = c0*x0[i] + c1*x1[i] + c2*x2[i]</c>.</summary>
    /// <remarks>Formula: <c>y = sum_j c_j x_j</c>, j = 0..2.</remarks>
    public static void LinearCombination<T>(Span<T> destination, T c0, ReadOnlySpan<T> x0, T c1, ReadOnlySpan<T> x1, T c2, ReadOnlySpan<T> x2)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Combine(destination, new Terms<T>(3, c0, x0, c1, x1, c2, x2, T.Zero, default, T.Zero, default, T.Zero, default));

    /// <summary><c>destination[i] = sum_{j&lt;4} c_j*x_j[i]</c>.</summary>
    /// <remarks>Formula: <c>y = sum_j c_j x_j</c>, j = 0..3.</remarks>
    public static void LinearCombination<T>(Span<T> destination, T c0, ReadOnlySpan<T> x0, T c1, ReadOnlySpan<T> x1, T c2, ReadOnlySpan<T> x2, T c3, ReadOnlySpan<T> x3)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Combine(destination, new Terms<T>(4, c0, x0, c1, x1, c2, x2, c3, x3, T.Zero, default, T.Zero, default));

    /// <summary><c>destination[i] = sum_{j&lt;5} c_j*x_j[i]</c>.</summary>
    /// <remarks>Formula: <c>y = sum_j c_j x_j</c>, j = 0..4.</remarks>
    public static void LinearCombination<T>(Span<T> destination, T c0, ReadOnlySpan<T> x0, T c1, ReadOnlySpan<T> x1, T c2, ReadOnlySpan<T> x2, T c3, ReadOnlySpan<T> x3, T c4, ReadOnlySpan<T> x4)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Combine(destination, new Terms<T>(5, c0, x0, c1, x1, c2, x2, c3, x3, c4, x4, T.Zero, default));

    /// <summary><c>destination[i] = sum_{j&lt;6} c_j*x_j[i]</c>.</summary>
    /// <remarks>Formula: <c>y = sum_j c_j x_j</c>, j = 0..5.</remarks>
    public static void LinearCombination<T>(Span<T> destination, T c0, ReadOnlySpan<T> x0, T c1, ReadOnlySpan<T> x1, T c2, ReadOnlySpan<T> x2, T c3, ReadOnlySpan<T> x3, T c4, ReadOnlySpan<T> x4, T c5, ReadOnlySpan<T> x5)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Combine(destination, new Terms<T>(6, c0, x0, c1, x1, c2, x2, c3, x3, c4, x4, c5, x5));

    /// <summary>
    /// Per-sample linear combination over batched tensors: row <c>b</c> of the destination becomes
    /// <c>sum_j c_j[b] * x_j[b, :]</c>. Pass 1 to 6 (coefficients, tensor) pairs.
    /// </summary>
    /// <remarks>Formula: <c>y[b, i] = sum_j c_j[b] x_j[b, i]</c>. Coefficient spans have one entry per sample.</remarks>
    /// <exception cref="ArgumentException">A shape, a coefficient count or a term count is wrong, or an input partly overlaps the destination.</exception>
    public static void LinearCombination<T>(BatchTensor<T> destination, ReadOnlySpan<T> c0, BatchTensor<T> x0)
        where T : unmanaged, IFloatingPointIeee754<T>
        => CombineRows(destination, 1, c0, x0, default, null, default, null, default, null, default, null, default, null);

    /// <inheritdoc cref="LinearCombination{T}(BatchTensor{T}, ReadOnlySpan{T}, BatchTensor{T})"/>
    public static void LinearCombination<T>(BatchTensor<T> destination, ReadOnlySpan<T> c0, BatchTensor<T> x0, ReadOnlySpan<T> c1, BatchTensor<T> x1)
        where T : unmanaged, IFloatingPointIeee754<T>
        => CombineRows(destination, 2, c0, x0, c1, x1, default, null, default, null, default, null, default, null);

    /// <inheritdoc cref="LinearCombination{T}(BatchTensor{T}, ReadOnlySpan{T}, BatchTensor{T})"/>
    public static void LinearCombination<T>(BatchTensor<T> destination, ReadOnlySpan<T> c0, BatchTensor<T> x0, ReadOnlySpan<T> c1, BatchTensor<T> x1, ReadOnlySpan<T> c2, BatchTensor<T> x2)
        where T : unmanaged, IFloatingPointIeee754<T>
        => CombineRows(destination, 3, c0, x0, c1, x1, c2, x2, default, null, default, null, default, null);

    /// <inheritdoc cref="LinearCombination{T}(BatchTensor{T}, ReadOnlySpan{T}, BatchTensor{T})"/>
    public static void LinearCombination<T>(BatchTensor<T> destination, ReadOnlySpan<T> c0, BatchTensor<T> x0, ReadOnlySpan<T> c1, BatchTensor<T> x1, ReadOnlySpan<T> c2, BatchTensor<T> x2, ReadOnlySpan<T> c3, BatchTensor<T> x3)
        where T : unmanaged, IFloatingPointIeee754<T>
        => CombineRows(destination, 4, c0, x0, c1, x1, c2, x2, c3, x3, default, null, default, null);

    /// <inheritdoc cref="LinearCombination{T}(BatchTensor{T}, ReadOnlySpan{T}, BatchTensor{T})"/>
    public static void LinearCombination<T>(BatchTensor<T> destination, ReadOnlySpan<T> c0, BatchTensor<T> x0, ReadOnlySpan<T> c1, BatchTensor<T> x1, ReadOnlySpan<T> c2, BatchTensor<T> x2, ReadOnlySpan<T> c3, BatchTensor<T> x3, ReadOnlySpan<T> c4, BatchTensor<T> x4)
        where T : unmanaged, IFloatingPointIeee754<T>
        => CombineRows(destination, 5, c0, x0, c1, x1, c2, x2, c3, x3, c4, x4, default, null);

    /// <inheritdoc cref="LinearCombination{T}(BatchTensor{T}, ReadOnlySpan{T}, BatchTensor{T})"/>
    public static void LinearCombination<T>(BatchTensor<T> destination, ReadOnlySpan<T> c0, BatchTensor<T> x0, ReadOnlySpan<T> c1, BatchTensor<T> x1, ReadOnlySpan<T> c2, BatchTensor<T> x2, ReadOnlySpan<T> c3, BatchTensor<T> x3, ReadOnlySpan<T> c4, BatchTensor<T> x4, ReadOnlySpan<T> c5, BatchTensor<T> x5)
        where T : unmanaged, IFloatingPointIeee754<T>
        => CombineRows(destination, 6, c0, x0, c1, x1, c2, x2, c3, x3, c4, x4, c5, x5);

    private static void CombineRows<T>(BatchTensor<T> destination, int count,
        ReadOnlySpan<T> c0, BatchTensor<T>? x0, ReadOnlySpan<T> c1, BatchTensor<T>? x1, ReadOnlySpan<T> c2, BatchTensor<T>? x2,
        ReadOnlySpan<T> c3, BatchTensor<T>? x3, ReadOnlySpan<T> c4, BatchTensor<T>? x4, ReadOnlySpan<T> c5, BatchTensor<T>? x5)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(destination);
        int batch = destination.BatchSize, row = destination.RowLength;
        CheckTerm(destination, c0, x0, nameof(c0), nameof(x0));
        if (count > 1) CheckTerm(destination, c1, x1, nameof(c1), nameof(x1));
        if (count > 2) CheckTerm(destination, c2, x2, nameof(c2), nameof(x2));
        if (count > 3) CheckTerm(destination, c3, x3, nameof(c3), nameof(x3));
        if (count > 4) CheckTerm(destination, c4, x4, nameof(c4), nameof(x4));
        if (count > 5) CheckTerm(destination, c5, x5, nameof(c5), nameof(x5));
        Span<T> d = destination.Span;
        for (int b = 0; b < batch; b++)
        {
            int o = b * row;
            var terms = new Terms<T>(count,
                c0[b], x0!.Span.Slice(o, row),
                count > 1 ? c1[b] : T.Zero, count > 1 ? x1!.Span.Slice(o, row) : default,
                count > 2 ? c2[b] : T.Zero, count > 2 ? x2!.Span.Slice(o, row) : default,
                count > 3 ? c3[b] : T.Zero, count > 3 ? x3!.Span.Slice(o, row) : default,
                count > 4 ? c4[b] : T.Zero, count > 4 ? x4!.Span.Slice(o, row) : default,
                count > 5 ? c5[b] : T.Zero, count > 5 ? x5!.Span.Slice(o, row) : default);
            CombineUnchecked(d.Slice(o, row), terms);
        }
    }

    private static void CheckTerm<T>(BatchTensor<T> destination, ReadOnlySpan<T> c, BatchTensor<T>? x, string cName, string xName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x, xName);
        ShapeCheck.SameShape(destination, x, xName);
        ShapeCheck.SameLength(c, destination.BatchSize, cName);
        ShapeCheck.NoPartialOverlap<T>(x.Span, destination.Span, xName);
    }

    /// <summary>Up to six (coefficient, input) pairs of one linear combination.</summary>
    internal readonly ref struct Terms<T> where T : unmanaged
    {
        public readonly int Count;
        public readonly T C0, C1, C2, C3, C4, C5;
        public readonly ReadOnlySpan<T> X0, X1, X2, X3, X4, X5;

        public Terms(int count, T c0, ReadOnlySpan<T> x0, T c1, ReadOnlySpan<T> x1, T c2, ReadOnlySpan<T> x2,
            T c3, ReadOnlySpan<T> x3, T c4, ReadOnlySpan<T> x4, T c5, ReadOnlySpan<T> x5)
        {
            Count = count;
            C0 = c0; C1 = c1; C2 = c2; C3 = c3; C4 = c4; C5 = c5;
            X0 = x0; X1 = x1; X2 = x2; X3 = x3; X4 = x4; X5 = x5;
        }
    }

    private static void Combine<T>(Span<T> destination, in Terms<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = t.X0.Length;
        Check(destination, t.X0, n, "x0");
        if (t.Count > 1) Check(destination, t.X1, n, "x1");
        if (t.Count > 2) Check(destination, t.X2, n, "x2");
        if (t.Count > 3) Check(destination, t.X3, n, "x3");
        if (t.Count > 4) Check(destination, t.X4, n, "x4");
        if (t.Count > 5) Check(destination, t.X5, n, "x5");
        CombineUnchecked(destination.Slice(0, n), t);
    }

    private static void Check<T>(Span<T> destination, ReadOnlySpan<T> x, int n, string name)
    {
        ShapeCheck.SameLength(x, n, name);
        ShapeCheck.Destination(destination, n);
        ShapeCheck.NoPartialOverlap(x, destination.Slice(0, n), name);
    }

    /// <summary>The kernel proper; lengths and overlaps are already checked.</summary>
    internal static void CombineUnchecked<T>(Span<T> d, in Terms<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = d.Length;
        int i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<T>.Count)
        {
            int w = Vector<T>.Count;
            var v0 = new Vector<T>(t.C0); var v1 = new Vector<T>(t.C1); var v2 = new Vector<T>(t.C2);
            var v3 = new Vector<T>(t.C3); var v4 = new Vector<T>(t.C4); var v5 = new Vector<T>(t.C5);
            for (; i <= n - w; i += w)
            {
                var acc = v0 * new Vector<T>(t.X0.Slice(i, w));
                if (t.Count > 1) acc += v1 * new Vector<T>(t.X1.Slice(i, w));
                if (t.Count > 2) acc += v2 * new Vector<T>(t.X2.Slice(i, w));
                if (t.Count > 3) acc += v3 * new Vector<T>(t.X3.Slice(i, w));
                if (t.Count > 4) acc += v4 * new Vector<T>(t.X4.Slice(i, w));
                if (t.Count > 5) acc += v5 * new Vector<T>(t.X5.Slice(i, w));
                acc.CopyTo(d.Slice(i, w));
            }
        }
        for (; i < n; i++)
        {
            T acc = t.C0 * t.X0[i];
            if (t.Count > 1) acc += t.C1 * t.X1[i];
            if (t.Count > 2) acc += t.C2 * t.X2[i];
            if (t.Count > 3) acc += t.C3 * t.X3[i];
            if (t.Count > 4) acc += t.C4 * t.X4[i];
            if (t.Count > 5) acc += t.C5 * t.X5[i];
            d[i] = acc;
        }
    }
}
