using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>
/// The scaled RMS error norm of the step-size controller: the tensor core's <see cref="TensorReductions.ErrorNorm{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, double, double)"/>
/// for large states, a plain loop for small ones (a few elements, where a call's argument checks cost more than the sum).
/// </summary>
/// <remarks>Formula: <c>sqrt( (1/n) sum_i ( e_i / (atol_i + rtol max(|a_i|, |b_i|)) )^2 )</c>. Tolerances are validated once per solve.</remarks>
internal static class OdeNorms
{
    public static double ErrorNorm<T>(ReadOnlySpan<T> e, ReadOnlySpan<T> a, ReadOnlySpan<T> b, double atol, ReadOnlySpan<double> atolPer, double rtol)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = e.Length;
        if (n > LinearSums.SmallLength)
            return atolPer.IsEmpty ? TensorReductions.ErrorNorm(e, a, b, atol, rtol) : TensorReductions.ErrorNorm(e, a, b, atolPer, rtol);
        if (n == 0) return 0;
        a = a[..n]; b = b[..n];
        double sum = 0;
        bool per = !atolPer.IsEmpty;
        for (int i = 0; i < n; i++)
        {
            double scale = (per ? atolPer[i] : atol) + rtol * Math.Max(Math.Abs(double.CreateTruncating(a[i])), Math.Abs(double.CreateTruncating(b[i])));
            double r = double.CreateTruncating(e[i]) / scale;
            sum += r * r;
        }
        return Math.Sqrt(sum / n);
    }
}
