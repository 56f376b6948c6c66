using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.ParallelInTime;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using GenerativePaths.Tests.Samplers;
using Xunit;

namespace GenerativePaths.Tests.ParallelInTime;

/// <summary>The example of docs/parallel-in-time.md, run on the exact class-conditional mixture with guidance.</summary>
public class ParallelGuideExampleTests
{
    [Fact]
    public void TheGuideExampleRunsAndStaysCloseToTheSequentialRun()
    {
        var path = new TestFlowPath();
        var classes = new[]
        {
            GaussianMixture.Isotropic([1.0], [[-1.5, 0.5, 1.0, 0.0]], [0.4]),
            GaussianMixture.Isotropic([1.0], [[1.0, -1.0, 0.5, 2.0]], [0.6]),
        };
        var inner = GaussianMixtureModel<double>.ClassConditional(classes, SamplerTestSupport.Mix, 2, Prediction.FlowVelocity, ModelTimeMaps.Path(path));
        var model = new ClassifierFreeGuidance<double>(inner, 2.0, ModelCondition.FromClasses(2));
        var schedule = SamplerTestSupport.Schedule(path, Enumerable.Range(0, 101).Select(i => (100 - i) / 100.0));
        var labels = ModelCondition.FromClasses(Enumerable.Range(0, 12).Select(i => i % 2).ToArray());
        var noise = new PhiloxNoise(seed: 1);
        using var x = BatchTensor<double>.Allocate(12, 4);
        noise.Fill(x, NoiseStreams.Start);
        var sequential = x.Clone();
        SamplingLoop.Run(model, sequential, schedule, new EulerSampler(), noise, new SamplingOptions<double> { Condition = labels });

        // The guide's lines:
        var result = ParallelSampling.Run(model, x, schedule, new EulerSampler(), noise,
            new ParallelSamplingOptions<double> { Window = 32, Tolerance = 0.1, Acceleration = ParallelAcceleration.Anderson, Condition = labels });
        Console.WriteLine($"{result.Statistics.Rounds} rounds for {result.Statistics.SequentialModelCalls} sequential model calls");

        Assert.Equal(100, result.Statistics.SequentialModelCalls);
        Assert.True(result.Statistics.Rounds < 30, $"{result.Statistics.Rounds} rounds");
        double diff = 0;
        for (int i = 0; i < x.Length; i++) diff = Math.Max(diff, Math.Abs(x.Span[i] - sequential.Span[i]));
        Assert.True(diff < 0.2, $"differs by {diff}");
    }
}
