using System.Numerics;
using System.Runtime.CompilerServices;

namespace GenerativePaths.Tensors;

// The engine behind the LinearCombination overloads: the combination is one element-wise kernel (CombineKernel)
// run by the kernel driver (SimdDriver.Map: 512-, 256-, then 128-bit vectors, then a scalar loop; the tail is one
// overlapping last vector computed before any store); the term count is a type parameter, so each count
// compiles to its own loop with no branch on the count inside it. Large calls are split across cores here.
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
        a.NonTemporal = (long)a.Length * Unsafe.SizeOf<T>() >= TensorCoreSettings.NonTemporalThreshold;
        int chunks = (int)((a.Length + ParallelChunk - 1) / ParallelChunk);
        int degree = TensorCoreSettings.DegreeFor(a.Length, chunks);
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

    /// <summary>Elements <c>[start, start + n)</c> with scalar coefficients, through the kernel driver.</summary>
    private static unsafe void Run<T, TN>(in CombineArgs<T> a, nint start, nint n)
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        var kernel = new CombineKernel<T, TN>(a, start);
        SimdDriver.Map<T, CombineKernel<T, TN>, FlagOff>(ref kernel, n, a.NonTemporal);
    }

    /// <summary>
    /// <c>d = ((c0*x0 + c1*x1) + c2*x2) + ...</c> element by element, <typeparamref name="TN"/> terms fixed at compile time;
    /// pointers start at element <c>start</c> of the call.
    /// </summary>
    internal readonly unsafe struct CombineKernel<T, TN> : IMapKernel<T>
        where T : unmanaged, IFloatingPointIeee754<T> where TN : struct, ITermCount
    {
        private readonly T* _d, _x0, _x1, _x2, _x3, _x4, _x5;
        private readonly T _c0, _c1, _c2, _c3, _c4, _c5;

        public CombineKernel(in CombineArgs<T> a, nint start)
        {
            _d = a.D + start; _x0 = a.X0 + start; _x1 = a.X1 + start; _x2 = a.X2 + start; _x3 = a.X3 + start; _x4 = a.X4 + start; _x5 = a.X5 + start;
            _c0 = a.C0; _c1 = a.C1; _c2 = a.C2; _c3 = a.C3; _c4 = a.C4; _c5 = a.C5;
        }

        public T* Destination => _d;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Outputs<TVec> Compute<TW, TVec>(nint i) where TW : ISimdWidth<TVec, T> where TVec : unmanaged
        {
            var acc = TW.Multiply(TW.Create(_c0), TW.Load(_x0 + i));
            if (TN.Count > 1) acc = TW.Add(acc, TW.Multiply(TW.Create(_c1), TW.Load(_x1 + i)));
            if (TN.Count > 2) acc = TW.Add(acc, TW.Multiply(TW.Create(_c2), TW.Load(_x2 + i)));
            if (TN.Count > 3) acc = TW.Add(acc, TW.Multiply(TW.Create(_c3), TW.Load(_x3 + i)));
            if (TN.Count > 4) acc = TW.Add(acc, TW.Multiply(TW.Create(_c4), TW.Load(_x4 + i)));
            if (TN.Count > 5) acc = TW.Add(acc, TW.Multiply(TW.Create(_c5), TW.Load(_x5 + i)));
            return new Outputs<TVec> { A = acc };
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store<TW, TVec>(in Outputs<TVec> v, nint i) where TW : ISimdWidth<TVec, T> where TVec : unmanaged => TW.Store(v.A, _d + i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Check<TW, TVec>(in Outputs<TVec> v) where TW : ISimdWidth<TVec, T> where TVec : unmanaged => TW.Subtract(v.A, v.A);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public T Scalar(nint i)
        {
            T acc = _c0 * _x0[i];
            if (TN.Count > 1) acc += _c1 * _x1[i];
            if (TN.Count > 2) acc += _c2 * _x2[i];
            if (TN.Count > 3) acc += _c3 * _x3[i];
            if (TN.Count > 4) acc += _c4 * _x4[i];
            if (TN.Count > 5) acc += _c5 * _x5[i];
            _d[i] = acc;
            return acc - acc;
        }
    }
}
