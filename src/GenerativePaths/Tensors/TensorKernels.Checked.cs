using System.Numerics;
using System.Runtime.CompilerServices;

namespace GenerativePaths.Tensors;

// Linear combinations that also report whether every element they wrote is finite, computed on the vector
// registers before the store, so a caller that must reject NaN or infinity in an input the combination
// consumes in full needs no separate read pass over that input (IEEE arithmetic propagates it: 0 * NaN,
// 0 * inf and finite + inf - inf are all non-finite). Same arithmetic, element by element, as the
// LinearCombination overloads (separate multiplies and adds in term order), so the results are bit-identical.
public static partial class TensorKernels
{
    /// <summary>
    /// <c>d = sum_j c_j x_j</c> like <see cref="CombineUnchecked{T}"/>, returning true when every written element is finite.
    /// Lengths and overlaps are checked by the caller (each input is <c>d</c> itself or disjoint from it).
    /// </summary>
    /// <remarks>
    /// One pass on the calling thread with the machine's <see cref="Vector{T}"/> width; calls that the plain kernel would
    /// split across cores or write with non-temporal stores, and the scalar setting, run the plain kernel followed by a
    /// finite scan of the output (correct, one extra read pass).
    /// </remarks>
    internal static unsafe bool CombineAllFinite<T>(Span<T> d, in Terms<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (d.IsEmpty) return true;
        if (!UseCheckedLoop<T>(d.Length))
        {
            CombineUnchecked(d, t);
            return TensorReductions.IsFinite<T>(d);
        }
        fixed (T* pd = d)
        fixed (T* p0 = t.X0) fixed (T* p1 = t.X1) fixed (T* p2 = t.X2) fixed (T* p3 = t.X3) fixed (T* p4 = t.X4) fixed (T* p5 = t.X5)
        {
            var a = new CombineArgs<T>
            {
                D = pd, X0 = p0, X1 = p1, X2 = p2, X3 = p3, X4 = p4, X5 = p5,
                C0 = t.C0, C1 = t.C1, C2 = t.C2, C3 = t.C3, C4 = t.C4, C5 = t.C5,
                Length = d.Length, RowLength = d.Length,
            };
            return t.Count switch
            {
                1 => RunChecked<T, One>(a),
                2 => RunChecked<T, Two>(a),
                3 => RunChecked<T, Three>(a),
                4 => RunChecked<T, Four>(a),
                5 => RunChecked<T, Five>(a),
                6 => RunChecked<T, Six>(a),
                _ => throw new ArgumentOutOfRangeException(nameof(t), t.Count, "A linear combination has 1 to 6 terms."),
            };
        }
    }

    /// <summary>
    /// Two outputs in one pass (the update of a multistep data-prediction solver): <c>e = ce x + cp p</c>, then
    /// <c>x = a x + b e</c> (plus <c>c q</c> when <paramref name="withQ"/>), <c>e</c> rounded to <typeparamref name="T"/>
    /// before it is used, exactly as two calls of the plain kernel would compute it. Reads <c>x, p</c> (and <c>q</c>),
    /// writes <c>e</c> and <c>x</c>: 5 transfers where the two calls take 7. Returns true when every written element is finite.
    /// </summary>
    /// <exception cref="ArgumentException">A length differs, or <paramref name="e"/> overlaps another span, or <paramref name="x"/> overlaps <paramref name="p"/> or <paramref name="q"/>.</exception>
    internal static unsafe bool CombineWithEstimateAllFinite<T>(Span<T> x, Span<T> e, ReadOnlySpan<T> p, ReadOnlySpan<T> q,
        T ce, T cp, T a, T b, T c, bool withQ) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        ShapeCheck.SameLength<T>(e, n, nameof(e));
        ShapeCheck.SameLength(p, n, nameof(p));
        if (withQ) ShapeCheck.SameLength(q, n, nameof(q));
        if (e.Overlaps(x) || e.Overlaps(p) || (withQ && e.Overlaps(q)) || x.Overlaps(p) || (withQ && x.Overlaps(q)))
            throw new ArgumentException("The estimate and the state must be separate from each other and from the inputs.", nameof(e));
        if (n == 0) return true;
        fixed (T* px = x) fixed (T* pe = e) fixed (T* pp = p) fixed (T* pq = q)
        {
            if (!UseCheckedLoop<T>(n))
                return withQ ? EstimateScalar<T, Three>(px, pe, pp, pq, ce, cp, a, b, c, n) : EstimateScalar<T, Two>(px, pe, pp, pq, ce, cp, a, b, c, n);
            return withQ ? EstimateVector<T, Three>(px, pe, pp, pq, ce, cp, a, b, c, n) : EstimateVector<T, Two>(px, pe, pp, pq, ce, cp, a, b, c, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool UseCheckedLoop<T>(int length) where T : unmanaged
        => SimdWidth.Bytes > 0 && Vector.IsHardwareAccelerated
           && length < TensorCore.ParallelThreshold
           && (long)length * Unsafe.SizeOf<T>() < TensorCore.NonTemporalThreshold;

    private static unsafe bool RunChecked<T, TN>(in CombineArgs<T> a)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        nint n = a.Length, w = Vector<T>.Count;
        T* d = a.D, x0 = a.X0, x1 = a.X1, x2 = a.X2, x3 = a.X3, x4 = a.X4, x5 = a.X5;
        if (n < w)
        {
            T sum = T.Zero;
            for (nint j = 0; j < n; j++)
            {
                T acc = a.C0 * x0[j];
                if (TN.Count > 1) acc += a.C1 * x1[j];
                if (TN.Count > 2) acc += a.C2 * x2[j];
                if (TN.Count > 3) acc += a.C3 * x3[j];
                if (TN.Count > 4) acc += a.C4 * x4[j];
                if (TN.Count > 5) acc += a.C5 * x5[j];
                d[j] = acc;
                sum += acc - acc;
            }
            return sum == T.Zero;
        }
        var c0 = new Vector<T>(a.C0); var c1 = new Vector<T>(a.C1); var c2 = new Vector<T>(a.C2);
        var c3 = new Vector<T>(a.C3); var c4 = new Vector<T>(a.C4); var c5 = new Vector<T>(a.C5);
        nint end = n - w;
        // The last (possibly overlapping) vector is computed before anything is stored, so in-place calls are safe.
        var last = AtV<T, TN>(end, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5);
        // v - v is 0 for a finite v and NaN otherwise; NaN is sticky under addition.
        var chk0 = last - last;
        var chk1 = Vector<T>.Zero;
        nint i = 0;
        for (; i + 2 * w <= end; i += 2 * w)
        {
            var u = AtV<T, TN>(i, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5);
            var v = AtV<T, TN>(i + w, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5);
            Vector.Store(u, d + i);
            Vector.Store(v, d + i + w);
            chk0 += u - u;
            chk1 += v - v;
        }
        for (; i < end; i += w)
        {
            var u = AtV<T, TN>(i, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5);
            Vector.Store(u, d + i);
            chk0 += u - u;
        }
        Vector.Store(last, d + end);
        return Vector.EqualsAll(chk0 + chk1, Vector<T>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector<T> AtV<T, TN>(nint i, T* x0, T* x1, T* x2, T* x3, T* x4, T* x5,
        Vector<T> c0, Vector<T> c1, Vector<T> c2, Vector<T> c3, Vector<T> c4, Vector<T> c5)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        var acc = c0 * Vector.Load(x0 + i);
        if (TN.Count > 1) acc += c1 * Vector.Load(x1 + i);
        if (TN.Count > 2) acc += c2 * Vector.Load(x2 + i);
        if (TN.Count > 3) acc += c3 * Vector.Load(x3 + i);
        if (TN.Count > 4) acc += c4 * Vector.Load(x4 + i);
        if (TN.Count > 5) acc += c5 * Vector.Load(x5 + i);
        return acc;
    }

    /// <summary>The scalar form of <see cref="CombineWithEstimateAllFinite{T}"/> (<typeparamref name="TN"/> = Two: no <c>q</c>; Three: with <c>q</c>).</summary>
    private static unsafe bool EstimateScalar<T, TN>(T* x, T* e, T* p, T* q, T ce, T cp, T a, T b, T c, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        T sum = T.Zero;
        for (nint j = 0; j < n; j++)
        {
            T ej = ce * x[j] + cp * p[j];
            T xj = a * x[j] + b * ej;
            if (TN.Count > 2) xj += c * q[j];
            e[j] = ej;
            x[j] = xj;
            sum += (ej - ej) + (xj - xj);
        }
        return sum == T.Zero;
    }

    private static unsafe bool EstimateVector<T, TN>(T* x, T* e, T* p, T* q, T ce, T cp, T a, T b, T c, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        nint w = Vector<T>.Count;
        if (n < w) return EstimateScalar<T, TN>(x, e, p, q, ce, cp, a, b, c, n);
        var vce = new Vector<T>(ce); var vcp = new Vector<T>(cp);
        var va = new Vector<T>(a); var vb = new Vector<T>(b); var vc = new Vector<T>(c);
        nint end = n - w;
        // The last (possibly overlapping) vectors are computed before anything is stored, so x in place stays safe.
        var xl = Vector.Load(x + end);
        var el = vce * xl + vcp * Vector.Load(p + end);
        var yl = va * xl + vb * el;
        if (TN.Count > 2) yl += vc * Vector.Load(q + end);
        var chk = (el - el) + (yl - yl);
        for (nint i = 0; i < end; i += w)
        {
            var xi = Vector.Load(x + i);
            var ei = vce * xi + vcp * Vector.Load(p + i);
            var yi = va * xi + vb * ei;
            if (TN.Count > 2) yi += vc * Vector.Load(q + i);
            Vector.Store(ei, e + i);
            Vector.Store(yi, x + i);
            chk += (ei - ei) + (yi - yi);
        }
        Vector.Store(el, e + end);
        Vector.Store(yl, x + end);
        return Vector.EqualsAll(chk, Vector<T>.Zero);
    }
}
