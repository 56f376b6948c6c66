using System.Numerics;

namespace GenerativePaths.Tensors;

/// <summary>
/// Reductions for step-size control and diagnostics: scaled RMS error norms, sums of squares,
/// dot products, max-abs and finite checks, over a whole span or per sample of a batch.
/// </summary>
/// <remarks>
/// <para>Sums accumulate in <see cref="double"/> in a fixed order that depends only on the length:
/// element <c>i</c> of a chunk of <see cref="ChunkLength"/> elements goes to accumulator lane
/// <c>i mod 8</c>; lanes are combined pairwise, <c>((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7))</c>, and
/// chunk partials are added in chunk order, starting from 0. Per-sample reductions chunk each row from
/// its own start. The result is therefore bit-identical for every SIMD width (the vector loops of the kernel
/// driver hold the eight lanes in one 512-bit, two 256-bit or four 128-bit accumulators) and every thread count (chunks
/// are the unit of parallel work; see <see cref="TensorCoreSettings.ParallelThreshold"/>).</para>
/// <para>Max-abs and the finite checks do not depend on order. The finite check multiplies every element by
/// zero and sums the products in the element type, which stays zero unless an element is NaN or infinite:
/// one multiply and one add per element.</para>
/// </remarks>
public static partial class TensorReductions
{
    /// <summary>Elements per reduction chunk; chunks are the unit of parallel work.</summary>
    internal const int ChunkLength = 16384;

    /// <summary>
    /// The scaled RMS norm used for step-size control (Hairer, Nørsett and Wanner, <i>Solving Ordinary
    /// Differential Equations I</i>, eq. II.4.11).
    /// </summary>
    /// <remarks>Formula: <c>sqrt( (1/n) sum_i ( e_i / (atol + rtol * max(|a_i|, |b_i|)) )^2 )</c>; 0 for an empty span.</remarks>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A tolerance is negative or both are zero.</exception>
    public static unsafe double ErrorNorm<T>(ReadOnlySpan<T> error, ReadOnlySpan<T> a, ReadOnlySpan<T> b, double atol, double rtol)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckTolerances(atol, rtol);
        ShapeCheck.SameLength(a, error.Length, nameof(a));
        ShapeCheck.SameLength(b, error.Length, nameof(b));
        if (error.Length == 0) return 0;
        double sum;
        fixed (T* pe = error) fixed (T* pa = a) fixed (T* pb = b)
            ReduceRows(new Summed<ErrorTerms<T, StoredError<T>, SharedTolerance, FlagOff>>(new(new StoredError<T>(pe), pa, pb, new SharedTolerance(atol), rtol)), 1, error.Length, &sum);
        return Math.Sqrt(sum / error.Length);
    }

    /// <summary>As <see cref="ErrorNorm{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, double, double)"/> with a per-component absolute tolerance.</summary>
    /// <remarks>Formula: <c>sqrt( (1/n) sum_i ( e_i / (atol_i + rtol * max(|a_i|, |b_i|)) )^2 )</c>.</remarks>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A tolerance is negative, or some <c>atol_i</c> and <paramref name="rtol"/> are both zero.</exception>
    public static unsafe double ErrorNorm<T>(ReadOnlySpan<T> error, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<double> atol, double rtol)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeCheck.SameLength(a, error.Length, nameof(a));
        ShapeCheck.SameLength(b, error.Length, nameof(b));
        ShapeCheck.SameLength(atol, error.Length, nameof(atol));
        CheckTolerances(atol, rtol);
        if (error.Length == 0) return 0;
        double sum;
        fixed (T* pe = error) fixed (T* pa = a) fixed (T* pb = b) fixed (double* pt = atol)
            ReduceRows(new Summed<ErrorTerms<T, StoredError<T>, ComponentTolerance, FlagOff>>(new(new StoredError<T>(pe), pa, pb, new ComponentTolerance(pt), rtol)), 1, error.Length, &sum);
        return Math.Sqrt(sum / error.Length);
    }

    /// <summary>Per-sample scaled RMS error norms: <c>norms[b]</c> is the norm of row <c>b</c>.</summary>
    /// <remarks>Formula: <c>norms[s] = sqrt( (1/D) sum_i ( e[s,i] / (atol + rtol * max(|a[s,i]|, |b[s,i]|)) )^2 )</c>, D the row length; 0 when D = 0.</remarks>
    /// <exception cref="ArgumentException">A shape differs from <paramref name="error"/>'s, or <paramref name="norms"/> is shorter than the batch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A tolerance is negative or both are zero.</exception>
    public static unsafe void ErrorNorms<T>(BatchTensor<T> error, BatchTensor<T> a, BatchTensor<T> b, double atol, double rtol, Span<double> norms)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNormShapes(error, a, b, norms);
        CheckTolerances(atol, rtol);
        int d = error.RowLength;
        fixed (T* pe = error.Span) fixed (T* pa = a.Span) fixed (T* pb = b.Span) fixed (double* pn = norms)
            ReduceRows(new Summed<ErrorTerms<T, StoredError<T>, SharedTolerance, FlagOff>>(new(new StoredError<T>(pe), pa, pb, new SharedTolerance(atol), rtol)), error.BatchSize, d, pn);
        for (int s = 0; s < error.BatchSize; s++) norms[s] = d == 0 ? 0 : Math.Sqrt(norms[s] / d);
    }

    /// <summary>Per-sample scaled RMS error norms with a per-component absolute tolerance shared by all samples.</summary>
    /// <remarks>Formula: <c>norms[s] = sqrt( (1/D) sum_i ( e[s,i] / (atol_i + rtol * max(|a[s,i]|, |b[s,i]|)) )^2 )</c>, <c>atol</c> of length D (the row length).</remarks>
    /// <exception cref="ArgumentException">A shape differs, <paramref name="atol"/> is not one row long, or <paramref name="norms"/> is shorter than the batch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A tolerance is negative, or some <c>atol_i</c> and <paramref name="rtol"/> are both zero.</exception>
    public static unsafe void ErrorNorms<T>(BatchTensor<T> error, BatchTensor<T> a, BatchTensor<T> b, ReadOnlySpan<double> atol, double rtol, Span<double> norms)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNormShapes(error, a, b, norms);
        ShapeCheck.SameLength(atol, error.RowLength, nameof(atol));
        CheckTolerances(atol, rtol);
        int d = error.RowLength;
        fixed (T* pe = error.Span) fixed (T* pa = a.Span) fixed (T* pb = b.Span) fixed (double* pt = atol) fixed (double* pn = norms)
            ReduceRows(new Summed<ErrorTerms<T, StoredError<T>, ComponentTolerance, FlagOff>>(new(new StoredError<T>(pe), pa, pb, new ComponentTolerance(pt), rtol)), error.BatchSize, d, pn);
        for (int s = 0; s < error.BatchSize; s++) norms[s] = d == 0 ? 0 : Math.Sqrt(norms[s] / d);
    }

    /// <summary>The sum of squares <c>sum_i x_i^2</c>, accumulated in double.</summary>
    public static double SumOfSquares<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => Dot(x, x);

    /// <summary>The dot product <c>sum_i x_i y_i</c>, accumulated in double.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static unsafe double Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeCheck.SameLength(y, x.Length, nameof(y));
        if (x.Length == 0) return 0;
        double sum;
        fixed (T* px = x) fixed (T* py = y)
            ReduceRows(new Summed<DotTerms<T>>(new DotTerms<T>(px, py)), 1, x.Length, &sum);
        return sum;
    }

    /// <summary>Per-sample sums of squares: <c>result[b] = sum_i x[b,i]^2</c>.</summary>
    public static void SumOfSquares<T>(BatchTensor<T> x, Span<double> result) where T : unmanaged, IFloatingPointIeee754<T>
        => Dot(x, x, result);

    /// <summary>Per-sample dot products: <c>result[b] = sum_i x[b,i] y[b,i]</c>.</summary>
    /// <exception cref="ArgumentException">The shapes differ, or <paramref name="result"/> is shorter than the batch.</exception>
    public static unsafe void Dot<T>(BatchTensor<T> x, BatchTensor<T> y, Span<double> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ShapeCheck.SameShape(x, y, nameof(y));
        ShapeCheck.Destination(result, x.BatchSize, nameof(result));
        fixed (T* px = x.Span) fixed (T* py = y.Span) fixed (double* pr = result)
            ReduceRows(new Summed<DotTerms<T>>(new DotTerms<T>(px, py)), x.BatchSize, x.RowLength, pr);
    }

    /// <summary>The largest absolute value, <c>max_i |x_i|</c> (0 for an empty span, NaN if any element is NaN).</summary>
    public static unsafe double MaxAbs<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length == 0) return 0;
        double m;
        fixed (T* p = x) ReduceRows(new MaxAbsReducer<T>(p), 1, x.Length, &m);
        return m;
    }

    /// <summary>Per-sample max-abs: <c>result[b] = max_i |x[b,i]|</c> (NaN for a row holding a NaN).</summary>
    /// <exception cref="ArgumentException"><paramref name="result"/> is shorter than the batch.</exception>
    public static unsafe void MaxAbs<T>(BatchTensor<T> x, Span<double> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ShapeCheck.Destination(result, x.BatchSize, nameof(result));
        fixed (T* p = x.Span) fixed (double* pr = result)
            ReduceRows(new MaxAbsReducer<T>(p), x.BatchSize, x.RowLength, pr);
    }

    /// <summary>True when every element is finite (no NaN, no infinity).</summary>
    public static unsafe bool IsFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length == 0) return true;
        double flag;
        fixed (T* p = x) ReduceRows(new FiniteReducer<T>(p), 1, x.Length, &flag);
        return flag == 0;
    }

    /// <summary>Per-sample finite check: <c>result[b]</c> is true when row <c>b</c> holds no NaN and no infinity.</summary>
    /// <returns>The number of rows that are not finite.</returns>
    /// <exception cref="ArgumentException"><paramref name="result"/> is shorter than the batch.</exception>
    public static unsafe int IsFinite<T>(BatchTensor<T> x, Span<bool> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ShapeCheck.Destination(result, x.BatchSize, nameof(result));
        int bad = 0;
        for (int s = 0; s < x.BatchSize; s++)
        {
            result[s] = IsFinite<T>(x.Row(s));
            if (!result[s]) bad++;
        }
        return bad;
    }

    /// <summary>The index of the first sample containing a NaN or an infinity, or -1 when all are finite.</summary>
    /// <remarks>One (possibly parallel) pass over the whole tensor; the rows are searched only when it finds something.</remarks>
    public static int FirstNonFiniteSample<T>(BatchTensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        if (IsFinite<T>(x.Span)) return -1;
        for (int s = 0; s < x.BatchSize; s++)
            if (!IsFinite<T>(x.Row(s))) return s;
        return -1;
    }

    private static void CheckNormShapes<T>(BatchTensor<T> error, BatchTensor<T> a, BatchTensor<T> b, Span<double> norms)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(error);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ShapeCheck.SameShape(error, a, nameof(a));
        ShapeCheck.SameShape(error, b, nameof(b));
        ShapeCheck.Destination(norms, error.BatchSize, nameof(norms));
    }

    private static void CheckTolerances(double atol, double rtol)
    {
        if (!(atol >= 0) || double.IsInfinity(atol)) throw new ArgumentOutOfRangeException(nameof(atol), atol, "The absolute tolerance must be finite and non-negative.");
        if (!(rtol >= 0) || double.IsInfinity(rtol)) throw new ArgumentOutOfRangeException(nameof(rtol), rtol, "The relative tolerance must be finite and non-negative.");
        if (atol == 0 && rtol == 0) throw new ArgumentOutOfRangeException(nameof(atol), "The absolute and relative tolerances cannot both be zero.");
    }

    private static void CheckTolerances(ReadOnlySpan<double> atol, double rtol)
    {
        if (!(rtol >= 0) || double.IsInfinity(rtol)) throw new ArgumentOutOfRangeException(nameof(rtol), rtol, "The relative tolerance must be finite and non-negative.");
        for (int i = 0; i < atol.Length; i++)
        {
            if (!(atol[i] >= 0) || double.IsInfinity(atol[i]))
                throw new ArgumentOutOfRangeException(nameof(atol), atol[i], $"Absolute tolerance {i} must be finite and non-negative.");
            if (atol[i] == 0 && rtol == 0)
                throw new ArgumentOutOfRangeException(nameof(atol), $"Absolute tolerance {i} and the relative tolerance cannot both be zero.");
        }
    }
}
