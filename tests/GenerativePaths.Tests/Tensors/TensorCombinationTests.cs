using FsCheck.Xunit;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Tensors;

/// <summary>
/// <see cref="TensorCombination{T}"/>: the operators build the combination the formula reads, evaluation merges the terms on one tensor
/// and equals a plain float64 loop over the terms; per-row factors give each row its own coefficients.
/// </summary>
public class TensorCombinationTests
{
    private static BatchTensor<double> Random(int batch, int dim, int seed)
    {
        var rng = new System.Random(seed);
        var t = BatchTensor<double>.Allocate(batch, dim);
        for (int i = 0; i < t.Length; i++) t.Span[i] = rng.NextDouble() * 4 - 2;
        return t;
    }

    [Property(MaxTest = 200)]
    public bool EvaluationEqualsAPlainLoopOverTheTerms(int seed, byte termCount)
    {
        // Up to 10 random terms on up to 4 tensors (terms repeat tensors), scalar coefficients, some with a per-row factor.
        var rng = new System.Random(seed);
        int terms = 1 + termCount % 10;
        var picks = Enumerable.Range(0, terms).Select(_ => rng.Next(4)).ToArray();
        var coefficients = Enumerable.Range(0, terms).Select(_ => rng.Next(-50, 51) / 8.0).ToArray();
        var perRow = Enumerable.Range(0, terms).Select(_ => rng.Next(2) == 1).ToArray();
        const int batch = 5, dim = 37;
        var tensors = Enumerable.Range(0, 4).Select(k => Random(batch, dim, rng.Next())).ToArray();
        var rows = new SampleCoefficients(batch);
        for (int b = 0; b < batch; b++) rows[b] = 0.5 + b;
        TensorCombination<double> Term(int k) => perRow[k] ? coefficients[k] * (rows * tensors[picks[k]]) : coefficients[k] * tensors[picks[k]];
        var sum = Term(0);
        for (int k = 1; k < terms; k++) sum = sum + Term(k);
        using var actual = BatchTensor<double>.Allocate(batch, dim);
        TensorKernels.Evaluate(actual, sum);
        double worst = 0;
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < dim; i++)
            {
                double expected = 0;
                for (int k = 0; k < terms; k++) expected += coefficients[k] * (perRow[k] ? rows[b] : 1) * tensors[picks[k]].Row(b)[i];
                worst = Math.Max(worst, Math.Abs(actual.Row(b)[i] - expected));
            }
        foreach (var t in tensors) t.Dispose();
        return worst < 1e-12;
    }

    [Fact]
    public void MergedTermsReadEachTensorOnceWithTheSummedCoefficient()
    {
        using var x = Random(3, 16, 1);
        using var y = Random(3, 16, 2);
        using var viaOperators = BatchTensor<double>.Allocate(3, 16);
        using var viaKernel = BatchTensor<double>.Allocate(3, 16);
        // 0.5 x + 2 y - 0.25 x + 0.125 y = 0.25 x + 2.125 y, which the two-term kernel computes as (c0 x + c1 y).
        TensorKernels.Evaluate(viaOperators, 0.5 * x + 2.0 * y - 0.25 * x + 0.125 * y);
        TensorKernels.LinearCombination(viaKernel.Span, 0.25, x.Span, 2.125, y.Span);
        Assert.Equal(viaKernel.Span.ToArray(), viaOperators.Span.ToArray());
    }

    [Fact]
    public void InPlaceEvaluationReadsBeforeItWrites()
    {
        using var x = Random(2, 40, 3);
        using var y = Random(2, 40, 4);
        var expected = x.Span.ToArray().Zip(y.Span.ToArray(), (a, b) => 3 * a - b).ToArray();
        TensorKernels.Evaluate(x, 3.0 * x - y);
        Assert.Equal(expected, x.Span.ToArray());
    }

    [Fact]
    public void PerRowCoefficientsEqualThePerSampleKernel()
    {
        using var x = Random(4, 9, 5);
        using var z = Random(4, 9, 6);
        var a = new SampleCoefficients(4);
        var b = new SampleCoefficients(4);
        for (int r = 0; r < 4; r++) { a[r] = r - 1.5; b[r] = 1.0 / (r + 1); }
        using var actual = BatchTensor<double>.Allocate(4, 9);
        using var expected = BatchTensor<double>.Allocate(4, 9);
        TensorKernels.Evaluate(actual, a * x + 2.0 * (b * (a * z)));
        double[] ca = [.. a.Values], cz = [.. Enumerable.Range(0, 4).Select(r => 2.0 * b[r] * a[r])];
        TensorKernels.LinearCombination(expected, ca, x, cz, z);
        Assert.Equal(expected.Span.ToArray(), actual.Span.ToArray());
    }

    [Fact]
    public void LimitsAndMismatchesRaiseClearErrors()
    {
        var t = Enumerable.Range(0, 7).Select(k => Random(2, 3, k)).ToArray();
        using var d = BatchTensor<double>.Allocate(2, 3);
        var seven = 1.0 * t[0] + 1.0 * t[1] + 1.0 * t[2] + 1.0 * t[3] + 1.0 * t[4] + 1.0 * t[5] + 1.0 * t[6];
        Assert.Contains("at most 6 distinct tensors", Assert.Throws<InvalidOperationException>(() => TensorKernels.Evaluate(d, seven)).Message);
        // Terms on one tensor with the same factors merge as the combination is built; distinct (tensor, factor) pairs count.
        TensorCombination<double> merged = 1.0 * t[0];
        for (int k = 1; k < 20; k++) merged = merged + 1.0 * t[0];
        Assert.Equal(1, merged.Count);
        var r = new SampleCoefficients(2).Fill(1);
        var r2 = new SampleCoefficients(2).Fill(2);
        var eight = 1.0 * t[0] + 1.0 * t[1] + 1.0 * t[2] + 1.0 * t[3] + r * t[0] + r * t[1] + r * t[2] + r * t[3];
        Assert.Equal(TensorCombination<double>.MaxTerms, eight.Count);
        Assert.Contains("at most 8 terms", Assert.Throws<InvalidOperationException>(() => eight + r2 * t[0]).Message);
        Assert.Contains("at most two per-sample factors", Assert.Throws<InvalidOperationException>(() => r * (r * (r * t[0]))).Message);
        using var wide = Random(2, 4, 9);
        Assert.Throws<ArgumentException>(() => TensorKernels.Evaluate(d, 1.0 * wide));
        Assert.Throws<ArgumentException>(() => new SampleCoefficients(3) * t[0]);
        foreach (var x in t) x.Dispose();
    }
}
