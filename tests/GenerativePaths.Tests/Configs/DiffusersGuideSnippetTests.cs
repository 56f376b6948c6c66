using System.Text.Json.Nodes;
using GenerativePaths.Configs;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Samplers;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Configs;

/// <summary>The snippet of docs/sampler-guide.md, "Importing a diffusers scheduler config and swapping the class", compiled and checked.</summary>
public class DiffusersGuideSnippetTests
{
    [Fact]
    public void ImportAndSwapSnippetRuns()
    {
        // The snippet, verbatim but for the console output.
        var shipped = DiffusersSchedulerConfig.Parse("""
            {"_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1}
            """);
        var dpm = shipped.WithClass("DPMSolverMultistepScheduler", new Dictionary<string, JsonNode?> { ["use_karras_sigmas"] = true });
        string saved = dpm.ToJson();
        var plan = dpm.CreatePlan(20);
        var mixture = GaussianMixture.Isotropic([0.5, 0.5], [[-2.0, 0.0], [2.0, 1.0]], [0.3, 0.5]);
        var network = new GaussianMixtureModel<float>(mixture, plan.Prediction, plan.ModelTimeMap);
        using var x = BatchTensor<float>.Allocate(16, 2);
        new PhiloxNoise(seed: 1).Fill(x, stream: NoiseStreams.Start);
        var result = plan.Run(network, x, noise: new PhiloxNoise(seed: 1));

        Assert.IsType<DpmSolverPlusPlus2MSampler>(plan.Sampler);
        Assert.Equal(20, result.Statistics.ModelEvaluations);
        Assert.Equal("DPMSolverMultistepScheduler", DiffusersSchedulerConfig.Parse(saved).ClassName);
        Assert.Equal(shipped.AlphasCumprod, dpm.AlphasCumprod);
        // Every sample lands near one of the two modes (within a few component standard deviations).
        for (int b = 0; b < 16; b++)
        {
            var r = x.Row(b);
            double d0 = Math.Sqrt((r[0] + 2) * (r[0] + 2) + r[1] * r[1]), d1 = Math.Sqrt((r[0] - 2) * (r[0] - 2) + (r[1] - 1) * (r[1] - 1));
            Assert.True(Math.Min(d0 / 0.3, d1 / 0.5) < 5, $"sample {b} = ({r[0]}, {r[1]}) is far from both modes");
        }
    }
}
