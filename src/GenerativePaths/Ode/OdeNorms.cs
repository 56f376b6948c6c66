using System.Numerics;
using System.Runtime.InteropServices;
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
/// <c>((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7))</c>, over the whole state in one sum, so the value does not depend on the
/// machine's vector width. <see cref="double"/> states use the fused kernels of the tensor core
/// (<c>TensorReductions.ErrorNormWithFiniteCheck</c>, <c>TensorReductions.FusedErrorNorm</c>); <see cref="float"/> states use
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
            return TensorReductions.ErrorNormWithFiniteCheck(MemoryMarshal.Cast<T, double>(e), MemoryMarshal.Cast<T, double>(a),
                MemoryMarshal.Cast<T, double>(b), atol, atolPer, rtol, out finite);
        finite = TensorReductions.IsFinite(b);
        return atolPer.IsEmpty ? TensorReductions.ErrorNorm(e, a, b, atol, rtol) : TensorReductions.ErrorNorm(e, a, b, atolPer, rtol);
    }

    /// <summary>
    /// The error norm of <see cref="ErrorNorm{T}"/> with the error estimate <c>err_i = scale * sum_j w_j k[idx_j][offset + i]</c>
    /// computed on the fly instead of in a separate pass: one pass over the stages, <paramref name="a"/> and
    /// <paramref name="b"/>, nothing written. The estimate is summed left to right without fused multiply-adds, exactly as
    /// <see cref="LinearSums.Combine{T}"/> forms it, and the squares go to the same lanes, so the value is bit-identical to the
    /// two-pass form.
    /// </summary>
    public static double FusedErrorNorm(ReadOnlySpan<double> a, ReadOnlySpan<double> b, double scale, int[] idx, double[] w, int count,
        BatchTensor<double>[] k, int offset, double atol, ReadOnlySpan<double> atolPer, double rtol, out bool finite)
    {
        if (a.Length == 0) { finite = true; return 0; }
        return TensorReductions.FusedErrorNorm(a, b, scale, idx, w, count, k, offset, atol, atolPer, rtol, out finite);
    }
}
