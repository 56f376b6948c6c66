using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GenerativePaths.Tensors;

// The one kernel driver of the tensor core, after TensorPrimitives in dotnet/runtime: each operation is a small struct
// written once over the width adapter (ISimdWidth), and the driver picks the widest vector the machine (or the test
// setting SimdWidth.Forced) allows: 512, 256, then 128 bits, then a scalar loop. Three loop shapes cover every kernel:
//   Map     element-wise outputs (the linear combinations, with or without a finite check of what they write);
//   Scan    an order-free reduction of one span (max-abs, the finite check);
//   Lanes   a sum in eight double lanes in the documented order (dot, error norms, the ODE norms).

/// <summary>A compile-time flag (the finite check of a kernel on or off).</summary>
internal interface IFlag { static abstract bool On { get; } }
internal struct FlagOn : IFlag { public static bool On => true; }
internal struct FlagOff : IFlag { public static bool On => false; }

/// <summary>The one or two output vectors of an element-wise kernel at one position, computed before they are stored.</summary>
internal struct Outputs<TVec> where TVec : unmanaged
{
    public TVec A, B;
}

/// <summary>
/// An element-wise kernel: outputs at element <c>i</c> from inputs at element <c>i</c> only, so that computing the last,
/// overlapping vector before any store keeps in-place calls correct.
/// </summary>
internal unsafe interface IMapKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The outputs at elements <c>i .. i + TW.Count - 1</c>, not yet stored.</summary>
    Outputs<TVec> Compute<TW, TVec>(nint i) where TW : ISimdWidth<TVec, T> where TVec : unmanaged;
    /// <summary>Stores what <see cref="Compute{TW, TVec}"/> gave at <paramref name="i"/>.</summary>
    void Store<TW, TVec>(in Outputs<TVec> v, nint i) where TW : ISimdWidth<TVec, T> where TVec : unmanaged;
    /// <summary>The sum of <c>v - v</c> over the outputs: zero exactly when every written value is finite.</summary>
    TVec Check<TW, TVec>(in Outputs<TVec> v) where TW : ISimdWidth<TVec, T> where TVec : unmanaged;
    /// <summary>Computes and stores element <paramref name="i"/>; returns the sum of <c>o - o</c> over its outputs.</summary>
    T Scalar(nint i);
    /// <summary>The first output (the only one written with non-temporal stores).</summary>
    T* Destination { get; }
}

/// <summary>An order-free reduction of one span: each vector is mapped, maps are combined, the last vector is finished.</summary>
internal unsafe interface IScanKernel<T> where T : unmanaged
{
    static abstract TVec Map<TW, TVec>(TVec v) where TW : ISimdWidth<TVec, T> where TVec : unmanaged;
    static abstract TVec Combine<TW, TVec>(TVec a, TVec b) where TW : ISimdWidth<TVec, T> where TVec : unmanaged;
    static abstract double Finish<TW, TVec>(TVec acc) where TW : ISimdWidth<TVec, T> where TVec : unmanaged;
    static abstract double Scalar(T* p, nint n);
}

/// <summary>Per-element terms <c>t_i</c> (in double) that <c>SimdDriver.Lanes</c> sums, and an optional finite check.</summary>
internal interface ILaneTerms<TSelf> where TSelf : struct, ILaneTerms<TSelf>
{
    /// <summary>False for element types without vectors: the scalar loop only.</summary>
    static abstract bool IsVectorizable { get; }
    /// <summary>True when <see cref="Check(nint)"/> checks an input (else it is always 0 and is not called on vectors).</summary>
    static abstract bool HasCheck { get; }
    /// <summary>The terms of the row that starts <paramref name="rowStart"/> elements after the base.</summary>
    TSelf At(nint rowStart);
    double Term(nint i);
    /// <summary>Terms <c>i .. i + TW.Count - 1</c>.</summary>
    TVec Terms<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged;
    /// <summary>NaN when element <c>i</c> of the checked input is not finite, else ±0 (0 when nothing is checked).</summary>
    double Check(nint i);
    /// <summary>The vector form of <see cref="Check(nint)"/>.</summary>
    TVec Checks<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged;
}

/// <summary>Eight double accumulator lanes.</summary>
[InlineArray(8)]
internal struct Lanes8
{
    private double _lane0;

    /// <summary><c>((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7))</c>, the documented combination.</summary>
    public readonly double Combined => ((this[0] + this[4]) + (this[2] + this[6])) + ((this[1] + this[5]) + (this[3] + this[7]));
}

/// <summary>The driver: the width ladder and the three loop shapes.</summary>
internal static unsafe class SimdDriver
{
    /// <summary>
    /// Runs an element-wise kernel over elements <c>[0, n)</c>; with <typeparamref name="TCheck"/> on, returns whether every
    /// written value is finite (else true). Non-temporal stores (when asked and <paramref name="n"/> spans two vectors) are
    /// aligned to the vector size; the unaligned head and the tail are computed first and stored last.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Map<T, TK, TCheck>(ref TK kernel, nint n, bool nonTemporal)
        where T : unmanaged, IFloatingPointIeee754<T> where TK : struct, IMapKernel<T> where TCheck : struct, IFlag
    {
        int bytes = SimdElement.Bytes<T>();
        if (bytes >= 64 && n >= Vector512<T>.Count) return Map<T, TK, TCheck, Simd512<T>, Vector512<T>>(ref kernel, n, nonTemporal);
        if (bytes >= 32 && n >= Vector256<T>.Count) return Map<T, TK, TCheck, Simd256<T>, Vector256<T>>(ref kernel, n, nonTemporal);
        if (bytes >= 16 && n >= Vector128<T>.Count) return Map<T, TK, TCheck, Simd128<T>, Vector128<T>>(ref kernel, n, nonTemporal);
        return MapScalar<T, TK, TCheck>(ref kernel, n);
    }

    private static bool MapScalar<T, TK, TCheck>(ref TK kernel, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TK : struct, IMapKernel<T> where TCheck : struct, IFlag
    {
        // o - o is exactly 0 or NaN, and the sum stays 0 unless a NaN enters.
        T sum = T.Zero;
        for (nint i = 0; i < n; i++) sum += kernel.Scalar(i);
        return !TCheck.On || sum == T.Zero;
    }

    private static bool Map<T, TK, TCheck, TW, TVec>(ref TK kernel, nint n, bool nonTemporal)
        where T : unmanaged, IFloatingPointIeee754<T> where TK : struct, IMapKernel<T> where TCheck : struct, IFlag
        where TW : ISimdWidth<TVec, T> where TVec : unmanaged
    {
        // A local copy, so that the kernel's pointers and coefficients live in registers (the stores cannot alias them) and
        // the broadcasts of its coefficients are hoisted out of the loop.
        TK k = kernel;
        nint w = TW.Count;
        nint end = n - w;
        // The last (possibly overlapping) vector is computed before anything is stored, so in-place calls are safe.
        var last = k.Compute<TW, TVec>(end);
        if (!TCheck.On && nonTemporal && n >= 2 * w)
        {
            // Large outputs: non-temporal stores from the first aligned element (no read-for-ownership of the destination).
            var first = k.Compute<TW, TVec>(0);
            nint j = (nint)(((nuint)TW.Bytes - ((nuint)k.Destination & (nuint)(TW.Bytes - 1))) & (nuint)(TW.Bytes - 1)) / sizeof(T);
            for (; j + w <= n; j += w)
            {
                var v = k.Compute<TW, TVec>(j);
                TW.StoreAlignedNonTemporal(v.A, k.Destination + j);
            }
            if (System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.StoreFence();
            k.Store<TW, TVec>(first, 0);
            k.Store<TW, TVec>(last, end);
            return true;
        }
        var chk0 = TCheck.On ? k.Check<TW, TVec>(last) : TW.Zero;
        var chk1 = TW.Zero;
        nint i = 0;
        for (; i + 4 * w <= end; i += 4 * w)
        {
            var v0 = k.Compute<TW, TVec>(i);
            k.Store<TW, TVec>(v0, i);
            var v1 = k.Compute<TW, TVec>(i + w);
            k.Store<TW, TVec>(v1, i + w);
            var v2 = k.Compute<TW, TVec>(i + 2 * w);
            k.Store<TW, TVec>(v2, i + 2 * w);
            var v3 = k.Compute<TW, TVec>(i + 3 * w);
            k.Store<TW, TVec>(v3, i + 3 * w);
            if (TCheck.On)
            {
                chk0 = TW.Add(chk0, TW.Add(k.Check<TW, TVec>(v0), k.Check<TW, TVec>(v2)));
                chk1 = TW.Add(chk1, TW.Add(k.Check<TW, TVec>(v1), k.Check<TW, TVec>(v3)));
            }
        }
        for (; i < end; i += w)
        {
            var v = k.Compute<TW, TVec>(i);
            k.Store<TW, TVec>(v, i);
            if (TCheck.On) chk0 = TW.Add(chk0, k.Check<TW, TVec>(v));
        }
        k.Store<TW, TVec>(last, end);
        return !TCheck.On || TW.AllZero(TW.Add(chk0, chk1));
    }

    /// <summary>Runs an order-free reduction over <c>p[0 .. n)</c>.</summary>
    public static double Scan<T, TS>(T* p, nint n) where T : unmanaged where TS : struct, IScanKernel<T>
    {
        int bytes = SimdElement.Bytes<T>();
        if (bytes >= 64 && n >= Vector512<T>.Count) return Scan<T, TS, Simd512<T>, Vector512<T>>(p, n);
        if (bytes >= 32 && n >= Vector256<T>.Count) return Scan<T, TS, Simd256<T>, Vector256<T>>(p, n);
        if (bytes >= 16 && n >= Vector128<T>.Count) return Scan<T, TS, Simd128<T>, Vector128<T>>(p, n);
        return TS.Scalar(p, n);
    }

    private static double Scan<T, TS, TW, TVec>(T* p, nint n)
        where T : unmanaged where TS : struct, IScanKernel<T> where TW : ISimdWidth<TVec, T> where TVec : unmanaged
    {
        nint w = TW.Count, end = n - w;
        // The last (possibly overlapping) vector starts every accumulator; four of them hide the latency of the combine.
        var a0 = TS.Map<TW, TVec>(TW.Load(p + end));
        TVec a1 = a0, a2 = a0, a3 = a0;
        nint i = 0;
        for (; i + 4 * w <= end; i += 4 * w)
        {
            a0 = TS.Combine<TW, TVec>(a0, TS.Map<TW, TVec>(TW.Load(p + i)));
            a1 = TS.Combine<TW, TVec>(a1, TS.Map<TW, TVec>(TW.Load(p + i + w)));
            a2 = TS.Combine<TW, TVec>(a2, TS.Map<TW, TVec>(TW.Load(p + i + 2 * w)));
            a3 = TS.Combine<TW, TVec>(a3, TS.Map<TW, TVec>(TW.Load(p + i + 3 * w)));
        }
        for (; i < end; i += w) a0 = TS.Combine<TW, TVec>(a0, TS.Map<TW, TVec>(TW.Load(p + i)));
        return TS.Finish<TW, TVec>(TS.Combine<TW, TVec>(TS.Combine<TW, TVec>(a0, a1), TS.Combine<TW, TVec>(a2, a3)));
    }

    /// <summary>
    /// Adds the terms of elements <c>[start, start + length)</c> to <paramref name="lanes"/>, element <c>start + j</c> to lane
    /// <c>j mod 8</c> (whole groups of eight on vectors, the rest one by one), and the checks to <paramref name="check"/>.
    /// The lanes continue from their values, so a sum may be fed range by range when each range but the last is a multiple of 8.
    /// </summary>
    public static void Lanes<TTerms>(in TTerms t, nint start, nint length, ref Lanes8 lanes, ref double check)
        where TTerms : struct, ILaneTerms<TTerms>
    {
        int bytes = TTerms.IsVectorizable ? SimdWidth.Bytes : 0;
        nint j = 0;
        if (length >= 8)
        {
            if (bytes >= 64) j = Lanes<TTerms, Simd512<double>, Vector512<double>>(t, start, length, ref lanes, ref check);
            else if (bytes >= 32) j = Lanes<TTerms, Simd256<double>, Vector256<double>>(t, start, length, ref lanes, ref check);
            else if (bytes >= 16) j = Lanes<TTerms, Simd128<double>, Vector128<double>>(t, start, length, ref lanes, ref check);
        }
        for (; j < length; j++)
        {
            lanes[(int)(j & 7)] += t.Term(start + j);
            if (TTerms.HasCheck) check += t.Check(start + j);
        }
    }

    /// <summary>Whole groups of eight terms in <c>8 / TW.Count</c> accumulators (lanes in order); returns the count done.</summary>
    private static nint Lanes<TTerms, TW, TVec>(in TTerms t, nint start, nint length, ref Lanes8 lanes, ref double check)
        where TTerms : struct, ILaneTerms<TTerms> where TW : ISimdWidth<TVec, double> where TVec : unmanaged
    {
        var terms = t;
        nint w = TW.Count;
        int parts = 8 / TW.Count;
        double* l = (double*)Unsafe.AsPointer(ref lanes[0]);
        var a0 = TW.Load(l);
        var a1 = parts > 1 ? TW.Load(l + w) : TW.Zero;
        var a2 = parts > 2 ? TW.Load(l + 2 * w) : TW.Zero;
        var a3 = parts > 2 ? TW.Load(l + 3 * w) : TW.Zero;
        var bad = TW.Zero;
        nint j = 0;
        for (; j + 8 <= length; j += 8)
        {
            nint i = start + j;
            a0 = TW.Add(a0, terms.Terms<TW, TVec>(i));
            if (parts > 1) a1 = TW.Add(a1, terms.Terms<TW, TVec>(i + w));
            if (parts > 2)
            {
                a2 = TW.Add(a2, terms.Terms<TW, TVec>(i + 2 * w));
                a3 = TW.Add(a3, terms.Terms<TW, TVec>(i + 3 * w));
            }
            if (TTerms.HasCheck)
            {
                // b * 0 is NaN exactly when b is not finite; the order of these additions does not matter.
                bad = TW.Add(bad, terms.Checks<TW, TVec>(i));
                if (parts > 1) bad = TW.Add(bad, terms.Checks<TW, TVec>(i + w));
                if (parts > 2) bad = TW.Add(bad, TW.Add(terms.Checks<TW, TVec>(i + 2 * w), terms.Checks<TW, TVec>(i + 3 * w)));
            }
        }
        TW.Store(a0, l);
        if (parts > 1) TW.Store(a1, l + w);
        if (parts > 2) { TW.Store(a2, l + 2 * w); TW.Store(a3, l + 3 * w); }
        if (TTerms.HasCheck)
            for (int k = 0; k < TW.Count; k++) check += TW.Element(bad, k);
        return j;
    }

    /// <summary><c>TW.Count</c> elements of <paramref name="p"/> from <paramref name="i"/>, as doubles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec LoadAsDouble<T, TW, TVec>(T* p, nint i) where T : unmanaged where TW : ISimdWidth<TVec, double> where TVec : unmanaged
        => typeof(T) == typeof(double) ? TW.Load((double*)p + i) : TW.LoadWidened((float*)p + i);
}
