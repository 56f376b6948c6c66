using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

public class SamplingLoopTests
{
    private static StepSchedule Ve(int n) => new(new VarianceExplodingPath(0, 10), Linspace(10, 0, n + 1).Select(s => new SchedulePoint(1, s, s)));

    [Fact]
    public void CallbackProgressAndStatistics()
    {
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        using var x = Normals(2, 4, 3);
        var seen = new List<(int, double)>();
        var progress = new List<int>();
        var options = new SamplingOptions<double>
        {
            OnStep = (i, t, xs, d) =>
            {
                seen.Add((i, t));
                // The denoised estimate at the step's start point is the exact posterior mean there; after a DDIM step to
                // sigma' the sample is d + sigma' (x - d)/sigma, so x_after - d is parallel to the noise estimate.
                Assert.True(TensorReductions.IsFinite<double>(d.Span));
            },
            Progress = new SyncProgress(progress),
        };
        var result = SamplingLoop.Run(model, x, Ve(6), new HeunSampler(), options: options);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (i, Math.Round(10 - 10 * i / 6.0, 12))).ToList(), seen.Select(s => (s.Item1, Math.Round(s.Item2, 12))).ToList());
        Assert.Equal([1, 2, 3, 4, 5, 6], progress);
        Assert.Equal(6, result.Statistics.Steps);
        Assert.Equal(11, result.Statistics.ModelEvaluations); // two per step, one on the last (to sigma = 0)
        Assert.Equal(11, model.Calls);
        Assert.Same(x, result.Sample);
    }

    [Fact]
    public void DenoisedInTheCallbackIsThePosteriorMean()
    {
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.VarianceExploding());
        using var x = Normals(2, 4, 3);
        var schedule = Ve(4);
        var before = x.ToRows();
        var options = new SamplingOptions<double>
        {
            OnStep = (i, t, xs, d) =>
            {
                if (i != 0) return;
                var want = new double[4];
                for (int b = 0; b < 2; b++)
                {
                    Mix.PosteriorMean(before[b], 1, t, want);
                    for (int j = 0; j < 4; j++) Assert.Equal(want[j], d.Row(b)[j], 10);
                }
            },
        };
        SamplingLoop.Run(model, x, schedule, new EulerSampler(), options: options);
    }

    private sealed class SyncProgress(List<int> list) : IProgress<int>
    {
        public void Report(int value) => list.Add(value);
    }

    [Fact]
    public void CancellationStopsTheRun()
    {
        using var cts = new CancellationTokenSource();
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        using var x = Normals(1, 4, 3);
        var options = new SamplingOptions<double> { CancellationToken = cts.Token, OnStep = (i, _, _, _) => { if (i == 2) cts.Cancel(); } };
        Assert.Throws<OperationCanceledException>(() => SamplingLoop.Run(model, x, Ve(8), new EulerSampler(), options: options));
        Assert.Equal(3, model.Calls);
    }

    [Fact]
    public void StochasticSamplerWithoutNoiseSourceSaysSo()
    {
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        using var x = Normals(1, 4, 3);
        var e = Assert.Throws<InvalidOperationException>(() => SamplingLoop.Run(model, x, Ve(4), new EulerAncestralSampler()));
        Assert.Contains("noise source", e.Message);
    }

    [Fact]
    public void EpsilonModelAtAlphaZeroIsRefusedWithAnExplanation()
    {
        var points = new[] { new SchedulePoint(0, 1, 1), new SchedulePoint(1, 0, 0) };
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, t => new NoiseLevel(t == 1 ? 0.01 : 1, t));
        using var x = Normals(1, 4, 3);
        var e = Assert.Throws<InvalidOperationException>(() => SamplingLoop.Run(model, x, new StepSchedule(new TestCosinePath(), points), new DdimSampler()));
        Assert.Contains("zero terminal SNR", e.Message);
    }

    /// <summary>A model that costs nothing, for the allocation check.</summary>
    private sealed class FreeModel : IGenerativeModel<float>
    {
        public Prediction Prediction => Prediction.Epsilon;
        public void Evaluate(BatchTensor<float> x, ReadOnlySpan<double> t, in GenerativePaths.Models.ModelCondition condition, BatchTensor<float> output) { }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void ReusedStateRunAllocatesNothing(int k)
    {
        Sampler sampler = k switch { 0 => new DdimSampler(), 1 => new EulerSampler(), 2 => new HeunSampler(), 3 => new DpmSolverPlusPlus2MSampler(), _ => new EulerAncestralSampler() };
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.99, 0, 21));
        using var x = BatchTensor<float>.Allocate(2, 64);
        var state = new SamplerState<float>(new FreeModel(), schedule, x, new GenerativePaths.Noise.PhiloxNoise(1));
        SamplingLoop.Run(state, sampler); // first run: buffers are allocated
        long before = GC.GetAllocatedBytesForCurrentThread();
        SamplingLoop.Run(state, sampler);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{sampler.Name}: a reused-state run of 20 steps allocated {allocated} bytes.");
    }
}

public class FiniteCheckTests
{
    [Fact]
    public void EveryPositionAndKindOfNonFiniteValueIsFound()
    {
        foreach (int n in new[] { 0, 1, 7, 8, 31, 32, 33, 64, 100, 257 })
        {
            var f = new float[n];
            var d = new double[n];
            for (int i = 0; i < n; i++) { f[i] = i * 0.5f - 3; d[i] = i * 0.25 - 2; }
            Assert.True(GenerativePaths.Samplers.FiniteCheck.AllFinite<float>(f));
            Assert.True(GenerativePaths.Samplers.FiniteCheck.AllFinite<double>(d));
            for (int i = 0; i < n; i++)
            {
                foreach (var bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
                {
                    var f2 = (float[])f.Clone(); f2[i] = (float)bad;
                    var d2 = (double[])d.Clone(); d2[i] = bad;
                    Assert.False(GenerativePaths.Samplers.FiniteCheck.AllFinite<float>(f2), $"float n={n} i={i} {bad}");
                    Assert.False(GenerativePaths.Samplers.FiniteCheck.AllFinite<double>(d2), $"double n={n} i={i} {bad}");
                }
            }
        }
        // Large finite values do not overflow the accumulator (x - x is exactly 0).
        Assert.True(GenerativePaths.Samplers.FiniteCheck.AllFinite<float>(Enumerable.Repeat(float.MaxValue, 100).ToArray()));
    }
}

public class RepeatedPointTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(10)]
    public void ARepeatedPointInsideTheScheduleChangesNothing(int k)
    {
        // Schedules may repeat a point (Karras plans at many steps): the run equals the run without the repeat.
        var sampler = SamplerTestSupport.AllSamplers()[k];
        var path = new TestCosinePath();
        double[] times = [0.95, 0.8, 0.6, 0.45, 0.3, 0.15, 0.0];
        double[] repeated = [0.95, 0.8, 0.6, 0.6, 0.45, 0.3, 0.15, 0.0];
        var model = new GaussianMixtureModel<double>(SamplerTestSupport.Mix, Prediction.Velocity, ModelTimeMaps.Path(path));
        using var a = SamplerTestSupport.Normals(2, 4, 3);
        using var b = a.Clone();
        SamplingLoop.Run(model, a, SamplerTestSupport.Schedule(path, times), sampler, new GenerativePaths.Noise.PhiloxNoise(4));
        SamplingLoop.Run(model, b, SamplerTestSupport.Schedule(path, repeated), sampler, new GenerativePaths.Noise.PhiloxNoise(4));
        Assert.True(TensorReductions.IsFinite<double>(b.Span));
        if (sampler is DpmSolverPlusPlus2MSampler) return; // the step after the repeat is first order: finite, not identical
        if (k is 3 or 4) return; // stochastic: noise streams follow the step index, which the repeat shifts
        for (int i = 0; i < a.Length; i++) Assert.Equal(a.Span[i], b.Span[i], 10);
    }
}
