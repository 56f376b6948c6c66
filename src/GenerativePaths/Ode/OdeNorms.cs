using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>
/// The scaled RMS error norm of the step-size controller fused with the finite check of the new state: one pass over
/// (err, y, y_new) instead of a norm pass and a check pass.
/// </summary>
/// <remarks>
/// <para>Formula: <c>sqrt( (1/n) sum_i ( e_i / (atol_i + rtol max(|a_i|, |b_i|)) )^2 )</c>; <c>finite</c> is false when any
/// <c>b_i</c> is NaN or infinite. Tolerances are validated once per solve.</para>
/// <para>Summation order: element <c>i</c> goes to lane <c>i mod 8</c>, lanes are combined as
/// <c>((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7))</c>, so the value does not depend on the machine's vector width.
/// <see cref="double"/> states use this private kernel; <see cref="float"/> states use
/// <see cref="TensorReductions.ErrorNorm{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, double, double)"/> and
/// <see cref="TensorReductions.IsFinite{T}(ReadOnlySpan{T})"/>.</para>
/// </remarks>
internal static class OdeNorms
{
    public static double ErrorNorm<T>(ReadOnlySpan<T> e, ReadOnlySpan<T> a, ReadOnlySpan<T> b, double atol, ReadOnlySpan<double> atolPer, double rtol, out bool finite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = e.Length;
        if (n == 0) { finite = true; return 0; }
        if (typeof(T) == typeof(double))
        {
            var ed = MemoryMarshal.Cast<T, double>(e);
            var ad = MemoryMarshal.Cast<T, double>(a)[..n];
            var bd = MemoryMarshal.Cast<T, double>(b)[..n];
            return Math.Sqrt(ScaledSquares(ed, ad, bd, atol, atolPer, rtol, out finite) / n);
        }
        finite = TensorReductions.IsFinite(b);
        return atolPer.IsEmpty ? TensorReductions.ErrorNorm(e, a, b, atol, rtol) : TensorReductions.ErrorNorm(e, a, b, atolPer, rtol);
    }

    /// <summary>Elements per block of the fused error estimate: the block's <c>err</c> lives on the stack (4 KiB, in L1).</summary>
    private const int Block = 512;

    /// <summary>
    /// The error norm of <see cref="ErrorNorm{T}"/> with the error estimate <c>err_i = scale * sum_j w_j k[idx_j][offset + i]</c>
    /// computed on the fly, block by block, instead of in a separate pass: one pass over the stages, <paramref name="a"/> and
    /// <paramref name="b"/>, nothing written. The estimate is summed left to right without fused multiply-adds, exactly as
    /// <see cref="LinearSums.Combine{T}"/> forms it, and the squares go to the same lanes, so the value is bit-identical to the
    /// two-pass form.
    /// </summary>
    public static double FusedErrorNorm(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double scale, int[] idx, double[] w, int count,
        BatchTensor<double>[] k, int offset, double atol, ReadOnlySpan<double> atolPer, double rtol, out bool finite)
    {
        int n = a.Length;
        if (n == 0) { finite = true; return 0; }
        b = b[..n];
        bool per = !atolPer.IsEmpty;
        if (per) atolPer = atolPer[..n];
        if (count >= 1 && count <= 8 && n >= 8) return Streamed(a, b, scale, idx, w, count, k, offset, atol, atolPer, rtol, out finite);
        Span<double> buf = stackalloc double[Math.Min(Block, n)]; // a tiny state clears a tiny buffer
        var lo = Vector256<double>.Zero;
        var hi = Vector256<double>.Zero;
        var bad = Vector256<double>.Zero;
        var vr = Vector256.Create(rtol);
        var va = Vector256.Create(atol);
        ref double rbuf = ref MemoryMarshal.GetReference(buf);
        ref double ra = ref MemoryMarshal.GetReference(a);
        ref double rb = ref MemoryMarshal.GetReference(b);
        ref double rt = ref MemoryMarshal.GetReference(atolPer);
        int start = 0;
        while (true)
        {
            int len = Math.Min(Block, n - start);
            // err for this block, summed left to right: ((c0 k0 + c1 k1) + c2 k2) + ...
            if (count == 0) buf[..len].Clear();
            for (int j = 0; j < count; j++)
            {
                double c = scale * w[j];
                var vc = Vector256.Create(c);
                ref double rk = ref MemoryMarshal.GetReference(k[idx[j]].Span.Slice(offset + start, len));
                int m = 0;
                if (j == 0)
                {
                    for (; m <= len - 4; m += 4) (vc * Vector256.LoadUnsafe(ref rk, (nuint)m)).StoreUnsafe(ref rbuf, (nuint)m);
                    for (; m < len; m++) buf[m] = c * Unsafe.Add(ref rk, m);
                }
                else
                {
                    for (; m <= len - 4; m += 4)
                        (Vector256.LoadUnsafe(ref rbuf, (nuint)m) + vc * Vector256.LoadUnsafe(ref rk, (nuint)m)).StoreUnsafe(ref rbuf, (nuint)m);
                    for (; m < len; m++) buf[m] = buf[m] + c * Unsafe.Add(ref rk, m);
                }
            }
            int i = 0;
            for (; i <= len - 8; i += 8)
            {
                int g = start + i;
                var e0 = Vector256.LoadUnsafe(ref rbuf, (nuint)i); var e1 = Vector256.LoadUnsafe(ref rbuf, (nuint)(i + 4));
                var a0 = Vector256.LoadUnsafe(ref ra, (nuint)g); var a1 = Vector256.LoadUnsafe(ref ra, (nuint)(g + 4));
                var b0 = Vector256.LoadUnsafe(ref rb, (nuint)g); var b1 = Vector256.LoadUnsafe(ref rb, (nuint)(g + 4));
                var t0 = per ? Vector256.LoadUnsafe(ref rt, (nuint)g) : va;
                var t1 = per ? Vector256.LoadUnsafe(ref rt, (nuint)(g + 4)) : va;
                var s0 = t0 + vr * Vector256.Max(Vector256.Abs(a0), Vector256.Abs(b0));
                var s1 = t1 + vr * Vector256.Max(Vector256.Abs(a1), Vector256.Abs(b1));
                var r0 = e0 / s0; var r1 = e1 / s1;
                lo += r0 * r0;
                hi += r1 * r1;
                bad += b0 * Vector256<double>.Zero + b1 * Vector256<double>.Zero;
            }
            if (start + len == n)
            {
                // The last block: the tail of fewer than eight elements, as in the two-pass kernel.
                Span<double> lanes = stackalloc double[8];
                lo.CopyTo(lanes);
                hi.CopyTo(lanes[4..]);
                double badTail = Vector256.Sum(bad);
                for (; i < len; i++)
                {
                    int g = start + i;
                    double sc = (per ? atolPer[g] : atol) + rtol * Math.Max(Math.Abs(a[g]), Math.Abs(b[g]));
                    double r = buf[i] / sc;
                    lanes[g & 7] += r * r;
                    badTail += b[g] * 0;
                }
                finite = !double.IsNaN(badTail);
                double sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
                return Math.Sqrt(sum / n);
            }
            start += len;
        }
    }

    /// <summary>
    /// The fused norm for one to eight stages: all stage streams are read side by side (no block buffer), so that each
    /// stays a sequential stream for the hardware prefetcher. Same arithmetic and lane order as the block form.
    /// </summary>
    private static double Streamed(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double scale, int[] idx, double[] w, int count,
        BatchTensor<double>[] k, int offset, double atol, ReadOnlySpan<double> atolPer, double rtol, out bool finite)
    {
        int n = a.Length;
        bool per = !atolPer.IsEmpty;
        ref double k0 = ref Stage(k, idx, 0, count, offset, n);
        ref double k1 = ref Stage(k, idx, 1, count, offset, n);
        ref double k2 = ref Stage(k, idx, 2, count, offset, n);
        ref double k3 = ref Stage(k, idx, 3, count, offset, n);
        ref double k4 = ref Stage(k, idx, 4, count, offset, n);
        ref double k5 = ref Stage(k, idx, 5, count, offset, n);
        ref double k6 = ref Stage(k, idx, 6, count, offset, n);
        ref double k7 = ref Stage(k, idx, 7, count, offset, n);
        Span<double> cs = stackalloc double[8];
        for (int j = 0; j < count; j++) cs[j] = scale * w[j];
        var c0 = Vector256.Create(cs[0]); var c1 = Vector256.Create(cs[1]); var c2 = Vector256.Create(cs[2]); var c3 = Vector256.Create(cs[3]);
        var c4 = Vector256.Create(cs[4]); var c5 = Vector256.Create(cs[5]); var c6 = Vector256.Create(cs[6]); var c7 = Vector256.Create(cs[7]);
        var lo = Vector256<double>.Zero;
        var hi = Vector256<double>.Zero;
        var bad = Vector256<double>.Zero;
        var vr = Vector256.Create(rtol);
        var va = Vector256.Create(atol);
        ref double ra = ref MemoryMarshal.GetReference(a);
        ref double rb = ref MemoryMarshal.GetReference(b);
        ref double rt = ref MemoryMarshal.GetReference(atolPer);
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            for (int half = 0; half < 2; half++)
            {
                nuint o = (nuint)(i + 4 * half);
                var e = c0 * Vector256.LoadUnsafe(ref k0, o);
                if (count > 1) e += c1 * Vector256.LoadUnsafe(ref k1, o);
                if (count > 2) e += c2 * Vector256.LoadUnsafe(ref k2, o);
                if (count > 3) e += c3 * Vector256.LoadUnsafe(ref k3, o);
                if (count > 4) e += c4 * Vector256.LoadUnsafe(ref k4, o);
                if (count > 5) e += c5 * Vector256.LoadUnsafe(ref k5, o);
                if (count > 6) e += c6 * Vector256.LoadUnsafe(ref k6, o);
                if (count > 7) e += c7 * Vector256.LoadUnsafe(ref k7, o);
                var av = Vector256.LoadUnsafe(ref ra, o);
                var bv = Vector256.LoadUnsafe(ref rb, o);
                var t = per ? Vector256.LoadUnsafe(ref rt, o) : va;
                var r = e / (t + vr * Vector256.Max(Vector256.Abs(av), Vector256.Abs(bv)));
                if (half == 0) lo += r * r; else hi += r * r;
                bad += bv * Vector256<double>.Zero;
            }
        }
        Span<double> lanes = stackalloc double[8];
        lo.CopyTo(lanes);
        hi.CopyTo(lanes[4..]);
        double badTail = Vector256.Sum(bad);
        for (; i < n; i++)
        {
            double e = cs[0] * Unsafe.Add(ref k0, i);
            if (count > 1) e += cs[1] * Unsafe.Add(ref k1, i);
            if (count > 2) e += cs[2] * Unsafe.Add(ref k2, i);
            if (count > 3) e += cs[3] * Unsafe.Add(ref k3, i);
            if (count > 4) e += cs[4] * Unsafe.Add(ref k4, i);
            if (count > 5) e += cs[5] * Unsafe.Add(ref k5, i);
            if (count > 6) e += cs[6] * Unsafe.Add(ref k6, i);
            if (count > 7) e += cs[7] * Unsafe.Add(ref k7, i);
            double sc = (per ? atolPer[i] : atol) + rtol * Math.Max(Math.Abs(a[i]), Math.Abs(b[i]));
            double q = e / sc;
            lanes[i & 7] += q * q;
            badTail += b[i] * 0;
        }
        finite = !double.IsNaN(badTail);
        double sum = ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
        return Math.Sqrt(sum / n);
    }

    /// <summary>Row <paramref name="offset"/> onward of stage <c>idx[j]</c> (bounds-checked once), or of the first stage for unused slots.</summary>
    private static ref double Stage(BatchTensor<double>[] k, int[] idx, int j, int count, int offset, int n)
        => ref MemoryMarshal.GetReference(k[idx[j < count ? j : 0]].Span.Slice(offset, n));

    private static double ScaledSquares(ReadOnlySpan<double> e, ReadOnlySpan<double> a, ReadOnlySpan<double> b, double atol, ReadOnlySpan<double> atolPer, double rtol, out bool finite)
    {
        int n = e.Length;
        bool per = !atolPer.IsEmpty;
        if (per) atolPer = atolPer[..n];
        var lo = Vector256<double>.Zero;   // lanes 0..3
        var hi = Vector256<double>.Zero;   // lanes 4..7
        var bad = Vector256<double>.Zero;  // b * 0 is NaN exactly when b is not finite
        var vr = Vector256.Create(rtol);
        var va = Vector256.Create(atol);
        ref double re = ref MemoryMarshal.GetReference(e);
        ref double ra = ref MemoryMarshal.GetReference(a);
        ref double rb = ref MemoryMarshal.GetReference(b);
        ref double rt = ref MemoryMarshal.GetReference(atolPer);
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            var e0 = Vector256.LoadUnsafe(ref re, (nuint)i); var e1 = Vector256.LoadUnsafe(ref re, (nuint)(i + 4));
            var a0 = Vector256.LoadUnsafe(ref ra, (nuint)i); var a1 = Vector256.LoadUnsafe(ref ra, (nuint)(i + 4));
            var b0 = Vector256.LoadUnsafe(ref rb, (nuint)i); var b1 = Vector256.LoadUnsafe(ref rb, (nuint)(i + 4));
            var t0 = per ? Vector256.LoadUnsafe(ref rt, (nuint)i) : va;
            var t1 = per ? Vector256.LoadUnsafe(ref rt, (nuint)(i + 4)) : va;
            var s0 = t0 + vr * Vector256.Max(Vector256.Abs(a0), Vector256.Abs(b0));
            var s1 = t1 + vr * Vector256.Max(Vector256.Abs(a1), Vector256.Abs(b1));
            var r0 = e0 / s0; var r1 = e1 / s1;
            lo += r0 * r0;
            hi += r1 * r1;
            bad += b0 * Vector256<double>.Zero + b1 * Vector256<double>.Zero;
        }
        Span<double> lanes = stackalloc double[8];
        lo.CopyTo(lanes);
        hi.CopyTo(lanes[4..]);
        double badTail = Vector256.Sum(bad);
        for (; i < n; i++)
        {
            double scale = (per ? atolPer[i] : atol) + rtol * Math.Max(Math.Abs(a[i]), Math.Abs(b[i]));
            double r = e[i] / scale;
            lanes[i & 7] += r * r;
            badTail += b[i] * 0;
        }
        finite = !double.IsNaN(badTail);
        return ((lanes[0] + lanes[4]) + (lanes[2] + lanes[6])) + ((lanes[1] + lanes[5]) + (lanes[3] + lanes[7]));
    }
}
