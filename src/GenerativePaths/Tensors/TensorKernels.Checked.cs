using System.Numerics;
using System.Runtime.CompilerServices;

namespace GenerativePaths.Tensors;

// Linear combinations that also report whether every element they wrote is finite, computed on the vector
// registers before the store, so a caller that must reject NaN or infinity in an input the combination
// consumes in full needs no separate read pass over that input (IEEE arithmetic propagates it: 0 * NaN,
// 0 * inf and finite + inf - inf are all non-finite). Same arithmetic, element by element, as the
// LinearCombination overloads (separate multiplies and adds in term order), so the results are bit-identical.
// Both are kernels of the one driver (SimdDriver.Map with the finite check on).
public static partial class TensorKernels
{
    /// <summary>
    /// <c>d = sum_j c_j x_j</c> like <see cref="CombineUnchecked{T}"/>, returning true when every written element is finite.
    /// Lengths and overlaps are checked by the caller (each input is <c>d</c> itself or disjoint from it).
    /// </summary>
    /// <remarks>
    /// One pass on the calling thread through the kernel driver (the widest vector available, or the scalar loop); calls
    /// that the plain kernel would split across cores or write with non-temporal stores run the plain kernel followed by a
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
            var a = ArgsOf(t, pd, p0, p1, p2, p3, p4, p5, d.Length);
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
            return withQ ? Estimate<T, Three>(px, pe, pp, pq, ce, cp, a, b, c, n) : Estimate<T, Two>(px, pe, pp, pq, ce, cp, a, b, c, n);
    }

    /// <summary>The checked loop runs on the calling thread without non-temporal stores; larger calls take the plain kernel and a scan.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool UseCheckedLoop<T>(int length) where T : unmanaged
        => length < TensorCoreSettings.ParallelThreshold && (long)length * Unsafe.SizeOf<T>() < TensorCoreSettings.NonTemporalThreshold;

    private static bool RunChecked<T, TN>(in CombineArgs<T> a)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        var kernel = new CombineKernel<T, TN>(a, 0);
        return SimdDriver.Map<T, CombineKernel<T, TN>, FlagOn>(ref kernel, a.Length, nonTemporal: false);
    }

    private static unsafe bool Estimate<T, TN>(T* x, T* e, T* p, T* q, T ce, T cp, T a, T b, T c, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        var kernel = new EstimateKernel<T, TN>(x, e, p, q, ce, cp, a, b, c);
        return SimdDriver.Map<T, EstimateKernel<T, TN>, FlagOn>(ref kernel, n, nonTemporal: false);
    }

    /// <summary>
    /// The two outputs of <see cref="CombineWithEstimateAllFinite{T}"/>: <c>e = ce x + cp p</c>, then <c>x = a x + b e</c>
    /// (plus <c>c q</c> when <typeparamref name="TN"/> is Three), <c>x</c> in place.
    /// </summary>
    private readonly unsafe struct EstimateKernel<T, TN>(T* x, T* e, T* p, T* q, T ce, T cp, T a, T b, T c) : IMapKernel<T>
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        private readonly T* _x = x, _e = e, _p = p, _q = q;
        private readonly T _ce = ce, _cp = cp, _a = a, _b = b, _c = c;

        public T* Destination => _x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Outputs<TVec> Compute<TW, TVec>(nint i) where TW : ISimdWidth<TVec, T> where TVec : unmanaged
        {
            var xi = TW.Load(_x + i);
            var ei = TW.Add(TW.Multiply(TW.Create(_ce), xi), TW.Multiply(TW.Create(_cp), TW.Load(_p + i)));
            var yi = TW.Add(TW.Multiply(TW.Create(_a), xi), TW.Multiply(TW.Create(_b), ei));
            if (TN.Count > 2) yi = TW.Add(yi, TW.Multiply(TW.Create(_c), TW.Load(_q + i)));
            return new Outputs<TVec> { A = yi, B = ei };
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store<TW, TVec>(in Outputs<TVec> v, nint i) where TW : ISimdWidth<TVec, T> where TVec : unmanaged
        {
            TW.Store(v.B, _e + i);
            TW.Store(v.A, _x + i);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Check<TW, TVec>(in Outputs<TVec> v) where TW : ISimdWidth<TVec, T> where TVec : unmanaged
            => TW.Add(TW.Subtract(v.B, v.B), TW.Subtract(v.A, v.A));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Scalar(nint j)
        {
            T ej = _ce * _x[j] + _cp * _p[j];
            T xj = _a * _x[j] + _b * ej;
            if (TN.Count > 2) xj += _c * _q[j];
            _e[j] = ej;
            _x[j] = xj;
            return (ej - ej) + (xj - xj);
        }
    }
}
