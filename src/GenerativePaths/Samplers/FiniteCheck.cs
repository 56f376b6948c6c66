using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

/// <summary>A vectorised all-finite test for model outputs: one read pass on the calling thread, no branches in the loop.</summary>
/// <remarks>
/// The finite scan of the tensor core's kernel driver: accumulates <c>x * 0</c>, which is 0 for every finite value and NaN for
/// NaN and infinities, so the sum is 0 exactly when all values are finite. The first bad sample is then located by the
/// reduction (only on failure).
/// </remarks>
internal static class FiniteCheck
{
    public static unsafe bool AllFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.IsEmpty) return true;
        fixed (T* p = x) return TensorReductions.IsFiniteRange(p, x.Length);
    }
}
