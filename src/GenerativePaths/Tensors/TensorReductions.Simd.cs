using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace GenerativePaths.Tensors;

// The engine behind TensorReductions. A reduction is a "reducer" that gives the partial value of one
// chunk (at most ChunkLength elements of one row) and a fold that combines partials in chunk order.
// ReduceRows runs the chunks of all rows on this thread or across cores and folds each row's partials
// in order, so the result never depends on the thread count. The chunk kernels are kernels of the one
// driver (SimdDriver.Lanes for sums, SimdDriver.Scan for max-abs and the finite check).
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

    /// <summary>A sum in the documented order: lane <c>i mod 8</c> within a chunk, pairwise lane combination, chunks in order.</summary>
    internal readonly struct Summed<TTerms>(TTerms terms) : IReducer<Summed<TTerms>> where TTerms : struct, ILaneTerms<TTerms>
    {
        private readonly TTerms _terms = terms;
        public Summed<TTerms> At(nint rowStart) => new(_terms.At(rowStart));
        public double Chunk(nint start, nint length) => ChunkSum(_terms, start, length);
        public static double Fold(double acc, double partial) => acc + partial;
    }

    /// <summary>Sum of the terms of one chunk: eight double lanes, combined pairwise.</summary>
    internal static double ChunkSum<TTerms>(in TTerms t, nint start, nint length) where TTerms : struct, ILaneTerms<TTerms>
    {
        var lanes = new Lanes8();
        double check = 0;
        SimdDriver.Lanes(t, start, length, ref lanes, ref check);
        return lanes.Combined;
    }

    /// <summary>Terms <c>x_i y_i</c>.</summary>
    internal readonly unsafe struct DotTerms<T>(T* x, T* y) : ILaneTerms<DotTerms<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T* _x = x, _y = y;
        public static bool IsVectorizable => SimdElement.IsSupported<T>();
        public static bool HasCheck => false;
        public DotTerms<T> At(nint rowStart) => new(_x + rowStart, _y + rowStart);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double Term(nint i) => double.CreateTruncating(_x[i]) * double.CreateTruncating(_y[i]);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Terms<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged
            => TW.Multiply(SimdDriver.LoadAsDouble<T, TW, TVec>(_x, i), SimdDriver.LoadAsDouble<T, TW, TVec>(_y, i));
        public double Check(nint i) => 0;
        public TVec Checks<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged => TW.Zero;
    }

    /// <summary>The absolute tolerance of an error norm: one value, or one per component.</summary>
    internal interface IAbsoluteTolerance
    {
        double At(nint i);
        TVec Vector<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged;
    }

    /// <summary>One absolute tolerance for every component.</summary>
    internal readonly struct SharedTolerance(double atol) : IAbsoluteTolerance
    {
        private readonly double _atol = atol;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double At(nint i) => _atol;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Vector<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged => TW.Create(_atol);
    }

    /// <summary>An absolute tolerance per component, indexed like the row.</summary>
    internal readonly unsafe struct ComponentTolerance(double* atol) : IAbsoluteTolerance
    {
        private readonly double* _atol = atol;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double At(nint i) => _atol[i];
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Vector<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged => TW.Load(_atol + i);
    }

    /// <summary>Where the error estimate <c>e_i</c> of an error norm comes from.</summary>
    internal interface IErrorEstimate<TSelf> where TSelf : struct, IErrorEstimate<TSelf>
    {
        /// <summary>The estimate of the row that starts <paramref name="rowStart"/> elements after the base.</summary>
        TSelf Row(nint rowStart);
        double Value(nint i);
        TVec Vector<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged;
    }

    /// <summary>An error estimate stored in memory.</summary>
    internal readonly unsafe struct StoredError<T>(T* e) : IErrorEstimate<StoredError<T>> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T* _e = e;
        public StoredError<T> Row(nint rowStart) => new(_e + rowStart);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public double Value(nint i) => double.CreateTruncating(_e[i]);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Vector<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged => SimdDriver.LoadAsDouble<T, TW, TVec>(_e, i);
    }

    /// <summary>
    /// Terms <c>(e_i / (atol_i + rtol max(|a_i|, |b_i|)))^2</c>, with <typeparamref name="TCheck"/> on also the check that
    /// every <c>b_i</c> is finite (<c>b_i * 0</c>).
    /// </summary>
    internal readonly unsafe struct ErrorTerms<T, TE, TA, TCheck>(TE e, T* a, T* b, TA atol, double rtol) : ILaneTerms<ErrorTerms<T, TE, TA, TCheck>>
        where T : unmanaged, IFloatingPointIeee754<T> where TE : struct, IErrorEstimate<TE> where TA : struct, IAbsoluteTolerance where TCheck : struct, IFlag
    {
        private readonly TE _e = e;
        private readonly T* _a = a, _b = b;
        private readonly TA _atol = atol;
        private readonly double _rtol = rtol;
        public static bool IsVectorizable => SimdElement.IsSupported<T>();
        public static bool HasCheck => TCheck.On;
        public ErrorTerms<T, TE, TA, TCheck> At(nint rowStart) => new(_e.Row(rowStart), _a + rowStart, _b + rowStart, _atol, _rtol);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double Term(nint i)
        {
            double scale = _atol.At(i) + _rtol * Math.Max(Math.Abs(double.CreateTruncating(_a[i])), Math.Abs(double.CreateTruncating(_b[i])));
            double r = _e.Value(i) / scale;
            return r * r;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Terms<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged
        {
            var a = SimdDriver.LoadAsDouble<T, TW, TVec>(_a, i);
            var b = SimdDriver.LoadAsDouble<T, TW, TVec>(_b, i);
            var scale = TW.Add(_atol.Vector<TW, TVec>(i), TW.Multiply(TW.Create(_rtol), TW.Max(TW.Abs(a), TW.Abs(b))));
            var r = TW.Divide(_e.Vector<TW, TVec>(i), scale);
            return TW.Multiply(r, r);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public double Check(nint i) => double.CreateTruncating(_b[i]) * 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Checks<TW, TVec>(nint i) where TW : ISimdWidth<TVec, double> where TVec : unmanaged
            => TW.Multiply(SimdDriver.LoadAsDouble<T, TW, TVec>(_b, i), TW.Zero);
    }

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
        => SimdDriver.Scan<T, MaxAbsScan<T>>(p, n);

    internal static unsafe bool IsFiniteRange<T>(T* p, nint n) where T : unmanaged, IFloatingPointIeee754<T>
        => SimdDriver.Scan<T, FiniteScan<T>>(p, n) == 0;

    /// <summary><c>max_i |x_i|</c>, NaN when any element is NaN.</summary>
    private readonly unsafe struct MaxAbsScan<T> : IScanKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Map<TW, TVec>(TVec v) where TW : ISimdWidth<TVec, T> where TVec : unmanaged => TW.Abs(v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Combine<TW, TVec>(TVec a, TVec b) where TW : ISimdWidth<TVec, T> where TVec : unmanaged => TW.Max(a, b);
        public static double Finish<TW, TVec>(TVec acc) where TW : ISimdWidth<TVec, T> where TVec : unmanaged
        {
            double m = 0;
            for (int k = 0; k < TW.Count; k++)
            {
                double v = double.CreateTruncating(TW.Element(acc, k));
                if (double.IsNaN(v)) return double.NaN;
                if (v > m) m = v;
            }
            return m;
        }
        public static double Scalar(T* p, nint n)
        {
            double m = 0;
            for (nint i = 0; i < n; i++)
            {
                double v = Math.Abs(double.CreateTruncating(p[i]));
                if (double.IsNaN(v)) return double.NaN;
                if (v > m) m = v;
            }
            return m;
        }
    }

    /// <summary>0 when every element is finite, else NaN: the sum of <c>x_i * 0</c>.</summary>
    private readonly unsafe struct FiniteScan<T> : IScanKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Map<TW, TVec>(TVec v) where TW : ISimdWidth<TVec, T> where TVec : unmanaged => TW.Multiply(v, TW.Zero);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TVec Combine<TW, TVec>(TVec a, TVec b) where TW : ISimdWidth<TVec, T> where TVec : unmanaged => TW.Add(a, b);
        public static double Finish<TW, TVec>(TVec acc) where TW : ISimdWidth<TVec, T> where TVec : unmanaged => TW.AllZero(acc) ? 0 : double.NaN;
        public static double Scalar(T* p, nint n)
        {
            for (nint i = 0; i < n; i++)
                if (!T.IsFinite(p[i])) return double.NaN;
            return 0;
        }
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
            int degree = TensorCoreSettings.DegreeFor(elements, (int)Math.Min(units, int.MaxValue));
            state.RowsPerUnit = rowsPerUnit;
            if (degree <= 1) { for (int b = 0; b < batch; b++) results[b] = Row(reducer, b, rowLength); }
            else ParallelJob.Run(&RowGroup<TR>, &state, (int)units, degree);
            return;
        }
        // Long rows: a unit is one chunk of one row; partials are folded per row in chunk order.
        long total = batch * (long)chunksPerRow;
        int deg = total > int.MaxValue ? 1 : TensorCoreSettings.DegreeFor(elements, (int)total);
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
