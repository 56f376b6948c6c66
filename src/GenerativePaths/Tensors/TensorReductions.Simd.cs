using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GenerativePaths.Tensors;

// The engine behind TensorReductions. A reduction is a "reducer" that gives the partial value of one
// chunk (at most ChunkLength elements of one row) and a fold that combines partials in chunk order.
// ReduceRows runs the chunks of all rows on this thread or across cores and folds each row's partials
// in order, so the result never depends on the thread count.
public static partial class TensorReductions
{
    /// <summary>Partial value of a chunk and the fold of partials.</summary>
    internal interface IReducer<TSelf> where TSelf : struct, IReducer<TSelf>
    {
        /// <summary>The reducer for the row that starts <paramref name="rowStart"/> elements after the base.</summary>
        TSelf At(nint rowStart);
        /// <summary>The partial of elements <c>[start, start + length)</c>, relative to the row.</summary>
        double Chunk(nint start, nint length);
        /// <summary>Combines the running value with the next chunk's partial; the running value starts at 0.</summary>
        static abstract double Fold(double acc, double partial);
    }

    /// <summary>Per-element terms <c>t_i</c> (in double) whose sum a <see cref="Summed{TTerms}"/> reducer computes.</summary>
    internal interface ITerms<TSelf> where TSelf : struct, ITerms<TSelf>
    {
        static abstract bool IsVectorizable { get; }
        TSelf At(nint rowStart);
        double Term(nint i);
        /// <summary>Terms <c>i .. i+7</c>: lanes 0..3 in <paramref name="lo"/>, 4..7 in <paramref name="hi"/>.</summary>
        void Terms(nint i, out Vector256<double> lo, out Vector256<double> hi);
        /// <summary>Terms <c>i .. i+7</c> in four 128-bit vectors.</summary>
        void Terms(nint i, out Vector128<double> q0, out Vector128<double> q1, out Vector128<double> q2, out Vector128<double> q3);
    }

    /// <summary>A sum in the documented order: lane <c>i mod 8</c> within a chunk, pairwise lane combination, chunks in order.</summary>
    internal readonly struct Summed<TTerms>(TTerms terms) : IReducer<Summed<TTerms>> where TTerms : unmanaged, ITerms<TTerms>
    {
        private readonly TTerms _terms = terms;
        public Summed<TTerms> At(nint rowStart) => new(_terms.At(rowStart));
        public double Chunk(nint start, nint length) => ChunkSum(_terms, start, length);
        public static double Fold(double acc, double partial) => acc + partial;
    }

    /// <summary>Eight double accumulator lanes.</summary>
    [InlineArray(8)]
    internal struct Lanes8
    {
        private double _lane0;
    }

    /// <summary>Sum of the terms of one chunk: eight double lanes, combined pairwise.</summary>
    internal static double ChunkSum<TTerms>(in TTerms t, nint start, nint length) where TTerms : unmanaged, ITerms<TTerms>
    {
        int bytes = TTerms.IsVectorizable ? SimdWidth.Bytes : 0;
        var lanes = new Lanes8();
        nint j = 0;
        if (bytes >= 32 && length >= 8) j = Accumulate256(t, start, length, ref lanes);
        else if (bytes >= 16 && length >= 8) j = Accumulate128(t, start, length, ref lanes);
        for (; j < length; j++) lanes[(int)(j & 7)] += t.Term(start + j);
        return CombineLanes(lanes);
    }

    /// <summary>Whole groups of eight terms into lanes 0..3 and 4..7 of two 256-bit accumulators; returns the count done.</summary>
    private static nint Accumulate256<TTerms>(in TTerms t, nint start, nint length, ref Lanes8 lanes) where TTerms : unmanaged, ITerms<TTerms>
    {
        var terms = t;
        var a = Vector256<double>.Zero; var b = Vector256<double>.Zero;
        nint j = 0;
        for (; j + 8 <= length; j += 8)
        {
            terms.Terms(start + j, out Vector256<double> lo, out Vector256<double> hi);
            a += lo; b += hi;
        }
        Span<double> l = lanes;
        a.CopyTo(l); b.CopyTo(l.Slice(4));
        return j;
    }

    /// <summary>Whole groups of eight terms into four 128-bit accumulators; returns the count done.</summary>
    private static nint Accumulate128<TTerms>(in TTerms t, nint start, nint length, ref Lanes8 lanes) where TTerms : unmanaged, ITerms<TTerms>
    {
        var terms = t;
        var a = Vector128<double>.Zero; var b = Vector128<double>.Zero; var c = Vector128<double>.Zero; var d = Vector128<double>.Zero;
        nint j = 0;
        for (; j + 8 <= length; j += 8)
        {
            terms.Terms(start + j, out Vector128<double> q0, out Vector128<double> q1, out Vector128<double> q2, out Vector128<double> q3);
            a += q0; b += q1; c += q2; d += q3;
        }
        Span<double> l = lanes;
        a.CopyTo(l); b.CopyTo(l.Slice(2)); c.CopyTo(l.Slice(4)); d.CopyTo(l.Slice(6));
        return j;
    }

    private static bool IsVectorType<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double);

    /// <summary>Elements <c>i .. i+7</c> of <paramref name="p"/> as doubles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Load8<T>(T* p, nint i, out Vector256<double> lo, out Vector256<double> hi) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) (lo, hi) = Vector256.Widen(Vector256.Load((float*)p + i));
        else { lo = Vector256.Load((double*)p + i); hi = Vector256.Load((double*)p + i + 4); }
    }

    /// <summary>Elements <c>i .. i+7</c> of <paramref name="p"/> as doubles, in 128-bit vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Load8<T>(T* p, nint i, out Vector128<double> q0, out Vector128<double> q1, out Vector128<double> q2, out Vector128<double> q3) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            (q0, q1) = Vector128.Widen(Vector128.Load((float*)p + i));
            (q2, q3) = Vector128.Widen(Vector128.Load((float*)p + i + 4));
        }
        else
        {
            double* d = (double*)p + i;
            q0 = Vector128.Load(d); q1 = Vector128.Load(d + 2); q2 = Vector128.Load(d + 4); q3 = Vector128.Load(d + 6);
        }
    }

    /// <summary>Terms <c>x_i y_i</c>.</summary>
    internal readonly unsafe struct DotTerms<T>(T* x, T* y) : ITerms<DotTerms<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T* _x = x, _y = y;
        public static bool IsVectorizable => IsVectorType<T>();
        public DotTerms<T> At(nint rowStart) => new(_x + rowStart, _y + rowStart);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double Term(nint i) => double.CreateTruncating(_x[i]) * double.CreateTruncating(_y[i]);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Terms(nint i, out Vector256<double> lo, out Vector256<double> hi)
        {
            Load8(_x, i, out Vector256<double> xl, out Vector256<double> xh);
            Load8(_y, i, out Vector256<double> yl, out Vector256<double> yh);
            lo = xl * yl; hi = xh * yh;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Terms(nint i, out Vector128<double> q0, out Vector128<double> q1, out Vector128<double> q2, out Vector128<double> q3)
        {
            Load8(_x, i, out Vector128<double> x0, out Vector128<double> x1, out Vector128<double> x2, out Vector128<double> x3);
            Load8(_y, i, out Vector128<double> y0, out Vector128<double> y1, out Vector128<double> y2, out Vector128<double> y3);
            q0 = x0 * y0; q1 = x1 * y1; q2 = x2 * y2; q3 = x3 * y3;
        }
    }

    /// <summary>Terms <c>(e_i / (atol + rtol max(|a_i|, |b_i|)))^2</c>.</summary>
    internal readonly unsafe struct ErrorTerms<T>(T* e, T* a, T* b, double atol, double rtol) : ITerms<ErrorTerms<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T* _e = e, _a = a, _b = b;
        private readonly double _atol = atol, _rtol = rtol;
        public static bool IsVectorizable => IsVectorType<T>();
        public ErrorTerms<T> At(nint rowStart) => new(_e + rowStart, _a + rowStart, _b + rowStart, _atol, _rtol);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double Term(nint i)
        {
            double scale = _atol + _rtol * Math.Max(Math.Abs(double.CreateTruncating(_a[i])), Math.Abs(double.CreateTruncating(_b[i])));
            double r = double.CreateTruncating(_e[i]) / scale;
            return r * r;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Terms(nint i, out Vector256<double> lo, out Vector256<double> hi)
        {
            Load8(_e, i, out Vector256<double> el, out Vector256<double> eh);
            Load8(_a, i, out Vector256<double> al, out Vector256<double> ah);
            Load8(_b, i, out Vector256<double> bl, out Vector256<double> bh);
            var atol = Vector256.Create(_atol); var rtol = Vector256.Create(_rtol);
            lo = Square256(el / (atol + rtol * Vector256.Max(Vector256.Abs(al), Vector256.Abs(bl))));
            hi = Square256(eh / (atol + rtol * Vector256.Max(Vector256.Abs(ah), Vector256.Abs(bh))));
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Terms(nint i, out Vector128<double> q0, out Vector128<double> q1, out Vector128<double> q2, out Vector128<double> q3)
        {
            Load8(_e, i, out Vector128<double> e0, out Vector128<double> e1, out Vector128<double> e2, out Vector128<double> e3);
            Load8(_a, i, out Vector128<double> a0, out Vector128<double> a1, out Vector128<double> a2, out Vector128<double> a3);
            Load8(_b, i, out Vector128<double> b0, out Vector128<double> b1, out Vector128<double> b2, out Vector128<double> b3);
            var atol = Vector128.Create(_atol); var rtol = Vector128.Create(_rtol);
            q0 = Square128(e0 / (atol + rtol * Vector128.Max(Vector128.Abs(a0), Vector128.Abs(b0))));
            q1 = Square128(e1 / (atol + rtol * Vector128.Max(Vector128.Abs(a1), Vector128.Abs(b1))));
            q2 = Square128(e2 / (atol + rtol * Vector128.Max(Vector128.Abs(a2), Vector128.Abs(b2))));
            q3 = Square128(e3 / (atol + rtol * Vector128.Max(Vector128.Abs(a3), Vector128.Abs(b3))));
        }
    }

    /// <summary>Terms <c>(e_i / (atol_j + rtol max(|a_i|, |b_i|)))^2</c>, <c>j</c> the index within the row.</summary>
    internal readonly unsafe struct ErrorTermsPerComponent<T>(T* e, T* a, T* b, double* atol, double rtol) : ITerms<ErrorTermsPerComponent<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T* _e = e, _a = a, _b = b;
        private readonly double* _atol = atol;
        private readonly double _rtol = rtol;
        public static bool IsVectorizable => IsVectorType<T>();
        public ErrorTermsPerComponent<T> At(nint rowStart) => new(_e + rowStart, _a + rowStart, _b + rowStart, _atol, _rtol);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double Term(nint i)
        {
            double scale = _atol[i] + _rtol * Math.Max(Math.Abs(double.CreateTruncating(_a[i])), Math.Abs(double.CreateTruncating(_b[i])));
            double r = double.CreateTruncating(_e[i]) / scale;
            return r * r;
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Terms(nint i, out Vector256<double> lo, out Vector256<double> hi)
        {
            Load8(_e, i, out Vector256<double> el, out Vector256<double> eh);
            Load8(_a, i, out Vector256<double> al, out Vector256<double> ah);
            Load8(_b, i, out Vector256<double> bl, out Vector256<double> bh);
            var rtol = Vector256.Create(_rtol);
            lo = Square256(el / (Vector256.Load(_atol + i) + rtol * Vector256.Max(Vector256.Abs(al), Vector256.Abs(bl))));
            hi = Square256(eh / (Vector256.Load(_atol + i + 4) + rtol * Vector256.Max(Vector256.Abs(ah), Vector256.Abs(bh))));
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Terms(nint i, out Vector128<double> q0, out Vector128<double> q1, out Vector128<double> q2, out Vector128<double> q3)
        {
            Load8(_e, i, out Vector128<double> e0, out Vector128<double> e1, out Vector128<double> e2, out Vector128<double> e3);
            Load8(_a, i, out Vector128<double> a0, out Vector128<double> a1, out Vector128<double> a2, out Vector128<double> a3);
            Load8(_b, i, out Vector128<double> b0, out Vector128<double> b1, out Vector128<double> b2, out Vector128<double> b3);
            var rtol = Vector128.Create(_rtol);
            double* t = _atol + i;
            q0 = Square128(e0 / (Vector128.Load(t) + rtol * Vector128.Max(Vector128.Abs(a0), Vector128.Abs(b0))));
            q1 = Square128(e1 / (Vector128.Load(t + 2) + rtol * Vector128.Max(Vector128.Abs(a1), Vector128.Abs(b1))));
            q2 = Square128(e2 / (Vector128.Load(t + 4) + rtol * Vector128.Max(Vector128.Abs(a2), Vector128.Abs(b2))));
            q3 = Square128(e3 / (Vector128.Load(t + 6) + rtol * Vector128.Max(Vector128.Abs(a3), Vector128.Abs(b3))));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Square256(Vector256<double> r) => r * r;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<double> Square128(Vector128<double> r) => r * r;

    /// <summary>Max-abs of a chunk; folded with a NaN-propagating max.</summary>
    internal readonly unsafe struct MaxAbsReducer<T>(T* x) : IReducer<MaxAbsReducer<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T* _x = x;
        public MaxAbsReducer<T> At(nint rowStart) => new(_x + rowStart);
        public double Chunk(nint start, nint length) => MaxAbsRange(_x + start, length);
        public static double Fold(double acc, double partial) => Math.Max(acc, partial);
    }

    /// <summary>0 for a finite chunk, NaN otherwise; folded by addition.</summary>
    internal readonly unsafe struct FiniteReducer<T>(T* x) : IReducer<FiniteReducer<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T* _x = x;
        public FiniteReducer<T> At(nint rowStart) => new(_x + rowStart);
        public double Chunk(nint start, nint length) => IsFiniteRange(_x + start, length) ? 0 : double.NaN;
        public static double Fold(double acc, double partial) => acc + partial;
    }

    internal static unsafe double MaxAbsRange<T>(T* p, nint n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int bytes = IsVectorType<T>() ? SimdWidth.Bytes : 0;
        if (bytes >= 64 && n >= Vector512<T>.Count) return MaxAbs512(p, n);
        if (bytes >= 32 && n >= Vector256<T>.Count) return MaxAbs256(p, n);
        if (bytes >= 16 && n >= Vector128<T>.Count) return MaxAbs128(p, n);
        double m = 0;
        for (nint i = 0; i < n; i++)
        {
            double v = Math.Abs(double.CreateTruncating(p[i]));
            if (double.IsNaN(v)) return double.NaN;
            if (v > m) m = v;
        }
        return m;
    }

    internal static unsafe bool IsFiniteRange<T>(T* p, nint n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int bytes = IsVectorType<T>() ? SimdWidth.Bytes : 0;
        if (bytes >= 64 && n >= Vector512<T>.Count) return IsFinite512(p, n);
        if (bytes >= 32 && n >= Vector256<T>.Count) return IsFinite256(p, n);
        if (bytes >= 16 && n >= Vector128<T>.Count) return IsFinite128(p, n);
        for (nint i = 0; i < n; i++)
            if (!T.IsFinite(p[i])) return false;
        return true;
    }

    private static unsafe double MaxAbs512<T>(T* p, nint n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint w = Vector512<T>.Count;
        var acc = Vector512.Abs(Vector512.Load(p + n - w));
        for (nint i = 0; i < n - w; i += w) acc = Vector512.Max(acc, Vector512.Abs(Vector512.Load(p + i)));
        double m = 0;
        for (int k = 0; k < Vector512<T>.Count; k++)
        {
            double v = double.CreateTruncating(acc[k]);
            if (double.IsNaN(v)) return double.NaN;
            if (v > m) m = v;
        }
        return m;
    }

    private static unsafe bool IsFinite512<T>(T* p, nint n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint w = Vector512<T>.Count;
        var zero = Vector512<T>.Zero;
        var acc = Vector512.Load(p + n - w) * zero;
        for (nint i = 0; i < n - w; i += w) acc += Vector512.Load(p + i) * zero;
        return Vector512.EqualsAll(acc, zero);
    }

    private static unsafe double MaxAbs256<T>(T* p, nint n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint w = Vector256<T>.Count;
        var acc = Vector256.Abs(Vector256.Load(p + n - w));
        for (nint i = 0; i < n - w; i += w) acc = Vector256.Max(acc, Vector256.Abs(Vector256.Load(p + i)));
        double m = 0;
        for (int k = 0; k < Vector256<T>.Count; k++)
        {
            double v = double.CreateTruncating(acc[k]);
            if (double.IsNaN(v)) return double.NaN;
            if (v > m) m = v;
        }
        return m;
    }

    private static unsafe bool IsFinite256<T>(T* p, nint n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint w = Vector256<T>.Count;
        var zero = Vector256<T>.Zero;
        var acc = Vector256.Load(p + n - w) * zero;
        for (nint i = 0; i < n - w; i += w) acc += Vector256.Load(p + i) * zero;
        return Vector256.EqualsAll(acc, zero);
    }

    private static unsafe double MaxAbs128<T>(T* p, nint n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint w = Vector128<T>.Count;
        var acc = Vector128.Abs(Vector128.Load(p + n - w));
        for (nint i = 0; i < n - w; i += w) acc = Vector128.Max(acc, Vector128.Abs(Vector128.Load(p + i)));
        double m = 0;
        for (int k = 0; k < Vector128<T>.Count; k++)
        {
            double v = double.CreateTruncating(acc[k]);
            if (double.IsNaN(v)) return double.NaN;
            if (v > m) m = v;
        }
        return m;
    }

    private static unsafe bool IsFinite128<T>(T* p, nint n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        nint w = Vector128<T>.Count;
        var zero = Vector128<T>.Zero;
        var acc = Vector128.Load(p + n - w) * zero;
        for (nint i = 0; i < n - w; i += w) acc += Vector128.Load(p + i) * zero;
        return Vector128.EqualsAll(acc, zero);
    }

    /// <summary>State of a split reduction, on the caller's stack.</summary>
    private unsafe struct ReduceState<TR> where TR : unmanaged, IReducer<TR>
    {
        public TR Reducer;
        public double* Results;
        public double* Partials;
        public nint RowLength;
        public nint ChunksPerRow;
        public nint RowsPerUnit;
        public int Batch;
    }

    /// <summary>
    /// Reduces each of <paramref name="batch"/> rows of <paramref name="rowLength"/> elements into
    /// <c>results[b]</c>: the fold, from 0, of the row's chunk partials in order (0 for empty rows).
    /// </summary>
    internal static unsafe void ReduceRows<TR>(in TR reducer, int batch, nint rowLength, double* results) where TR : unmanaged, IReducer<TR>
    {
        if (batch == 0) return;
        if (rowLength == 0)
        {
            for (int b = 0; b < batch; b++) results[b] = 0;
            return;
        }
        long elements = (long)batch * rowLength;
        nint chunksPerRow = (rowLength + ChunkLength - 1) / ChunkLength;
        var state = new ReduceState<TR> { Reducer = reducer, Results = results, RowLength = rowLength, ChunksPerRow = chunksPerRow, Batch = batch };
        if (chunksPerRow == 1)
        {
            // Short rows: a unit of work is a group of whole rows, each reduced by one thread.
            nint rowsPerUnit = Math.Max(1, ChunkLength / rowLength);
            long units = (batch + rowsPerUnit - 1) / rowsPerUnit;
            int degree = TensorCore.DegreeFor(elements, (int)Math.Min(units, int.MaxValue));
            state.RowsPerUnit = rowsPerUnit;
            if (degree <= 1) { for (int b = 0; b < batch; b++) results[b] = Row(reducer, b, rowLength); }
            else ParallelJob.Run(&RowGroup<TR>, &state, (int)units, degree);
            return;
        }
        // Long rows: a unit is one chunk of one row; partials are folded per row in chunk order.
        long total = batch * (long)chunksPerRow;
        int deg = total > int.MaxValue ? 1 : TensorCore.DegreeFor(elements, (int)total);
        if (deg <= 1)
        {
            for (int b = 0; b < batch; b++) results[b] = Row(reducer, b, rowLength);
            return;
        }
        const int StackPartials = 256;
        double[]? rented = null;
        Span<double> buffer = total <= StackPartials ? stackalloc double[StackPartials] : (rented = ArrayPool<double>.Shared.Rent((int)total));
        fixed (double* partials = buffer)
        {
            state.Partials = partials;
            ParallelJob.Run(&RowChunk<TR>, &state, (int)total, deg);
            for (int b = 0; b < batch; b++)
            {
                double acc = 0;
                double* p = partials + (nint)b * chunksPerRow;
                for (nint k = 0; k < chunksPerRow; k++) acc = TR.Fold(acc, p[k]);
                results[b] = acc;
            }
        }
        if (rented is not null) ArrayPool<double>.Shared.Return(rented);
    }

    /// <summary>One row, serially: the fold of its chunk partials in order.</summary>
    private static double Row<TR>(in TR reducer, nint b, nint rowLength) where TR : unmanaged, IReducer<TR>
    {
        var r = reducer.At(b * rowLength);
        double acc = 0;
        for (nint start = 0; start < rowLength; start += ChunkLength)
            acc = TR.Fold(acc, r.Chunk(start, Math.Min(ChunkLength, rowLength - start)));
        return acc;
    }

    private static unsafe void RowGroup<TR>(void* state, int unit) where TR : unmanaged, IReducer<TR>
    {
        ref var s = ref *(ReduceState<TR>*)state;
        nint first = unit * s.RowsPerUnit, last = Math.Min(first + s.RowsPerUnit, s.Batch);
        for (nint b = first; b < last; b++) s.Results[b] = Row(s.Reducer, b, s.RowLength);
    }

    private static unsafe void RowChunk<TR>(void* state, int unit) where TR : unmanaged, IReducer<TR>
    {
        ref var s = ref *(ReduceState<TR>*)state;
        nint b = unit / s.ChunksPerRow, k = unit % s.ChunksPerRow;
        nint start = k * ChunkLength;
        s.Partials[unit] = s.Reducer.At(b * s.RowLength).Chunk(start, Math.Min(ChunkLength, s.RowLength - start));
    }
}
