using System.Numerics;
using System.Runtime.InteropServices;

namespace GenerativePaths.Samplers;

/// <summary>A vectorised all-finite test for model outputs: one read pass, no branches in the loop.</summary>
/// <remarks>
/// Accumulates <c>x - x</c>, which is 0 for every finite value and NaN for NaN and infinities; the sum is 0 exactly when all
/// values are finite. The first bad sample is then located by the scalar reduction (only on failure).
/// </remarks>
internal static class FiniteCheck
{
    public static bool AllFinite<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= 4 * Vector<T>.Count)
        {
            var v = MemoryMarshal.Cast<T, Vector<T>>(x);
            Vector<T> a0 = Vector<T>.Zero, a1 = Vector<T>.Zero, a2 = Vector<T>.Zero, a3 = Vector<T>.Zero;
            int k = 0;
            for (; k <= v.Length - 4; k += 4)
            {
                a0 += v[k] - v[k];
                a1 += v[k + 1] - v[k + 1];
                a2 += v[k + 2] - v[k + 2];
                a3 += v[k + 3] - v[k + 3];
            }
            for (; k < v.Length; k++) a0 += v[k] - v[k];
            if (!Vector.EqualsAll((a0 + a1) + (a2 + a3), Vector<T>.Zero)) return false;
            i = v.Length * Vector<T>.Count;
        }
        for (; i < x.Length; i++)
            if (!T.IsFinite(x[i])) return false;
        return true;
    }
}
