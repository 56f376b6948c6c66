using System.Text.Json;
using GenerativePaths.Cli;
using Xunit;

namespace GenerativePaths.Tests.Reference;

/// <summary>The LMS, DPM-2 and UniPC reference cases and the k-diffusion sigma-plan cases, through the code path of <c>gpaths reference</c>.</summary>
public class NewSamplerReferenceCaseTests
{
    [Theory]
    [InlineData("kdiffusion_lms_exponential_12.json", "model_call_sigmas")]
    [InlineData("kdiffusion_dpm_2_karras_10.json", "model_call_sigmas")]
    [InlineData("diffusers_lms_20.json", "model_call_timesteps")]
    [InlineData("diffusers_unipc_bh2_10.json", "model_call_timesteps")]
    public void SamplerCasesMatchThePeer(string file, string callTimesField) => SamplerReferenceCaseTests.CheckCase(file, callTimesField);

    [Theory]
    [InlineData("kdiffusion_sigmas_karras_10.json")]
    [InlineData("kdiffusion_sigmas_exponential_12.json")]
    public void SigmaPlanCasesMatchTheListedSigmas(string file)
    {
        using var doc = ReferenceCases.Load(file);
        var root = doc.RootElement;
        var outcome = ReferenceCommand.Dispatch(Path.GetFileNameWithoutExtension(file), root);
        Assert.Null(outcome.Unsupported);
        using var output = JsonDocument.Parse(outcome.OutputJson);
        var ours = output.RootElement.GetProperty("sigmas").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var peer = root.GetProperty("sigmas").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(peer.Length, ours.Length);
        Assert.Equal(0.0, ours[^1]);
        double worstAbs = 0;
        for (int i = 0; i < peer.Length; i++)
        {
            double d = Math.Abs(peer[i] - ours[i]);
            worstAbs = Math.Max(worstAbs, d);
            // The peer computed in float32: agreement to float32 rounding (a few ulp of 2^-24 relative).
            Assert.True(d <= 1e-6 * Math.Abs(peer[i]), $"{file}: sigma {i} is {ours[i]}, the peer's {peer[i]}");
        }
        Assert.Equal(worstAbs, outcome.MaxAbsDifference, 15);
    }

    [Fact]
    public void CommandPassesTheNewCases()
    {
        foreach (var file in new[] { "kdiffusion_lms_exponential_12.json", "kdiffusion_sigmas_karras_10.json", "diffusers_unipc_bh2_10.json" })
            Assert.Equal(0, ReferenceCommand.Run([ReferenceCases.PathOf(file)], new StringWriter(), new StringWriter()));
    }
}

/// <summary>diffusers' <c>KDPM2DiscreteScheduler</c> through the importer: the DPM-2 sampler calls the model at the timesteps the
/// scheduler lists (its geometric midpoints interleaved), and <c>LMSDiscreteScheduler</c> / <c>UniPCMultistepScheduler</c> configurations
/// map to the new samplers with their options.</summary>
public class DiffusersNewSamplerMappingTests
{
    private sealed class Recorder(GenerativePaths.Models.IGenerativeModel<double> inner) : GenerativePaths.Models.IGenerativeModel<double>
    {
        public List<double> Times { get; } = [];
        public GenerativePaths.Models.Prediction Prediction => inner.Prediction;
        public void Evaluate(GenerativePaths.Tensors.BatchTensor<double> x, ReadOnlySpan<double> t, in GenerativePaths.Models.ModelCondition condition, GenerativePaths.Tensors.BatchTensor<double> output)
        {
            Times.Add(t[0]);
            inner.Evaluate(x, t, condition, output);
        }
    }

    [Theory]
    [InlineData(10, "linspace")]
    [InlineData(25, "leading")]
    [InlineData(7, "trailing")]
    public void Kdpm2CallsTheModelAtTheSchedulersTimesteps(int steps, string spacing)
    {
        var config = GenerativePaths.Configs.DiffusersSchedulerConfig.Parse($$"""
            {"_class_name": "KDPM2DiscreteScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
             "timestep_spacing": "{{spacing}}", "steps_offset": 1}
            """);
        var schedule = config.CreateSchedule(steps);
        var mixture = GenerativePaths.Models.GaussianMixture.Isotropic([1.0], [[0.5, -0.5]], [0.5]);
        var model = new Recorder(new GenerativePaths.Models.GaussianMixtureModel<double>(mixture, config.Prediction, GenerativePaths.Models.ModelTimeMaps.DiscreteVariancePreserving(config.AlphasCumprod)));
        using var x = GenerativePaths.Tensors.BatchTensor<double>.Allocate(1, 2);
        new GenerativePaths.Noise.PhiloxNoise(1).Fill(x, 0);
        GenerativePaths.Samplers.SamplingLoop.Run(model, x, schedule, new GenerativePaths.Samplers.DpmSolver2Sampler());
        var expected = config.Timesteps(schedule);
        Assert.Equal(expected.Count, model.Times.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(expected[i] - model.Times[i]) <= 1e-6 * Math.Max(1, Math.Abs(expected[i])), $"call {i}: {model.Times[i]} vs the scheduler's {expected[i]}");
    }
}
