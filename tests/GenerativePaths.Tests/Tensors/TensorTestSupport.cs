using System.Numerics;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Tensors;

/// <summary>Tests that change process-wide tensor-core settings run alone, one after another.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TensorSettingsCollection
{
    public const string Name = "Tensor core settings";
}

/// <summary>Sets the SIMD width and parallel threshold for a scope and restores them afterwards.</summary>
internal sealed class TensorSettings : IDisposable
{
    private readonly int _width, _threshold, _degree;
    private readonly long _nonTemporal;

    private TensorSettings(int width, int threshold, int degree, long nonTemporal)
    {
        _nonTemporal = TensorCoreSettings.NonTemporalThreshold;
        TensorCoreSettings.NonTemporalThreshold = nonTemporal;
        _width = SimdWidth.Forced;
        _threshold = TensorCoreSettings.ParallelThreshold;
        _degree = TensorCoreSettings.MaxDegreeOfParallelism;
        SimdWidth.Forced = width;
        TensorCoreSettings.ParallelThreshold = threshold;
        TensorCoreSettings.MaxDegreeOfParallelism = degree;
    }

    /// <summary>Width codes: 0 automatic, 64/32/16 bytes forced (emulated where the hardware lacks it), -1 scalar.</summary>
    public static readonly int[] Widths = [0, 64, 32, 16, -1];

    public static TensorSettings Use(int width = 0, int threshold = int.MaxValue, int degree = 4, long nonTemporal = long.MaxValue)
        => new(width, threshold, degree, nonTemporal);

    public void Dispose()
    {
        SimdWidth.Forced = _width;
        TensorCoreSettings.ParallelThreshold = _threshold;
        TensorCoreSettings.MaxDegreeOfParallelism = _degree;
        TensorCoreSettings.NonTemporalThreshold = _nonTemporal;
    }
}

internal static class TestData
{
    /// <summary>Every length 0..300 and a few large odd ones (past the parallel chunk and reduction chunk sizes).</summary>
    public static IEnumerable<int> Lengths(bool large = true)
    {
        for (int n = 0; n <= 300; n++) yield return n;
        if (large) { yield return 1021; yield return 16_387; yield return 65_539; yield return 140_001; }
    }

    public static T[] Uniform<T>(Random rng, int n, double scale = 1.0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new T[n];
        for (int i = 0; i < n; i++) a[i] = T.CreateTruncating(scale * (2 * rng.NextDouble() - 1));
        return a;
    }

    public static bool SameBits<T>(T a, T b) where T : unmanaged, IFloatingPointIeee754<T>
        => (T.IsNaN(a) && T.IsNaN(b)) || a.Equals(b) && T.IsNegative(a) == T.IsNegative(b);

    public static void AssertSameBits<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!SameBits(expected[i], actual[i]))
                Assert.Fail($"{what}: element {i} of {expected.Length} is {actual[i]}, expected {expected[i]} ({typeof(T).Name}).");
    }

    public static double Epsilon<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => typeof(T) == typeof(float) ? 1.2e-7 : 2.3e-16;

    /// <summary>Calls the scalar-coefficient overload with <paramref name="k"/> terms.</summary>
    public static void Combine<T>(Span<T> d, T[] c, ReadOnlySpan<T> x0, ReadOnlySpan<T> x1, ReadOnlySpan<T> x2,
        ReadOnlySpan<T> x3, ReadOnlySpan<T> x4, ReadOnlySpan<T> x5, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (k)
        {
            case 1: TensorKernels.LinearCombination(d, c[0], x0); break;
            case 2: TensorKernels.LinearCombination(d, c[0], x0, c[1], x1); break;
            case 3: TensorKernels.LinearCombination(d, c[0], x0, c[1], x1, c[2], x2); break;
            case 4: TensorKernels.LinearCombination(d, c[0], x0, c[1], x1, c[2], x2, c[3], x3); break;
            case 5: TensorKernels.LinearCombination(d, c[0], x0, c[1], x1, c[2], x2, c[3], x3, c[4], x4); break;
            case 6: TensorKernels.LinearCombination(d, c[0], x0, c[1], x1, c[2], x2, c[3], x3, c[4], x4, c[5], x5); break;
            default: throw new ArgumentOutOfRangeException(nameof(k));
        }
    }

    public static void Combine<T>(Span<T> d, T[] c, T[][] x, int k) where T : unmanaged, IFloatingPointIeee754<T>
        => Combine(d, c, x[0], x[1], x[2], x[3], x[4], x[5], k);

    /// <summary>Calls the per-sample overload with <paramref name="k"/> terms.</summary>
    public static void Combine<T>(BatchTensor<T> d, T[][] c, BatchTensor<T>[] x, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (k)
        {
            case 1: TensorKernels.LinearCombination(d, c[0], x[0]); break;
            case 2: TensorKernels.LinearCombination(d, c[0], x[0], c[1], x[1]); break;
            case 3: TensorKernels.LinearCombination(d, c[0], x[0], c[1], x[1], c[2], x[2]); break;
            case 4: TensorKernels.LinearCombination(d, c[0], x[0], c[1], x[1], c[2], x[2], c[3], x[3]); break;
            case 5: TensorKernels.LinearCombination(d, c[0], x[0], c[1], x[1], c[2], x[2], c[3], x[3], c[4], x[4]); break;
            case 6: TensorKernels.LinearCombination(d, c[0], x[0], c[1], x[1], c[2], x[2], c[3], x[3], c[4], x[4], c[5], x[5]); break;
            default: throw new ArgumentOutOfRangeException(nameof(k));
        }
    }

    /// <summary>The documented evaluation order in the element type: ((c0*x0 + c1*x1) + c2*x2) + ...</summary>
    public static T OrderedTerm<T>(T[] c, T[][] x, int k, int i) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T acc = c[0] * x[0][i];
        for (int j = 1; j < k; j++) acc = acc + c[j] * x[j][i];
        return acc;
    }

    /// <summary>The plain double-precision oracle and the bound on rounding: sum_j |c_j x_j|.</summary>
    public static (double Value, double Magnitude) DoubleTerm<T>(T[] c, T[][] x, int k, int i) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0, m = 0;
        for (int j = 0; j < k; j++)
        {
            double t = double.CreateTruncating(c[j]) * double.CreateTruncating(x[j][i]);
            s += t; m += Math.Abs(t);
        }
        return (s, m);
    }
}
