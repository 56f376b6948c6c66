using FsCheck;
using FsCheck.Xunit;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Tensors;

/// <summary>FsCheck properties of the linear combinations (lengths, data and coefficients drawn at random).</summary>
public class KernelProperties
{
    private static double[][] Inputs(int seed, int n)
    {
        var rng = new Random(seed);
        var x = new double[6][];
        for (int j = 0; j < 6; j++) x[j] = TestData.Uniform<double>(rng, n, 4);
        return x;
    }

    /// <summary>Coefficients from small integers, so scaling by powers of two is exact.</summary>
    private static double[] Coefficients(int[] raw) => [.. Enumerable.Range(0, 6).Select(j => j < raw.Length ? raw[j] / 8.0 : 0.5)];

    [Property(MaxTest = 200)]
    public bool ScalingTheCoefficientsByAPowerOfTwoScalesTheResultExactly(int seed, byte length, int[] raw, byte termCount, sbyte power)
    {
        int k = 1 + termCount % 6, n = length;
        int p = power % 20;
        var x = Inputs(seed, n);
        var c = Coefficients(raw);
        var scaled = c.Select(v => Math.ScaleB(v, p)).ToArray();
        var d = new double[n]; var ds = new double[n];
        TestData.Combine<double>(d, c, x, k);
        TestData.Combine<double>(ds, scaled, x, k);
        return Enumerable.Range(0, n).All(i => ds[i] == Math.ScaleB(d[i], p));
    }

    [Property(MaxTest = 200)]
    public bool CombinationIsAdditiveInTheCoefficientsUpToRounding(int seed, byte length, int[] rawA, int[] rawB, byte termCount)
    {
        int k = 1 + termCount % 6, n = length;
        var x = Inputs(seed, n);
        var a = Coefficients(rawA); var b = Coefficients(rawB);
        var sum = a.Zip(b, (u, v) => u + v).ToArray();
        var da = new double[n]; var db = new double[n]; var ds = new double[n];
        TestData.Combine<double>(da, a, x, k);
        TestData.Combine<double>(db, b, x, k);
        TestData.Combine<double>(ds, sum, x, k);
        for (int i = 0; i < n; i++)
        {
            double magnitude = 0;
            for (int j = 0; j < k; j++) magnitude += (Math.Abs(a[j]) + Math.Abs(b[j])) * Math.Abs(x[j][i]);
            if (Math.Abs(ds[i] - (da[i] + db[i])) > 1e-14 * magnitude) return false;
        }
        return true;
    }

    [Property(MaxTest = 200)]
    public bool AZeroCoefficientLeavesTheOtherTerms(int seed, byte length, int[] raw, byte termCount, byte zeroAt)
    {
        int k = 2 + termCount % 5, n = length, z = zeroAt % k;
        var x = Inputs(seed, n);
        var c = Coefficients(raw);
        c[z] = 0;
        var withZero = new double[n];
        TestData.Combine<double>(withZero, c, x, k);
        // The same combination with term z removed.
        var cs = c.Where((_, j) => j != z).Append(0.0).ToArray();
        var xs = x.Where((_, j) => j != z).Append(x[z]).ToArray();
        var without = new double[n];
        TestData.Combine<double>(without, cs, xs, k - 1);
        return Enumerable.Range(0, n).All(i => withZero[i] == without[i]);
    }

    [Property(MaxTest = 200)]
    public bool InPlaceEqualsOutOfPlace(int seed, byte length, int[] raw, byte termCount, byte target)
    {
        int k = 1 + termCount % 6, n = length, t = target % k;
        var x = Inputs(seed, n);
        var c = Coefficients(raw);
        var outOfPlace = new float[n];
        var xf = x.Select(r => r.Select(v => (float)v).ToArray()).ToArray();
        var cf = c.Select(v => (float)v).ToArray();
        TestData.Combine<float>(outOfPlace, cf, xf, k);
        TestData.Combine<float>(xf[t], cf, xf, k);
        return outOfPlace.AsSpan().SequenceEqual(xf[t]);
    }

    [Property(MaxTest = 100)]
    public bool PerSampleCoefficientsThatAgreeEqualTheScalarOverload(int seed, byte batchRaw, byte rowRaw, int[] raw, byte termCount)
    {
        int k = 1 + termCount % 6, batch = 1 + batchRaw % 6, row = rowRaw;
        var rng = new Random(seed);
        var c = Coefficients(raw);
        var x = new BatchTensor<double>[k];
        for (int j = 0; j < k; j++) { x[j] = BatchTensor<double>.Allocate(batch, row); TestData.Uniform<double>(rng, batch * row).CopyTo(x[j].Span); }
        var perSample = Enumerable.Range(0, k).Select(j => Enumerable.Repeat(c[j], batch).ToArray()).ToArray();
        using var d = BatchTensor<double>.Allocate(batch, row);
        TestData.Combine(d, perSample, x, k);
        var flat = new double[batch * row];
        var inputs = Enumerable.Range(0, 6).Select(j => j < k ? x[j].Span.ToArray() : new double[batch * row]).ToArray();
        TestData.Combine<double>(flat, c, inputs, k);
        return d.Span.SequenceEqual(flat);
    }
}

/// <summary>Thread-count properties change process-wide settings, so they run alone.</summary>
[Collection(TensorSettingsCollection.Name)]
public class ThreadCountProperties
{
    [Property(MaxTest = 25)]
    public bool OneThreadEqualsMany(int seed, PositiveInt lengthRaw, byte degreeRaw, byte termCount)
    {
        int n = 1 + lengthRaw.Get % 400_000, degree = 2 + degreeRaw % 4, k = 1 + termCount % 6;
        var rng = new Random(seed);
        var x = new float[6][];
        for (int j = 0; j < 6; j++) x[j] = TestData.Uniform<float>(rng, n);
        var c = TestData.Uniform<float>(rng, 6, 2);
        var one = new float[n]; var many = new float[n];
        double dotOne, dotMany, normOne, normMany;
        using (TensorSettings.Use(threshold: int.MaxValue))
        {
            TestData.Combine<float>(one, c, x, k);
            dotOne = TensorReductions.Dot<float>(x[0], x[1]);
            normOne = TensorReductions.ErrorNorm<float>(x[2], x[3], x[4], 1e-3, 1e-3);
        }
        using (TensorSettings.Use(threshold: 1, degree: degree))
        {
            TestData.Combine<float>(many, c, x, k);
            dotMany = TensorReductions.Dot<float>(x[0], x[1]);
            normMany = TensorReductions.ErrorNorm<float>(x[2], x[3], x[4], 1e-3, 1e-3);
        }
        return one.AsSpan().SequenceEqual(many)
            && BitConverter.DoubleToInt64Bits(dotOne) == BitConverter.DoubleToInt64Bits(dotMany)
            && BitConverter.DoubleToInt64Bits(normOne) == BitConverter.DoubleToInt64Bits(normMany);
    }
}
