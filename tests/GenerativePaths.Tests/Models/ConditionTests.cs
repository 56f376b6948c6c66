using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Models;

/// <summary>Conditions travel with their rows: slicing, concatenation, repetition and gathering against plain index arithmetic.</summary>
public class ConditionTests
{
    private static ModelCondition Tensor(int rows, params int[] shape)
    {
        int len = shape.Aggregate(1, (a, b) => a * b);
        var v = new float[rows * len];
        for (int i = 0; i < v.Length; i++) v[i] = i * 0.5f - 3;
        return ModelCondition.FromTensor(v, rows, shape);
    }

    [Fact]
    public void FactoriesAndSlices()
    {
        Assert.Equal(ConditionKind.None, ModelCondition.None.Kind);
        Assert.Equal(ConditionKind.None, default(ModelCondition).Kind);
        var c = ModelCondition.FromClasses(4, 1, 7);
        Assert.Equal(3, c.RowCount);
        Assert.Equal([1, 7], c.Slice(1, 2).Classes.ToArray());
        var t = Tensor(3, 2, 2);
        Assert.Equal(4, t.RowLength);
        Assert.Equal(t.TensorRow(2).ToArray(), t.Slice(2, 1).TensorRow(0).ToArray());
        Assert.Equal("tensor[3, 2, 2]", t.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => c.Slice(2, 2));
        Assert.Throws<ArgumentException>(() => ModelCondition.FromTensor(new float[5], 2, 2));
        Assert.Throws<ArgumentException>(() => c.EnsureRows(4));
        ModelCondition.None.EnsureRows(17);
    }

    [Property(MaxTest = 200)]
    public Property GatherRepeatAndConcatFollowIndexArithmetic(PositiveInt rowsArg, PositiveInt timesArg, int seed)
    {
        int rows = rowsArg.Get % 7 + 1, times = timesArg.Get % 4 + 1;
        var rng = new Random(seed);
        var labels = Enumerable.Range(0, rows).Select(_ => rng.Next(0, 100)).ToArray();
        var cls = ModelCondition.FromClasses(labels);
        var ten = Tensor(rows, 3);
        var buffer = new ConditionBuffer();
        var order = Enumerable.Range(0, 2 * rows).Select(_ => rng.Next(rows)).ToArray();

        var g = buffer.Gather(cls, order).Classes.ToArray();
        bool gatherOk = g.SequenceEqual(order.Select(i => labels[i]));
        var gt = buffer.Gather(ten, order);
        bool gatherTensorOk = Enumerable.Range(0, order.Length).All(r => gt.TensorRow(r).SequenceEqual(ten.TensorRow(order[r])));
        var rep = buffer.Repeat(cls, times).Classes.ToArray();
        bool repeatOk = rep.Length == rows * times && Enumerable.Range(0, rep.Length).All(r => rep[r] == labels[r % rows]);
        var cat = buffer.Concat(ModelCondition.FromClasses(99), cls, rows).Classes.ToArray();
        bool concatOk = cat.Take(rows).All(v => v == 99) && cat.Skip(rows).SequenceEqual(labels);
        return (gatherOk && gatherTensorOk && repeatOk && concatOk).ToProperty();
    }

    [Fact]
    public void BufferRefusesMixedKindsAndShapes()
    {
        var buffer = new ConditionBuffer();
        Assert.Throws<ArgumentException>(() => buffer.Concat(ModelCondition.FromClasses(1), Tensor(1, 2), 1));
        Assert.Throws<ArgumentException>(() => buffer.Concat(Tensor(1, 2), Tensor(1, 3), 1));
        Assert.Throws<ArgumentException>(() => buffer.Concat(ModelCondition.FromClasses(1, 2), ModelCondition.FromClasses(1, 2, 3), 3));
        buffer.Begin(ModelCondition.FromClasses(1), 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.CopyRows(1, ModelCondition.FromClasses(5, 6), 0, 2));
    }

    [Fact]
    public void SteadyStateAssemblyAllocatesNothing()
    {
        var buffer = new ConditionBuffer();
        var cls = ModelCondition.FromClasses(3, 1, 4, 1);
        var uncond = ModelCondition.FromClasses(10);
        var ten = Tensor(4, 2, 3);
        var tenU = Tensor(1, 2, 3);
        for (int i = 0; i < 3; i++) { buffer.Concat(uncond, cls, 4); buffer.Concat(tenU, ten, 4); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        int sum = 0;
        for (int i = 0; i < 100; i++)
        {
            sum += buffer.Concat(uncond, cls, 4).RowCount;
            sum += buffer.Concat(tenU, ten, 4).RowCount;
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1600, sum);
    }

    /// <summary>A class-conditional run split into two halves (conditions sliced with the rows, sample ids kept) equals the whole run bit for bit.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SplitConditionalRunsEqualTheWholeRun(bool guided)
    {
        var mix = GaussianMixture.Isotropic([0.5, 0.3, 0.2], [[-2.0, 0.0], [1.5, 1.5], [1.0, -2.0]], [0.3, 0.5, 0.2]);
        var exact = GaussianMixtureModel<float>.ClassConditional([mix.Component(0), mix.Component(1), mix.Component(2)], mix, 3, Prediction.Epsilon, ModelTimeMaps.Path(new TrigonometricPath()));
        IGenerativeModel<float> model = guided ? new ClassifierFreeGuidance<float>(exact, 2.5, ModelCondition.FromClasses(3)) : exact;
        var schedule = StepSchedules.FromSigmaOverAlpha(new TrigonometricPath(), SigmaArrays.Karras(12, 0.02, 20));
        int n = 9;
        var labels = Enumerable.Range(0, n).Select(i => i % 3).ToArray();
        using var whole = BatchTensor<float>.Allocate(n, 2);
        new PhiloxNoise(5).Fill(whole, 1_000_000);
        using var start = BatchTensor<float>.Allocate(n, 2);
        whole.CopyTo(start);
        SamplingLoop.Run(model, whole, schedule, new EulerAncestralSampler(), new PhiloxNoise(6), new SamplingOptions<float> { Condition = ModelCondition.FromClasses(labels) });
        foreach (var (from, count) in new[] { (0, 4), (4, 5) })
        {
            using var part = BatchTensor<float>.Allocate(count, 2);
            start.Span.Slice(from * 2, count * 2).CopyTo(part.Span);
            var ids = Enumerable.Range(from, count).Select(i => (long)i).ToArray();
            SamplingLoop.Run(model, part, schedule, new EulerAncestralSampler(), new PhiloxNoise(6),
                new SamplingOptions<float> { Condition = ModelCondition.FromClasses(labels).Slice(from, count), SampleIds = ids });
            Assert.Equal(whole.Span.Slice(from * 2, count * 2).ToArray(), part.Span.ToArray());
        }
        // Each sample lands near its own class (the exact class-conditional denoiser).
        for (int b = 0; b < n; b++)
        {
            var mean = mix.Mean(labels[b]);
            double d = Math.Sqrt(Math.Pow(whole.Row(b)[0] - mean[0], 2) + Math.Pow(whole.Row(b)[1] - mean[1], 2));
            Assert.True(d < 2.5, $"sample {b} (class {labels[b]}) is {d} from its class mean");
        }
    }

    [Fact]
    public void ConditionRowsMustMatchTheBatch()
    {
        var mix = GaussianMixture.Isotropic([1.0], [[0.0]], [1.0]);
        var model = new GaussianMixtureModel<double>(mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        using var x = BatchTensor<double>.Allocate(3, 1);
        var schedule = new StepSchedule(new VarianceExplodingPath(0, 10), [new SchedulePoint(1, 1, 1), new SchedulePoint(1, 0, 0)]);
        var e = Assert.Throws<ArgumentException>(() => SamplingLoop.Run(model, x, schedule, new DdimSampler(), new SamplingOptions<double> { Condition = ModelCondition.FromClasses(1, 2) }));
        Assert.Contains("2 rows for a batch of 3", e.Message);
    }

    /// <summary>The guidance snippet of docs/sampler-guide.md, compiled and run on a class-conditional exact model with a null class 10.</summary>
    [Fact]
    public void SamplerGuideGuidanceSnippetRuns()
    {
        var mix = GaussianMixture.Isotropic([0.5, 0.5], [[-2.0, 0.0], [2.0, 1.0]], [0.3, 0.5]);
        var path = new TrigonometricPath();
        var model = GaussianMixtureModel<float>.ClassConditional([mix.Component(0), mix.Component(1)], mix, 10, Prediction.Epsilon, ModelTimeMaps.Path(path));
        var schedule = StepSchedules.FromSigmaOverAlpha(path, SigmaArrays.Karras(20, 0.02, 20));
        int[] labels = [0, 1, 1, 0];
        using var x = BatchTensor<float>.Allocate(4, 2);
        new PhiloxNoise(3).Fill(x, 1_000_000);
        TensorKernels.LinearCombination(x.Span, (float)schedule[0].Sigma, x.Span);

        var guided = new ClassifierFreeGuidance<float>(model, guidanceScale: 7.5,
            unconditional: ModelCondition.FromClasses(10),          // the null class; one row is broadcast
            order: GuidanceBatchOrder.UnconditionalFirst,            // diffusers' torch.cat([uncond, cond]) layout
            guidanceRescale: 0.7);
        SamplingLoop.Run(guided, x, schedule, new DpmSolverPlusPlus2MSampler(),
            new SamplingOptions<float> { Condition = ModelCondition.FromClasses(labels) });

        for (int b = 0; b < 4; b++)
        {
            Assert.True(float.IsFinite(x.Row(b)[0]) && float.IsFinite(x.Row(b)[1]));
            Assert.Equal(labels[b] == 0, x.Row(b)[0] < 0); // strong guidance pulls each sample to its class's side
        }
    }
}
