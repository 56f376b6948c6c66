using System.Numerics;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Tensors.TestData;

namespace GenerativePaths.Tests.Tensors;

/// <summary>
/// The fused linear combinations against two oracles written here: a plain double-precision loop
/// (within rounding) and the documented evaluation order in the element type (bit for bit).
/// </summary>
public class LinearCombinationTests
{
    public static TheoryData<int> TermCounts => [1, 2, 3, 4, 5, 6];

    [Theory, MemberData(nameof(TermCounts))]
    public void ScalarCoefficientsMatchOraclesForEveryLength_Float(int k) => ScalarCoefficients<float>(k);

    [Theory, MemberData(nameof(TermCounts))]
    public void ScalarCoefficientsMatchOraclesForEveryLength_Double(int k) => ScalarCoefficients<double>(k);

    private static void ScalarCoefficients<T>(int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(1000 + k);
        foreach (int n in Lengths())
        {
            var x = new T[6][];
            for (int j = 0; j < 6; j++) x[j] = Uniform<T>(rng, n);
            var c = Uniform<T>(rng, 6, 2.0);
            var d = new T[n + 3];
            var sentinel = T.CreateTruncating(12345.0);
            d.AsSpan().Fill(sentinel);
            Combine(d, c, x, k);
            CheckAgainstOracles(d.AsSpan(0, n), c, x, k, $"n={n}, k={k}, out of place");
            for (int i = n; i < d.Length; i++) Assert.Equal(sentinel, d[i]);

            // In place: the destination is the very same range as each input in turn.
            for (int j = 0; j < k; j++)
            {
                var saved = (T[])x[j].Clone();
                var inputs = (T[][])x.Clone();
                inputs[j] = saved;
                var y = (T[])saved.Clone();
                var xs = (T[][])x.Clone();
                xs[j] = y;
                Combine<T>(y, c, xs, k);
                AssertSameBits<T>(d.AsSpan(0, n), y, $"n={n}, k={k}, in place on x{j}");
            }
        }
    }

    internal static void CheckAgainstOracles<T>(ReadOnlySpan<T> d, T[] c, T[][] x, int k, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double eps = Epsilon<T>();
        for (int i = 0; i < d.Length; i++)
        {
            var (exact, magnitude) = DoubleTerm(c, x, k, i);
            double got = double.CreateTruncating(d[i]);
            double tol = (k + 1) * eps * magnitude + double.Epsilon;
            if (!(Math.Abs(got - exact) <= tol))
                Assert.Fail($"{what}: element {i} is {got}, the double oracle gives {exact} (tolerance {tol}).");
            T ordered = OrderedTerm(c, x, k, i);
            if (!SameBits(ordered, d[i]))
                Assert.Fail($"{what}: element {i} is {d[i]}, the documented order gives {ordered}.");
        }
    }

    [Theory, MemberData(nameof(TermCounts))]
    public void PerSampleCoefficientsMatchOracles_Float(int k) => PerSample<float>(k);

    [Theory, MemberData(nameof(TermCounts))]
    public void PerSampleCoefficientsMatchOracles_Double(int k) => PerSample<double>(k);

    private static void PerSample<T>(int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(2000 + k);
        (int Batch, int[] Shape)[] shapes =
        [
            (1, [0]), (3, [0]), (0, [5]), (1, [1]), (4, [1]), (2, [3]), (5, [7]), (3, [17]), (2, [4, 8]), (7, [33]),
            (4, [65]), (2, [3, 5, 7]), (3, [255]), (1, [300]), (6, [301]), (2, [4, 64, 64]), (3, [70_001]),
        ];
        foreach (var (batch, shape) in shapes)
        {
            var x = new BatchTensor<T>[k];
            for (int j = 0; j < k; j++)
            {
                x[j] = BatchTensor<T>.Allocate(batch, shape);
                Uniform<T>(rng, x[j].Length).CopyTo(x[j].Span);
            }
            var c = new T[k][];
            for (int j = 0; j < k; j++) c[j] = Uniform<T>(rng, batch, 2.0);
            using var d = BatchTensor<T>.Allocate(batch, shape);
            Combine(d, c, x, k);
            int row = d.RowLength;
            for (int b = 0; b < batch; b++)
            {
                var cs = new T[k];
                var xs = new T[k][];
                for (int j = 0; j < k; j++) { cs[j] = c[j][b]; xs[j] = x[j].Row(b).ToArray(); }
                CheckAgainstOracles<T>(d.Row(b), cs, xs, k, $"batch {batch} x {row}, row {b}, k={k}");
            }

            for (int j = 0; j < k; j++)
            {
                using var y = x[j].Clone();
                var xs = (BatchTensor<T>[])x.Clone();
                xs[j] = y;
                Combine(y, c, xs, k);
                AssertSameBits<T>(d.Span, y.Span, $"batch {batch} x {row}, in place on x{j}");
            }
            foreach (var t in x) t.Dispose();
        }
    }

    [Fact]
    public void NaNAndInfinityPropagateAtEveryPosition()
    {
        foreach (int n in new[] { 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100 })
            for (int p = 0; p < n; p++)
                foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
                {
                    Inject<float>(n, p, bad);
                    Inject<double>(n, p, bad);
                }
    }

    private static void Inject<T>(int n, int p, double bad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(n * 1000 + p);
        var x = new T[6][];
        for (int j = 0; j < 6; j++) x[j] = Uniform<T>(rng, n);
        x[p % 3][p] = T.CreateTruncating(bad);
        var c = Uniform<T>(rng, 6, 2.0);
        c[p % 3] = T.CreateTruncating(0.75);
        var d = new T[n];
        Combine<T>(d, c, x, 3);
        for (int i = 0; i < n; i++)
        {
            T ordered = OrderedTerm(c, x, 3, i);
            if (!SameBits(ordered, d[i])) Assert.Fail($"n={n}, {bad} at {p}: element {i} is {d[i]}, expected {ordered}.");
        }
        if (double.IsNaN(bad)) Assert.True(T.IsNaN(d[p]));
        else Assert.True(T.IsInfinity(d[p]));
        // A zero coefficient times infinity is NaN (IEEE 754), as in the oracle.
        c[p % 3] = T.Zero;
        Combine<T>(d, c, x, 3);
        Assert.True(T.IsNaN(d[p]));
    }

    [Fact]
    public void TooShortDestinationThrowsNamingTheParameter()
    {
        var x = new float[10];
        var ex = Assert.Throws<ArgumentException>(() => TensorKernels.LinearCombination(new float[9], 1f, x, 2f, x));
        Assert.Equal("destination", ex.ParamName);
        Assert.Contains("9", ex.Message);
        Assert.Contains("10", ex.Message);
    }

    [Fact]
    public void LengthMismatchThrowsNamingTheInput()
    {
        var ex = Assert.Throws<ArgumentException>(() => TensorKernels.LinearCombination(new double[10], 1.0, new double[10], 2.0, new double[10], 3.0, new double[9]));
        Assert.Equal("x2", ex.ParamName);
    }

    [Fact]
    public void PartialOverlapThrowsAndIdenticalRangeDoesNot()
    {
        var buffer = new float[40];
        for (int i = 0; i < buffer.Length; i++) buffer[i] = i;
        var ex = Assert.Throws<ArgumentException>(() => TensorKernels.LinearCombination(buffer.AsSpan(0, 20), 1f, buffer.AsSpan(20, 20), 1f, buffer.AsSpan(1, 20)));
        Assert.Equal("x1", ex.ParamName);
        ex = Assert.Throws<ArgumentException>(() => TensorKernels.LinearCombination(buffer.AsSpan(5, 20), 1f, buffer.AsSpan(0, 20)));
        Assert.Equal("x0", ex.ParamName);
        // Disjoint and identical ranges are fine.
        TensorKernels.LinearCombination(buffer.AsSpan(0, 20), 2f, buffer.AsSpan(0, 20), 1f, buffer.AsSpan(20, 20));
        for (int i = 0; i < 20; i++) Assert.Equal(2f * i + (i + 20), buffer[i]);
    }

    [Fact]
    public void PerSampleArgumentErrorsNameTheParameterAndShapes()
    {
        using var d = BatchTensor<float>.Allocate(2, 3, 4);
        using var x = BatchTensor<float>.Allocate(2, 3, 4);
        using var wrong = BatchTensor<float>.Allocate(2, 4, 3);
        float[] c = [1f, 2f];
        var ex = Assert.Throws<ArgumentException>(() => TensorKernels.LinearCombination(d, c, x, c, wrong));
        Assert.Equal("x1", ex.ParamName);
        Assert.Contains("[2, 4, 3]", ex.Message);
        Assert.Contains("[2, 3, 4]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => TensorKernels.LinearCombination(d, c, x, new float[3], x));
        Assert.Equal("c1", ex.ParamName);
        var storage = new float[30];
        var a = BatchTensor<float>.Wrap(storage.AsMemory(0, 24), 2, 3, 4);
        var shifted = BatchTensor<float>.Wrap(storage.AsMemory(4, 24), 2, 3, 4);
        ex = Assert.Throws<ArgumentException>(() => TensorKernels.LinearCombination(a, c, x, c, shifted));
        Assert.Equal("x1", ex.ParamName);
        Assert.Throws<ArgumentNullException>(() => TensorKernels.LinearCombination(d, c, x, c, null!));
    }
}

/// <summary>Every SIMD width and every thread count give the same bits.</summary>
[Collection(TensorSettingsCollection.Name)]
public class LinearCombinationWidthAndThreadTests
{
    [Fact]
    public void EveryWidthGivesTheSameBits()
    {
        var rng = new Random(7);
        foreach (int n in TestData.Lengths(large: false).Concat([1021, 4099]))
        {
            var x = new float[6][];
            var xd = new double[6][];
            for (int j = 0; j < 6; j++) { x[j] = TestData.Uniform<float>(rng, n); xd[j] = TestData.Uniform<double>(rng, n); }
            var c = TestData.Uniform<float>(rng, 6, 2.0);
            var cd = TestData.Uniform<double>(rng, 6, 2.0);
            for (int k = 1; k <= 6; k++)
            {
                float[]? first = null;
                double[]? firstD = null;
                foreach (int w in TensorSettings.Widths)
                {
                    using var _ = TensorSettings.Use(width: w);
                    var d = new float[n];
                    var dd = new double[n];
                    TestData.Combine<float>(d, c, x, k);
                    TestData.Combine<double>(dd, cd, xd, k);
                    LinearCombinationTests.CheckAgainstOracles<float>(d, c, x, k, $"width {w}, n={n}");
                    LinearCombinationTests.CheckAgainstOracles<double>(dd, cd, xd, k, $"width {w}, n={n}");
                    if (first is null) { first = d; firstD = dd; }
                    else { TestData.AssertSameBits<float>(first, d, $"width {w}"); TestData.AssertSameBits<double>(firstD, dd, $"width {w}"); }
                }
            }
        }
    }

    [Fact]
    public void NonTemporalStoresGiveTheSameBitsForEveryLengthWidthAndOffset()
    {
        var rng = new Random(10);
        foreach (int n in TestData.Lengths(large: false).Concat([1021, 70_001]))
        {
            var x = new float[6][];
            for (int j = 0; j < 6; j++) x[j] = TestData.Uniform<float>(rng, n + 16);
            var c = TestData.Uniform<float>(rng, 6, 2.0);
            foreach (int w in TensorSettings.Widths)
            {
                if (w == 64 && n > 2000) continue;
                foreach (int k in new[] { 1, 3, 6 })
                    foreach (int offset in new[] { 0, 1, 3 })
                    {
                        // Offsets move the destination off vector alignment, so the unaligned head is exercised.
                        var inputs = x.Select(a => a.AsSpan(offset, n).ToArray()).ToArray();
                        var plain = new float[n + 16];
                        var streamed = new float[n + 16];
                        using (TensorSettings.Use(width: w)) TestData.Combine<float>(plain.AsSpan(offset, n), c, inputs, k);
                        using (TensorSettings.Use(width: w, nonTemporal: 1)) TestData.Combine<float>(streamed.AsSpan(offset, n), c, inputs, k);
                        TestData.AssertSameBits<float>(plain, streamed, $"n={n}, width {w}, k={k}, offset {offset}");
                        // In place with streaming stores.
                        var y = new float[n + 16];
                        inputs[0].CopyTo(y, offset);
                        var xs = (float[][])inputs.Clone();
                        using (TensorSettings.Use(width: w, nonTemporal: 1))
                        {
                            var ys = y.AsSpan(offset, n);
                            switch (k)
                            {
                                case 1: TensorKernels.LinearCombination(ys, c[0], ys); break;
                                case 3: TensorKernels.LinearCombination(ys, c[0], ys, c[1], xs[1], c[2], xs[2]); break;
                                default: TensorKernels.LinearCombination(ys, c[0], ys, c[1], xs[1], c[2], xs[2], c[3], xs[3], c[4], xs[4], c[5], xs[5]); break;
                            }
                        }
                        TestData.AssertSameBits<float>(plain, y, $"in place, n={n}, width {w}, k={k}, offset {offset}");
                    }
            }
        }
    }

    [Fact]
    public void ParallelThresholdLowOrHighGivesTheSameBits()
    {
        var rng = new Random(8);
        foreach (int n in new[] { 65_535, 65_537, 300_001 })
        {
            var x = new float[6][];
            for (int j = 0; j < 6; j++) x[j] = TestData.Uniform<float>(rng, n);
            var c = TestData.Uniform<float>(rng, 6, 2.0);
            for (int k = 1; k <= 6; k += 5)
            {
                var serial = new float[n];
                var parallel = new float[n];
                using (TensorSettings.Use(threshold: int.MaxValue)) TestData.Combine<float>(serial, c, x, k);
                using (TensorSettings.Use(threshold: 1, degree: 4)) TestData.Combine<float>(parallel, c, x, k);
                TestData.AssertSameBits<float>(serial, parallel, $"n={n}, k={k}");
                LinearCombinationTests.CheckAgainstOracles<float>(parallel, c, x, k, "parallel");
                // In place, split across threads.
                var y = (float[])x[0].Clone();
                var xs = (float[][])x.Clone();
                xs[0] = y;
                using (TensorSettings.Use(threshold: 1, degree: 4, nonTemporal: 1)) TestData.Combine<float>(y, c, xs, k);
                TestData.AssertSameBits<float>(serial, y, $"n={n}, k={k}, in place");
            }
        }
    }

    [Fact]
    public void PerSampleParallelSplitAcrossRowBoundariesGivesTheSameBits()
    {
        var rng = new Random(9);
        foreach (var (batch, row) in new[] { (3, 70_001), (40, 5_003), (1000, 97) })
        {
            var x = new BatchTensor<double>[3];
            for (int j = 0; j < 3; j++) { x[j] = BatchTensor<double>.Allocate(batch, row); TestData.Uniform<double>(rng, batch * row).CopyTo(x[j].Span); }
            var c = new double[3][];
            for (int j = 0; j < 3; j++) c[j] = TestData.Uniform<double>(rng, batch, 2.0);
            using var serial = BatchTensor<double>.Allocate(batch, row);
            using var parallel = BatchTensor<double>.Allocate(batch, row);
            using (TensorSettings.Use(threshold: int.MaxValue)) TestData.Combine(serial, c, x, 3);
            using (TensorSettings.Use(threshold: 1, degree: 3)) TestData.Combine(parallel, c, x, 3);
            TestData.AssertSameBits<double>(serial.Span, parallel.Span, $"{batch} x {row}");
            for (int b = 0; b < batch; b += Math.Max(1, batch / 7))
                LinearCombinationTests.CheckAgainstOracles<double>(parallel.Row(b), [c[0][b], c[1][b], c[2][b]], [x[0].Row(b).ToArray(), x[1].Row(b).ToArray(), x[2].Row(b).ToArray()], 3, $"row {b}");
            foreach (var t in x) t.Dispose();
        }
    }
}
