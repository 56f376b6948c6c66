using System.Numerics;

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
/// <para>The loops follow the pattern of <c>TensorPrimitives</c> in dotnet/runtime: the widest hardware
/// vector that fits (512, then 256, then 128 bits, then a scalar loop), the tail handled by one last vector
/// that overlaps the previous one and is computed before anything is stored (which keeps in-place calls
/// correct), and one loop per term count with no test of the count inside it. Calls of at least
/// <see cref="TensorCoreSettings.ParallelThreshold"/> elements are split across cores, with identical results.</para>
/// <para>Related one-pass updates that <c>System.Numerics.Tensors.TensorPrimitives</c> already provides are
/// not duplicated here: scale <c>y = a x</c> is <c>TensorPrimitives.Multiply(x, a, y)</c>, axpy
/// <c>y = a x + y</c> is <c>TensorPrimitives.MultiplyAdd(x, a, y, y)</c>, lerp is
/// <c>TensorPrimitives.Lerp</c>. Axpby <c>y = a x + b y</c> (no single primitive) is the two-term
/// <c>LinearCombination(y, a, x, b, y)</c>, and every per-sample variant is the per-sample overload.</para>
/// <para>Thread safety: stateless static methods; safe from any thread as long as the destination is not written by another thread at the same time.</para>
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

    private static unsafe void CombineRows<T>(BatchTensor<T> destination, int count,
        ReadOnlySpan<T> c0, BatchTensor<T>? x0, ReadOnlySpan<T> c1, BatchTensor<T>? x1, ReadOnlySpan<T> c2, BatchTensor<T>? x2,
        ReadOnlySpan<T> c3, BatchTensor<T>? x3, ReadOnlySpan<T> c4, BatchTensor<T>? x4, ReadOnlySpan<T> c5, BatchTensor<T>? x5)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(destination);
        CheckTerm(destination, c0, x0, nameof(c0), nameof(x0));
        if (count > 1) CheckTerm(destination, c1, x1, nameof(c1), nameof(x1));
        if (count > 2) CheckTerm(destination, c2, x2, nameof(c2), nameof(x2));
        if (count > 3) CheckTerm(destination, c3, x3, nameof(c3), nameof(x3));
        if (count > 4) CheckTerm(destination, c4, x4, nameof(c4), nameof(x4));
        if (count > 5) CheckTerm(destination, c5, x5, nameof(c5), nameof(x5));
        if (destination.Length == 0) return;
        fixed (T* d = destination.Span)
        fixed (T* p0 = x0!.Span) fixed (T* p1 = count > 1 ? x1!.Span : default) fixed (T* p2 = count > 2 ? x2!.Span : default)
        fixed (T* p3 = count > 3 ? x3!.Span : default) fixed (T* p4 = count > 4 ? x4!.Span : default) fixed (T* p5 = count > 5 ? x5!.Span : default)
        fixed (T* k0 = c0) fixed (T* k1 = c1) fixed (T* k2 = c2) fixed (T* k3 = c3) fixed (T* k4 = c4) fixed (T* k5 = c5)
        {
            var args = new CombineArgs<T>
            {
                D = d, X0 = p0, X1 = p1, X2 = p2, X3 = p3, X4 = p4, X5 = p5,
                P0 = k0, P1 = k1, P2 = k2, P3 = k3, P4 = k4, P5 = k5,
                Length = destination.Length, RowLength = destination.RowLength,
            };
            Dispatch(ref args, count, perSample: true);
        }
    }

    private static void CheckTerm<T>(BatchTensor<T> destination, ReadOnlySpan<T> c, BatchTensor<T>? x, string cName, string xName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x, xName);
        ShapeCheck.SameShape(destination, x, xName);
        ShapeCheck.SameLength(c, destination.BatchSize, cName);
        ShapeCheck.NoPartialOverlap<T>(x.Span, destination.Span, xName);
        if (c.Overlaps(destination.Span))
            throw new ArgumentException($"The coefficients '{cName}' (length {c.Length}) overlap the destination {destination.ShapeString}; coefficients must live in separate memory.", cName);
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

    /// <summary>The kernel proper; lengths and overlaps are already checked and every input has <c>d.Length</c> elements.</summary>
    internal static unsafe void CombineUnchecked<T>(Span<T> d, in Terms<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.IsEmpty) return;
        fixed (T* pd = d)
        fixed (T* p0 = t.X0) fixed (T* p1 = t.X1) fixed (T* p2 = t.X2) fixed (T* p3 = t.X3) fixed (T* p4 = t.X4) fixed (T* p5 = t.X5)
        {
            var args = ArgsOf(t, pd, p0, p1, p2, p3, p4, p5, d.Length);
            Dispatch(ref args, t.Count, perSample: false);
        }
    }

    /// <summary>The kernel arguments of a combination with scalar coefficients over <paramref name="length"/> elements.</summary>
    private static unsafe CombineArgs<T> ArgsOf<T>(in Terms<T> t, T* d, T* x0, T* x1, T* x2, T* x3, T* x4, T* x5, int length) where T : unmanaged
        => new()
        {
            D = d, X0 = x0, X1 = x1, X2 = x2, X3 = x3, X4 = x4, X5 = x5,
            C0 = t.C0, C1 = t.C1, C2 = t.C2, C3 = t.C3, C4 = t.C4, C5 = t.C5,
            Length = length, RowLength = length,
        };
}
