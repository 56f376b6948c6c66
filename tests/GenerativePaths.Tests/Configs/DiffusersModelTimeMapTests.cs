using GenerativePaths.Configs;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Samplers;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Configs;

/// <summary><see cref="DiffusersSchedulerConfig.ModelTimeMap"/>: every configuration hands out the time map of its model, and a
/// flow-matching configuration used with the discrete pattern says which call to use.</summary>
public sealed class DiffusersModelTimeMapTests
{
    private const string Flow = """{"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 3.0}""";

    [Fact]
    public void AFlowConfigWithTheDiscretePatternNamesTheRightCall()
    {
        var config = DiffusersSchedulerConfig.Parse(Flow);
        Assert.False(config.HasAlphasCumprod);
        var e = Assert.Throws<InvalidOperationException>(() => ModelTimeMaps.DiscreteVariancePreserving(config.AlphasCumprod));
        Assert.Contains("FlowMatchEulerDiscreteScheduler", e.Message);
        Assert.Contains("config.ModelTimeMap", e.Message);
        Assert.Contains("ModelTimeMaps.RectifiedFlow(1000)", e.Message);
    }

    [Fact]
    public void AFlowConfigsMapIsTheRectifiedFlowInTrainingTimesteps()
    {
        var map = DiffusersSchedulerConfig.Parse(Flow).ModelTimeMap;
        foreach (double t in new[] { 0.0, 1.0, 250.0, 731.5, 1000.0 })
        {
            // The rectified-flow path x = (1 - s) x0 + s eps with the model called at t = 1000 s.
            Assert.Equal(1 - t / 1000, map(t).Alpha, 15);
            Assert.Equal(t / 1000, map(t).Sigma, 15);
        }
    }

    [Fact]
    public void ADiscreteConfigsMapReadsItsTable()
    {
        var config = DiffusersSchedulerConfig.Parse("""
            {"_class_name": "EulerDiscreteScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012}
            """);
        Assert.True(config.HasAlphasCumprod);
        // Independent oracle: the scaled_linear betas (linspace of sqrt(beta), squared) and their running product.
        double prod = 1;
        for (int t = 0; t < 1000; t++)
        {
            double sb = Math.Sqrt(0.00085) + t * (Math.Sqrt(0.012) - Math.Sqrt(0.00085)) / 999;
            prod *= 1 - sb * sb;
            if (t % 111 == 0 || t == 999)
                Assert.True(Math.Abs(config.ModelTimeMap(t).Alpha - Math.Sqrt(prod)) <= 1e-6 * Math.Sqrt(prod), $"alpha at t = {t}");
        }
        // The same map as the plan's.
        var plan = config.CreatePlan(10);
        Assert.Equal(config.ModelTimeMap(481.25), plan.ModelTimeMap(481.25));
        // A replaced table is the one read.
        var half = config.WithAlphasCumprod(Enumerable.Repeat(0.25, 1000).ToArray());
        Assert.Equal(0.5, half.ModelTimeMap(10).Alpha, 15);
    }

    [Fact]
    public void AnEdmConfigsMapTurnsTheNoiseInputIntoSigma()
    {
        var config = DiffusersSchedulerConfig.Parse("""{"_class_name": "EDMEulerScheduler", "sigma_min": 0.002, "sigma_max": 80.0}""");
        Assert.False(config.HasAlphasCumprod);
        var e = Assert.Throws<InvalidOperationException>(() => config.AlphasCumprod);
        Assert.Contains("config.ModelTimeMap", e.Message);
        foreach (double sigma in new[] { 0.002, 0.5, 80.0 })
        {
            var level = config.ModelTimeMap(0.25 * Math.Log(sigma)); // EDM's c_noise = ln(sigma) / 4
            Assert.Equal(1.0, level.Alpha);
            Assert.Equal(sigma, level.Sigma, 12);
        }
    }

    [Fact]
    public void TheReadmePatternWithTheConfigsMapSamplesAFlowModel()
    {
        var config = DiffusersSchedulerConfig.Parse(Flow);
        var schedule = config.CreateSchedule(20);
        var mixture = GaussianMixture.Isotropic([0.5, 0.5], [[-2.0, 0.0], [2.0, 1.0]], [0.3, 0.5]);
        var model = new GaussianMixtureModel<float>(mixture, config.Prediction, config.ModelTimeMap);
        using var x = BatchTensor<float>.Allocate(2000, 2);
        new PhiloxNoise(seed: 5).Fill(x, stream: NoiseStreams.Start);
        schedule.Start(x);
        SamplingLoop.Run(model, x, schedule, config.CreateSampler(), noise: null, new SamplingOptions<float>());
        double m = 0, v = 0;
        for (int b = 0; b < x.BatchSize; b++) m += x.Row(b)[0];
        m /= x.BatchSize;
        for (int b = 0; b < x.BatchSize; b++) v += (x.Row(b)[0] - m) * (x.Row(b)[0] - m);
        double std = Math.Sqrt(v / (x.BatchSize - 1)), target = Math.Sqrt(0.5 * (0.09 + 4) + 0.5 * (0.25 + 4));
        Assert.InRange(std, target - 0.15, target + 0.15);
    }
}
