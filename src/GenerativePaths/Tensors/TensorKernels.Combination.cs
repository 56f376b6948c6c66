using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace GenerativePaths.Tensors;

/// <summary>Six tensor references on the stack (the distinct tensors of a merged combination).</summary>
[InlineArray(TensorCombination<float>.MaxTensors)]
internal struct TensorSlots<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private BatchTensor<T>? _element;
}

// The evaluation of a TensorCombination: terms on the same tensor merged, then one fused pass of the combination kernel
// (scalar coefficients) or of the per-sample kernel (any term with a per-row factor).
public static partial class TensorKernels
{
    /// <summary>
    /// Writes <paramref name="combination"/> into <paramref name="destination"/> in one fused pass: <c>y[b, i] = sum_j c_j[b] x_j[b, i]</c>
    /// with the coefficients of terms on the same tensor added first (see <see cref="TensorCombination{T}"/>).
    /// </summary>
    /// <remarks>Formula: <c>y = sum_j s_j f_j[b] g_j[b] x_j</c>. Safe in place (the destination may be one of the tensors). Scalar
    /// combinations run the <see cref="LinearCombination{T}(Span{T}, T, ReadOnlySpan{T}, T, ReadOnlySpan{T})"/> kernel, per-sample ones
    /// the per-sample kernel; results are bit-identical to those calls with the merged coefficients.</remarks>
    /// <exception cref="ArgumentException">A tensor's shape differs from the destination's, or partly overlaps it.</exception>
    /// <exception cref="InvalidOperationException">The combination is empty or reads more than six distinct tensors.</exception>
    public static void Evaluate<T>(BatchTensor<T> destination, in TensorCombination<T> combination)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Evaluate(destination, combination, check: false);

    /// <summary>As <see cref="Evaluate{T}(BatchTensor{T}, in TensorCombination{T})"/>, returning true when every written element is
    /// finite (checked in the same pass where the kernel allows; see <see cref="CombineAllFinite{T}"/>).</summary>
    internal static bool EvaluateAllFinite<T>(BatchTensor<T> destination, in TensorCombination<T> combination)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Evaluate(destination, combination, check: true);

    private static unsafe bool Evaluate<T>(BatchTensor<T> destination, in TensorCombination<T> combination, bool check)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(destination);
        var slots = new TensorSlots<T>();
        Span<BatchTensor<T>?> tensors = slots;
        Span<double> scalars = stackalloc double[TensorCombination<T>.MaxTensors];
        int n = combination.Merge(tensors, scalars);
        Span<T> d = destination.Span;
        ReadOnlySpan<T> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
        for (int j = 0; j < n; j++)
        {
            var t = tensors[j]!;
            ShapeCheck.SameShape(destination, t, "combination");
            ReadOnlySpan<T> span = t.Span;
            ShapeCheck.NoPartialOverlap<T>(span, d, "combination");
            switch (j)
            {
                case 0: s0 = span; break;
                case 1: s1 = span; break;
                case 2: s2 = span; break;
                case 3: s3 = span; break;
                case 4: s4 = span; break;
                default: s5 = span; break;
            }
        }
        if (!combination.HasSampleFactors)
        {
            var terms = new Terms<T>(n,
                T.CreateTruncating(scalars[0]), s0,
                n > 1 ? T.CreateTruncating(scalars[1]) : T.Zero, s1,
                n > 2 ? T.CreateTruncating(scalars[2]) : T.Zero, s2,
                n > 3 ? T.CreateTruncating(scalars[3]) : T.Zero, s3,
                n > 4 ? T.CreateTruncating(scalars[4]) : T.Zero, s4,
                n > 5 ? T.CreateTruncating(scalars[5]) : T.Zero, s5);
            if (check) return CombineAllFinite(d, terms);
            CombineUnchecked(d, terms);
            return true;
        }

        // Per-sample coefficients: c_j[b] for every distinct tensor, rounded to T once.
        int rows = destination.BatchSize;
        T[]? rented = null;
        Span<T> coefficients = n * rows * Unsafe.SizeOf<T>() <= 2048
            ? stackalloc T[n * rows]
            : (rented = ArrayPool<T>.Shared.Rent(n * rows)).AsSpan(0, n * rows);
        try
        {
            for (int j = 0; j < n; j++)
                for (int b = 0; b < rows; b++)
                    coefficients[j * rows + b] = T.CreateTruncating(combination.RowCoefficient(tensors[j]!, b));
            if (check)
            {
                // The checked kernel runs row by row with each row's scalar coefficients.
                bool finite = true;
                for (int b = 0; b < rows; b++)
                {
                    var terms = new Terms<T>(n,
                        coefficients[b], tensors[0]!.Row(b),
                        n > 1 ? coefficients[rows + b] : T.Zero, n > 1 ? tensors[1]!.Row(b) : default,
                        n > 2 ? coefficients[2 * rows + b] : T.Zero, n > 2 ? tensors[2]!.Row(b) : default,
                        n > 3 ? coefficients[3 * rows + b] : T.Zero, n > 3 ? tensors[3]!.Row(b) : default,
                        n > 4 ? coefficients[4 * rows + b] : T.Zero, n > 4 ? tensors[4]!.Row(b) : default,
                        n > 5 ? coefficients[5 * rows + b] : T.Zero, n > 5 ? tensors[5]!.Row(b) : default);
                    finite &= CombineAllFinite(destination.Row(b), terms);
                }
                return finite;
            }
            CombineRows(destination, n,
                coefficients.Slice(0, rows), tensors[0],
                n > 1 ? coefficients.Slice(rows, rows) : default, n > 1 ? tensors[1] : null,
                n > 2 ? coefficients.Slice(2 * rows, rows) : default, n > 2 ? tensors[2] : null,
                n > 3 ? coefficients.Slice(3 * rows, rows) : default, n > 3 ? tensors[3] : null,
                n > 4 ? coefficients.Slice(4 * rows, rows) : default, n > 4 ? tensors[4] : null,
                n > 5 ? coefficients.Slice(5 * rows, rows) : default, n > 5 ? tensors[5] : null);
            return true;
        }
        finally
        {
            if (rented is not null) ArrayPool<T>.Shared.Return(rented);
        }
    }
}
