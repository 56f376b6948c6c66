using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GenerativePaths.Tensors;

// The engine behind the LinearCombination overloads, after the pattern of TensorPrimitives in
// dotnet/runtime: a driver tries 512-, 256-, then 128-bit vectors, then a scalar loop; the tail is one
// overlapping last vector computed before any store; the term count is a type parameter, so each count
// compiles to its own loop with no branch on the count inside it.
public static partial class TensorKernels
{
    /// <summary>Elements per unit of parallel work for the element-wise kernels.</summary>
    internal const int ParallelChunk = 1 << 16;

    /// <summary>Base pointers and coefficients of one combination; <c>P0..P5</c> are per-sample coefficients (or null).</summary>
    internal unsafe struct CombineArgs<T> where T : unmanaged
    {
        public T* D, X0, X1, X2, X3, X4, X5;
        public T* P0, P1, P2, P3, P4, P5;
        public T C0, C1, C2, C3, C4, C5;
        public nint Length, RowLength;
        public bool NonTemporal;
    }

    /// <summary>A term count fixed at compile time.</summary>
    internal interface ITermCount { static abstract int Count { get; } }
    internal struct One : ITermCount { public static int Count => 1; }
    internal struct Two : ITermCount { public static int Count => 2; }
    internal struct Three : ITermCount { public static int Count => 3; }
    internal struct Four : ITermCount { public static int Count => 4; }
    internal struct Five : ITermCount { public static int Count => 5; }
    internal struct Six : ITermCount { public static int Count => 6; }

    private static void Dispatch<T>(ref CombineArgs<T> a, int count, bool perSample) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (count)
        {
            case 1: Split<T, One>(ref a, perSample); break;
            case 2: Split<T, Two>(ref a, perSample); break;
            case 3: Split<T, Three>(ref a, perSample); break;
            case 4: Split<T, Four>(ref a, perSample); break;
            case 5: Split<T, Five>(ref a, perSample); break;
            case 6: Split<T, Six>(ref a, perSample); break;
            default: throw new ArgumentOutOfRangeException(nameof(count), count, "A linear combination has 1 to 6 terms.");
        }
    }

    /// <summary>Runs the whole range on this thread, or in chunks of <see cref="ParallelChunk"/> across cores when large.</summary>
    private static unsafe void Split<T, TN>(ref CombineArgs<T> a, bool perSample)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        a.NonTemporal = (long)a.Length * Unsafe.SizeOf<T>() >= TensorCore.NonTemporalThreshold;
        int chunks = (int)((a.Length + ParallelChunk - 1) / ParallelChunk);
        int degree = TensorCore.DegreeFor(a.Length, chunks);
        if (degree <= 1)
        {
            if (perSample) RunRows<T, TN>(a, 0, a.Length);
            else Run<T, TN>(a, 0, a.Length);
            return;
        }
        fixed (CombineArgs<T>* state = &a)
            ParallelJob.Run(perSample ? &RowsChunk<T, TN> : &Chunk<T, TN>, state, chunks, degree);
    }

    private static unsafe void Chunk<T, TN>(void* state, int k)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        ref CombineArgs<T> a = ref *(CombineArgs<T>*)state;
        nint start = (nint)k * ParallelChunk;
        Run<T, TN>(a, start, Math.Min(ParallelChunk, a.Length - start));
    }

    private static unsafe void RowsChunk<T, TN>(void* state, int k)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        ref CombineArgs<T> a = ref *(CombineArgs<T>*)state;
        nint start = (nint)k * ParallelChunk;
        RunRows<T, TN>(a, start, Math.Min(ParallelChunk, a.Length - start));
    }

    /// <summary>Elements <c>[start, start + n)</c> of a per-sample combination: each row's part with that row's coefficients.</summary>
    private static unsafe void RunRows<T, TN>(in CombineArgs<T> a, nint start, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        nint row = a.RowLength, end = start + n;
        var r = a;
        for (nint b = start / row, s = start; s < end; b++)
        {
            nint e = Math.Min((b + 1) * row, end);
            r.C0 = a.P0[b];
            if (TN.Count > 1) r.C1 = a.P1[b];
            if (TN.Count > 2) r.C2 = a.P2[b];
            if (TN.Count > 3) r.C3 = a.P3[b];
            if (TN.Count > 4) r.C4 = a.P4[b];
            if (TN.Count > 5) r.C5 = a.P5[b];
            Run<T, TN>(r, s, e - s);
            s = e;
        }
    }

    /// <summary>Elements <c>[start, start + n)</c> with scalar coefficients: the widest vector that fits, else scalar.</summary>
    private static void Run<T, TN>(in CombineArgs<T> a, nint start, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        int bytes = SimdWidth.Bytes;
        if (bytes >= 64 && n >= Vector512<T>.Count) Run512<T, TN>(a, start, n);
        else if (bytes >= 32 && n >= Vector256<T>.Count) Run256<T, TN>(a, start, n);
        else if (bytes >= 16 && n >= Vector128<T>.Count) Run128<T, TN>(a, start, n);
        else RunScalar<T, TN>(a, start, n);
    }

    /// <summary>Orders the non-temporal stores before what follows (they are weakly ordered on x86).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFence()
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.StoreFence();
    }

    private static unsafe void RunScalar<T, TN>(in CombineArgs<T> a, nint start, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        T* d = a.D + start, x0 = a.X0 + start, x1 = a.X1 + start, x2 = a.X2 + start, x3 = a.X3 + start, x4 = a.X4 + start, x5 = a.X5 + start;
        T c0 = a.C0, c1 = a.C1, c2 = a.C2, c3 = a.C3, c4 = a.C4, c5 = a.C5;
        for (nint i = 0; i < n; i++)
        {
            T acc = c0 * x0[i];
            if (TN.Count > 1) acc += c1 * x1[i];
            if (TN.Count > 2) acc += c2 * x2[i];
            if (TN.Count > 3) acc += c3 * x3[i];
            if (TN.Count > 4) acc += c4 * x4[i];
            if (TN.Count > 5) acc += c5 * x5[i];
            d[i] = acc;
        }
    }

    /// <summary>The 512-bit loop over <c>[start, start + n)</c>, <c>n</c> at least one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Run512<T, TN>(in CombineArgs<T> a, nint start, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        T* d = a.D + start, x0 = a.X0 + start, x1 = a.X1 + start, x2 = a.X2 + start, x3 = a.X3 + start, x4 = a.X4 + start, x5 = a.X5 + start;
        var c0 = Vector512.Create(a.C0); var c1 = Vector512.Create(a.C1); var c2 = Vector512.Create(a.C2);
        var c3 = Vector512.Create(a.C3); var c4 = Vector512.Create(a.C4); var c5 = Vector512.Create(a.C5);
        nint w = Vector512<T>.Count;
        nint end = n - w;
        // The last (possibly overlapping) vector is computed before anything is stored, so in-place calls are safe.
        Vector512<T> last = At512<T, TN>(end, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5);
        if (a.NonTemporal && n >= 2 * w)
        {
            // Large outputs: non-temporal stores from the first aligned element (no read-for-ownership of the
            // destination); the unaligned head and the tail are computed first and stored last, so in place stays safe.
            Vector512<T> first = At512<T, TN>(0, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5);
            nint j = (nint)(((64 - ((nuint)d & (64 - 1))) & (64 - 1)) / (nuint)sizeof(T));
            for (; j + w <= n; j += w)
                At512<T, TN>(j, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).StoreAlignedNonTemporal(d + j);
            StoreFence();
            first.Store(d);
            last.Store(d + end);
            return;
        }
        nint i = 0;
        for (; i + 4 * w <= end; i += 4 * w)
        {
            At512<T, TN>(i, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i);
            At512<T, TN>(i + w, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i + w);
            At512<T, TN>(i + 2 * w, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i + 2 * w);
            At512<T, TN>(i + 3 * w, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i + 3 * w);
        }
        for (; i < end; i += w)
            At512<T, TN>(i, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i);
        last.Store(d + end);
    }

    /// <summary><c>((c0*x0 + c1*x1) + c2*x2) + ...</c> for one 512-bit vector at element <paramref name="i"/>; <typeparamref name="TN"/> fixes the term count at compile time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<T> At512<T, TN>(nint i, T* x0, T* x1, T* x2, T* x3, T* x4, T* x5,
        Vector512<T> c0, Vector512<T> c1, Vector512<T> c2, Vector512<T> c3, Vector512<T> c4, Vector512<T> c5)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        var acc = c0 * Vector512.Load(x0 + i);
        if (TN.Count > 1) acc += c1 * Vector512.Load(x1 + i);
        if (TN.Count > 2) acc += c2 * Vector512.Load(x2 + i);
        if (TN.Count > 3) acc += c3 * Vector512.Load(x3 + i);
        if (TN.Count > 4) acc += c4 * Vector512.Load(x4 + i);
        if (TN.Count > 5) acc += c5 * Vector512.Load(x5 + i);
        return acc;
    }

    /// <summary>The 256-bit loop over <c>[start, start + n)</c>, <c>n</c> at least one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Run256<T, TN>(in CombineArgs<T> a, nint start, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        T* d = a.D + start, x0 = a.X0 + start, x1 = a.X1 + start, x2 = a.X2 + start, x3 = a.X3 + start, x4 = a.X4 + start, x5 = a.X5 + start;
        var c0 = Vector256.Create(a.C0); var c1 = Vector256.Create(a.C1); var c2 = Vector256.Create(a.C2);
        var c3 = Vector256.Create(a.C3); var c4 = Vector256.Create(a.C4); var c5 = Vector256.Create(a.C5);
        nint w = Vector256<T>.Count;
        nint end = n - w;
        // The last (possibly overlapping) vector is computed before anything is stored, so in-place calls are safe.
        Vector256<T> last = At256<T, TN>(end, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5);
        if (a.NonTemporal && n >= 2 * w)
        {
            // Large outputs: non-temporal stores from the first aligned element (no read-for-ownership of the
            // destination); the unaligned head and the tail are computed first and stored last, so in place stays safe.
            Vector256<T> first = At256<T, TN>(0, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5);
            nint j = (nint)(((32 - ((nuint)d & (32 - 1))) & (32 - 1)) / (nuint)sizeof(T));
            for (; j + w <= n; j += w)
                At256<T, TN>(j, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).StoreAlignedNonTemporal(d + j);
            StoreFence();
            first.Store(d);
            last.Store(d + end);
            return;
        }
        nint i = 0;
        for (; i + 4 * w <= end; i += 4 * w)
        {
            At256<T, TN>(i, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i);
            At256<T, TN>(i + w, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i + w);
            At256<T, TN>(i + 2 * w, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i + 2 * w);
            At256<T, TN>(i + 3 * w, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i + 3 * w);
        }
        for (; i < end; i += w)
            At256<T, TN>(i, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i);
        last.Store(d + end);
    }

    /// <summary><c>((c0*x0 + c1*x1) + c2*x2) + ...</c> for one 256-bit vector at element <paramref name="i"/>; <typeparamref name="TN"/> fixes the term count at compile time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<T> At256<T, TN>(nint i, T* x0, T* x1, T* x2, T* x3, T* x4, T* x5,
        Vector256<T> c0, Vector256<T> c1, Vector256<T> c2, Vector256<T> c3, Vector256<T> c4, Vector256<T> c5)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        var acc = c0 * Vector256.Load(x0 + i);
        if (TN.Count > 1) acc += c1 * Vector256.Load(x1 + i);
        if (TN.Count > 2) acc += c2 * Vector256.Load(x2 + i);
        if (TN.Count > 3) acc += c3 * Vector256.Load(x3 + i);
        if (TN.Count > 4) acc += c4 * Vector256.Load(x4 + i);
        if (TN.Count > 5) acc += c5 * Vector256.Load(x5 + i);
        return acc;
    }

    /// <summary>The 128-bit loop over <c>[start, start + n)</c>, <c>n</c> at least one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Run128<T, TN>(in CombineArgs<T> a, nint start, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        T* d = a.D + start, x0 = a.X0 + start, x1 = a.X1 + start, x2 = a.X2 + start, x3 = a.X3 + start, x4 = a.X4 + start, x5 = a.X5 + start;
        var c0 = Vector128.Create(a.C0); var c1 = Vector128.Create(a.C1); var c2 = Vector128.Create(a.C2);
        var c3 = Vector128.Create(a.C3); var c4 = Vector128.Create(a.C4); var c5 = Vector128.Create(a.C5);
        nint w = Vector128<T>.Count;
        nint end = n - w;
        // The last (possibly overlapping) vector is computed before anything is stored, so in-place calls are safe.
        Vector128<T> last = At128<T, TN>(end, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5);
        if (a.NonTemporal && n >= 2 * w)
        {
            // Large outputs: non-temporal stores from the first aligned element (no read-for-ownership of the
            // destination); the unaligned head and the tail are computed first and stored last, so in place stays safe.
            Vector128<T> first = At128<T, TN>(0, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5);
            nint j = (nint)(((16 - ((nuint)d & (16 - 1))) & (16 - 1)) / (nuint)sizeof(T));
            for (; j + w <= n; j += w)
                At128<T, TN>(j, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).StoreAlignedNonTemporal(d + j);
            StoreFence();
            first.Store(d);
            last.Store(d + end);
            return;
        }
        nint i = 0;
        for (; i + 4 * w <= end; i += 4 * w)
        {
            At128<T, TN>(i, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i);
            At128<T, TN>(i + w, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i + w);
            At128<T, TN>(i + 2 * w, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i + 2 * w);
            At128<T, TN>(i + 3 * w, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i + 3 * w);
        }
        for (; i < end; i += w)
            At128<T, TN>(i, x0, x1, x2, x3, x4, x5, c0, c1, c2, c3, c4, c5).Store(d + i);
        last.Store(d + end);
    }

    /// <summary><c>((c0*x0 + c1*x1) + c2*x2) + ...</c> for one 128-bit vector at element <paramref name="i"/>; <typeparamref name="TN"/> fixes the term count at compile time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector128<T> At128<T, TN>(nint i, T* x0, T* x1, T* x2, T* x3, T* x4, T* x5,
        Vector128<T> c0, Vector128<T> c1, Vector128<T> c2, Vector128<T> c3, Vector128<T> c4, Vector128<T> c5)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        var acc = c0 * Vector128.Load(x0 + i);
        if (TN.Count > 1) acc += c1 * Vector128.Load(x1 + i);
        if (TN.Count > 2) acc += c2 * Vector128.Load(x2 + i);
        if (TN.Count > 3) acc += c3 * Vector128.Load(x3 + i);
        if (TN.Count > 4) acc += c4 * Vector128.Load(x4 + i);
        if (TN.Count > 5) acc += c5 * Vector128.Load(x5 + i);
        return acc;
    }
}
