using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GenerativePaths.Tensors;

// The error norms of the ODE integrators' step-size control, fused with the finite check of the new state, and with the
// error estimate formed on the fly from the stages: one pass over memory instead of two or three. Kernels of the one driver
// (SimdDriver.Lanes); called through GenerativePaths.Ode.OdeNorms.
public static partial class TensorReductions
{
    /// <summary>Elements per block of the block form of <see cref="FusedErrorNorm"/>: the block's estimate lives on the stack (4 KiB).</summary>
    private const int FusedBlock = 512;

    /// <summary>
    /// <c>sqrt((1/n) sum_i (e_i / (atol_i + rtol max(|a_i|, |b_i|)))^2)</c> over the whole span in one lane sum (no chunks),
    /// and whether every <c>b_i</c> is finite. <paramref name="atolPer"/> empty: <paramref name="atol"/> for every component.
    /// </summary>
    internal static unsafe double ErrorNormWithFiniteCheck(ReadOnlySpan<double> e, ReadOnlySpan<double> a, ReadOnlySpan<double> b,
        double atol, ReadOnlySpan<double> atolPer, double rtol, out bool finite)
    {
        int n = e.Length;
        a = a[..n];
        b = b[..n];
        var lanes = new Lanes8();
        double check = 0;
        fixed (double* pe = e) fixed (double* pa = a) fixed (double* pb = b) fixed (double* pt = atolPer)
        {
            if (atolPer.IsEmpty)
                SimdDriver.Lanes(new ErrorTerms<double, StoredError<double>, SharedTolerance, FlagOn>(new(pe), pa, pb, new(atol), rtol), 0, n, ref lanes, ref check);
            else
            {
                _ = atolPer[..n];
                SimdDriver.Lanes(new ErrorTerms<double, StoredError<double>, ComponentTolerance, FlagOn>(new(pe), pa, pb, new(pt), rtol), 0, n, ref lanes, ref check);
            }
        }
        finite = !double.IsNaN(check);
        return Math.Sqrt(lanes.Combined / n);
    }

    /// <summary>
    /// The norm of <see cref="ErrorNormWithFiniteCheck"/> with the estimate <c>e_i = scale * sum_j w_j k[idx_j][offset + i]</c>
    /// formed on the fly, summed left to right without fused multiply-adds (as a linear combination forms it), so the value is
    /// bit-identical to forming <c>e</c> first. One to eight stages on at least eight elements are read side by side; otherwise
    /// the estimate is formed block by block on the stack.
    /// </summary>
    internal static unsafe double FusedErrorNorm(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double scale, int[] idx, double[] w, int count,
        BatchTensor<double>[] k, int offset, double atol, ReadOnlySpan<double> atolPer, double rtol, out bool finite)
    {
        int n = a.Length;
        b = b[..n];
        bool per = !atolPer.IsEmpty;
        if (per) atolPer = atolPer[..n];
        var lanes = new Lanes8();
        double check = 0;
        fixed (double* pa = a) fixed (double* pb = b) fixed (double* pt = atolPer)
        {
            if (count >= 1 && count <= 8 && n >= 8)
            {
                fixed (double* k0 = Stage(k, idx, 0, count, offset, n), k1 = Stage(k, idx, 1, count, offset, n),
                    k2 = Stage(k, idx, 2, count, offset, n), k3 = Stage(k, idx, 3, count, offset, n),
                    k4 = Stage(k, idx, 4, count, offset, n), k5 = Stage(k, idx, 5, count, offset, n),
                    k6 = Stage(k, idx, 6, count, offset, n), k7 = Stage(k, idx, 7, count, offset, n))
                {
                    var stages = new StageError(count, scale, w, k0, k1, k2, k3, k4, k5, k6, k7);
                    if (per) SimdDriver.Lanes(new ErrorTerms<double, StageError, ComponentTolerance, FlagOn>(stages, pa, pb, new(pt), rtol), 0, n, ref lanes, ref check);
                    else SimdDriver.Lanes(new ErrorTerms<double, StageError, SharedTolerance, FlagOn>(stages, pa, pb, new(atol), rtol), 0, n, ref lanes, ref check);
                }
            }
            else
            {
                Span<double> buffer = stackalloc double[Math.Min(FusedBlock, n)];
                fixed (double* buf = buffer)
                {
                    for (int start = 0; start < n; start += FusedBlock)
                    {
                        int len = Math.Min(FusedBlock, n - start);
                        StagesInto(buffer[..len], scale, idx, w, count, k, offset + start);
                        // Blocks are multiples of eight long, so each element keeps its lane (start + j) mod 8.
                        if (per) SimdDriver.Lanes(new ErrorTerms<double, StoredError<double>, ComponentTolerance, FlagOn>(new(buf), pa + start, pb + start, new(pt + start), rtol), 0, len, ref lanes, ref check);
                        else SimdDriver.Lanes(new ErrorTerms<double, StoredError<double>, SharedTolerance, FlagOn>(new(buf), pa + start, pb + start, new(atol), rtol), 0, len, ref lanes, ref check);
                    }
                }
            }
        }
        finite = !double.IsNaN(check);
        return Math.Sqrt(lanes.Combined / n);
    }

    /// <summary>
    /// <c>e = ((c_0 k_0 + c_1 k_1) + c_2 k_2) + ...</c>, <c>c_j = scale w_j</c>, through the linear-combination kernel: up to six
    /// terms a pass, later passes <c>1 e + c_j k_j + ...</c> (multiplying by one is exact). Zero stages give zeros.
    /// </summary>
    private static void StagesInto(Span<double> e, double scale, int[] idx, double[] w, int count, BatchTensor<double>[] k, int from)
    {
        if (count == 0) { e.Clear(); return; }
        int n = e.Length;
        ReadOnlySpan<double> S(int j) => j < count ? k[idx[j]].Span.Slice(from, n) : default;
        double C(int j) => j < count ? scale * w[j] : 0;
        int first = Math.Min(count, 6);
        TensorKernels.CombineUnchecked<double>(e, new TensorKernels.Terms<double>(first, C(0), S(0), C(1), S(1), C(2), S(2), C(3), S(3), C(4), S(4), C(5), S(5)));
        for (int j = first; j < count; j += 5)
        {
            int m = Math.Min(5, count - j);
            TensorKernels.CombineUnchecked<double>(e, new TensorKernels.Terms<double>(1 + m, 1.0, e, C(j), S(j), C(j + 1), S(j + 1), C(j + 2), S(j + 2), C(j + 3), S(j + 3), C(j + 4), S(j + 4)));
        }
    }

    /// <summary>Row <paramref name="offset"/> onward of stage <c>idx[j]</c> (bounds-checked once), or of the first stage for unused slots.</summary>
    private static ReadOnlySpan<double> Stage(BatchTensor<double>[] k, int[] idx, int j, int count, int offset, int n)
        => k[idx[j < count ? j : 0]].Span.Slice(offset, n);

    /// <summary>The estimate <c>e_i = sum_j c_j k_j[i]</c> of one to eight stages, summed left to right.</summary>
    private readonly unsafe struct StageError : IErrorEstimate<StageError>
    {
        private readonly int _count;
        private readonly double _c0, _c1, _c2, _c3, _c4, _c5, _c6, _c7;
        private readonly double* _k0, _k1, _k2, _k3, _k4, _k5, _k6, _k7;

        public StageError(int count, double scale, double[] w, double* k0, double* k1, double* k2, double* k3, double* k4, double* k5, double* k6, double* k7)
        {
            _count = count;
            double C(int j) => j < count ? scale * w[j] : 0;
            _c0 = C(0); _c1 = C(1); _c2 = C(2); _c3 = C(3); _c4 = C(4); _c5 = C(5); _c6 = C(6); _c7 = C(7);
            _k0 = k0; _k1 = k1; _k2 = k2; _k3 = k3; _k4 = k4; _k5 = k5; _k6 = k6; _k7 = k7;
        }

        private StageError(in StageError s, nint rowStart)
        {
            this = s;
            _k0 += rowStart; _k1 += rowStart; _k2 += rowStart; _k3 += rowStart; _k4 += rowStart; _k5 += rowStart; _k6 += rowStart; _k7 += rowStart;
        }

        public StageError Row(nint rowStart) => new(this, rowStart);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double Value(nint i)
        {
            double e = _c0 * _k0[i];
            if (_count > 1) e += _c1 * _k1[i];
            if (_count > 2) e += _c2 * _k2[i];
            if (_count > 3) e += _c3 * _k3[i];
            if (_count > 4) e += _c4 * _k4[i];
            if (_count > 5) e += _c5 * _k5[i];
            if (_count > 6) e += _c6 * _k6[i];
            if (_count > 7) e += _c7 * _k7[i];
            return e;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Vector<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged
        {
            var e = TW.Multiply(TW.Create(_c0), TW.Load(_k0 + i));
            if (_count > 1) e = TW.Add(e, TW.Multiply(TW.Create(_c1), TW.Load(_k1 + i)));
            if (_count > 2) e = TW.Add(e, TW.Multiply(TW.Create(_c2), TW.Load(_k2 + i)));
            if (_count > 3) e = TW.Add(e, TW.Multiply(TW.Create(_c3), TW.Load(_k3 + i)));
            if (_count > 4) e = TW.Add(e, TW.Multiply(TW.Create(_c4), TW.Load(_k4 + i)));
            if (_count > 5) e = TW.Add(e, TW.Multiply(TW.Create(_c5), TW.Load(_k5 + i)));
            if (_count > 6) e = TW.Add(e, TW.Multiply(TW.Create(_c6), TW.Load(_k6 + i)));
            if (_count > 7) e = TW.Add(e, TW.Multiply(TW.Create(_c7), TW.Load(_k7 + i)));
            return e;
        }
    }
}
