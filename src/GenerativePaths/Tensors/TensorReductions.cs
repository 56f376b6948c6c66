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
/// chunk partials are added in chunk order. The result is therefore bit-identical for every SIMD
/// width and every thread count.</para>
/// </remarks>
public static partial class TensorReductions
{
    /// <summary>Elements per reduction chunk; chunks are the unit of parallel work.</summary>
    public const int ChunkLength = 16384;

    /// <summary>
    /// The scaled RMS norm used for step-size control (Hairer, Nørsett and Wanner, <i>Solving Ordinary
    /// Differential Equations I</i>, eq. II.4.11).
    /// </summary>
    /// <remarks>Formula: <c>sqrt( (1/n) sum_i ( e_i / (atol + rtol * max(|a_i|, |b_i|)) )^2 )</c>; 0 for an empty span.</remarks>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A tolerance is negative or both are zero.</exception>
    public static double ErrorNorm<T>(ReadOnlySpan<T> error, ReadOnlySpan<T> a, ReadOnlySpan<T> b, double atol, double rtol)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckTolerances(atol, rtol);
        ShapeCheck.SameLength(a, error.Length, nameof(a));
        ShapeCheck.SameLength(b, error.Length, nameof(b));
        if (error.Length == 0) return 0;
        return Math.Sqrt(ScaledSquares(error, a, b, atol, rtol, default) / error.Length);
    }

    /// <summary>As <see cref="ErrorNorm{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, double, double)"/> with a per-component absolute tolerance.</summary>
    /// <remarks>Formula: <c>sqrt( (1/n) sum_i ( e_i / (atol_i + rtol * max(|a_i|, |b_i|)) )^2 )</c>.</remarks>
    public static double ErrorNorm<T>(ReadOnlySpan<T> error, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<double> atol, double rtol)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeCheck.SameLength(a, error.Length, nameof(a));
        ShapeCheck.SameLength(b, error.Length, nameof(b));
        ShapeCheck.SameLength(atol, error.Length, nameof(atol));
        CheckTolerances(atol, rtol);
        if (error.Length == 0) return 0;
        return Math.Sqrt(ScaledSquares(error, a, b, 0, rtol, atol) / error.Length);
    }

    /// <summary>Per-sample scaled RMS error norms: <c>norms[b]</c> is the norm of row <c>b</c>.</summary>
    /// <remarks>Formula: <c>norms[b] = sqrt( (1/D) sum_i ( e[b,i] / (atol + rtol * max(|a[b,i]|, |b[b,i]|)) )^2 )</c>.</remarks>
    public static void ErrorNorms<T>(BatchTensor<T> error, BatchTensor<T> a, BatchTensor<T> b, double atol, double rtol, Span<double> norms)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(error);
        ShapeCheck.SameShape(error, a, nameof(a));
        ShapeCheck.SameShape(error, b, nameof(b));
        ShapeCheck.Destination(norms, error.BatchSize, nameof(norms));
        CheckTolerances(atol, rtol);
        int d = error.RowLength;
        for (int s = 0; s < error.BatchSize; s++)
            norms[s] = d == 0 ? 0 : Math.Sqrt(ScaledSquares<T>(error.Row(s), a.Row(s), b.Row(s), atol, rtol, default) / d);
    }

    /// <summary>The sum of squares <c>sum_i x_i^2</c>, accumulated in double.</summary>
    public static double SumOfSquares<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => Dot(x, x);

    /// <summary>The dot product <c>sum_i x_i y_i</c>, accumulated in double.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static double Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeCheck.SameLength(y, x.Length, nameof(y));
        double total = 0;
        Span<double> lanes = stackalloc double[8];
        for (int start = 0; start < x.Length; start += ChunkLength)
        {
            int len = Math.Min(ChunkLength, x.Length - start);
            lanes.Clear();
            var xs = x.Slice(start, len); var ys = y.Slice(start, len);
            for (int i = 0; i < len; i++) lanes[i & 7] += double.CreateTruncating(xs[i]) * double.CreateTruncating(ys[i]);
            total += CombineLanes(lanes);
        }
        return total;
    }

    /// <summary>Per-sample sums of squares: <c>result[b] = sum_i x[b,i]^2</c>.</summary>
    public static void SumOfSquares<T>(BatchTensor<T> x, Span<double> result) where T : unmanaged, IFloatingPointIeee754<T>
        => Dot(x, x, result);

    /// <summary>Per-sample dot products: <c>result[b] = sum_i x[b,i] y[b,i]</c>.</summary>
    public static void Dot<T>(BatchTensor<T> x, BatchTensor<T> y, Span<double> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ShapeCheck.SameShape(x, y, nameof(y));
        ShapeCheck.Destination(result, x.BatchSize, nameof(result));
        for (int s = 0; s < x.BatchSize; s++) result[s] = Dot<T>(x.Row(s), y.Row(s));
    }

    /// <summary>The largest absolute value, <c>max_i |x_i|</c> (0 for an empty span, NaN if any element is NaN).</summary>
    public static double MaxAbs<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double m = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double v = Math.Abs(double.CreateTruncating(x[i]));
            if (double.IsNaN(v)) return double.NaN;
            if (v > m) m = v;
        }
        return m;
    }

    /// <summary>Per-sample max-abs: <c>result[b] = max_i |x[b,i]|</c>.</summary>
    public static void MaxAbs<T>(BatchTensor<T> x, Span<double> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ShapeCheck.Destination(result, x.BatchSize, nameof(result));
        for (int s = 0; s < x.BatchSize; s++) result[s] = MaxAbs<T>(x.Row(s));
    }

    /// <summary>True when every element is finite (no NaN, no infinity).</summary>
    public static bool IsFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++)
            if (!T.IsFinite(x[i])) return false;
        return true;
    }

    /// <summary>The index of the first sample containing a NaN or an infinity, or -1 when all are finite.</summary>
    public static int FirstNonFiniteSample<T>(BatchTensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        for (int s = 0; s < x.BatchSize; s++)
            if (!IsFinite<T>(x.Row(s))) return s;
        return -1;
    }

    private static double ScaledSquares<T>(ReadOnlySpan<T> e, ReadOnlySpan<T> a, ReadOnlySpan<T> b, double atol, double rtol, ReadOnlySpan<double> atolPer)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double total = 0;
        Span<double> lanes = stackalloc double[8];
        bool per = !atolPer.IsEmpty;
        for (int start = 0; start < e.Length; start += ChunkLength)
        {
            int len = Math.Min(ChunkLength, e.Length - start);
            lanes.Clear();
            for (int i = 0; i < len; i++)
            {
                int k = start + i;
                double scale = (per ? atolPer[k] : atol) + rtol * Math.Max(Math.Abs(double.CreateTruncating(a[k])), Math.Abs(double.CreateTruncating(b[k])));
                double r = double.CreateTruncating(e[k]) / scale;
                lanes[i & 7] += r * r;
            }
            total += CombineLanes(lanes);
        }
        return total;
    }

    internal static double CombineLanes(ReadOnlySpan<double> l) => ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));

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
