using GenerativePaths.Configs;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>Every sampler is finite on schedules the library builds from diffusers configurations, including zero terminal SNR.</summary>
public class SamplersOnImportedSchedulesTests
{
    public static TheoryData<string, string> Configs() => new()
    {
        { "DDIMScheduler", """{"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "timestep_spacing": "trailing", "rescale_betas_zero_snr": true, "prediction_type": "v_prediction"}""" },
        { "DDIMScheduler", """{"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "steps_offset": 1, "set_alpha_to_one": false}""" },
        { "DDPMScheduler", """{"beta_schedule": "squaredcos_cap_v2", "prediction_type": "sample"}""" },
        { "EulerDiscreteScheduler", """{"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "use_karras_sigmas": true, "prediction_type": "v_prediction"}""" },
        { "DPMSolverMultistepScheduler", """{"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "timestep_spacing": "trailing", "rescale_betas_zero_snr": true, "prediction_type": "v_prediction"}""" },
        { "FlowMatchEulerDiscreteScheduler", """{"shift": 3.0}""" },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void EverySamplerIsFinite(string className, string json)
    {
        var config = DiffusersSchedulerConfig.FromJson(System.Text.Json.JsonDocument.Parse(json).RootElement, className);
        var schedule = config.CreateSchedule(12);
        bool flow = config.Prediction == Prediction.FlowVelocity;
        var map = flow ? ModelTimeMaps.RectifiedFlow(config.NumTrainTimesteps) : ModelTimeMaps.DiscreteVariancePreserving(config.AlphasCumprod);
        if (json.Contains("rescale_betas_zero_snr") && className == "DDIMScheduler") Assert.Equal(0.0, schedule[0].Alpha, 12); // zero terminal SNR start
        foreach (var sampler in AllSamplers())
        {
            using var x = Normals(3, 4, 5);
            for (int i = 0; i < x.Length; i++) x.Span[i] *= schedule[0].Sigma;
            var model = new GaussianMixtureModel<double>(Mix, config.Prediction, map);
            var state = new SamplerState<double>(model, schedule, x, new PhiloxNoise(2), velocityPath: flow ? new RectifiedFlowPath() : null);
            SamplingLoop.Run(state, sampler);
            Assert.True(TensorReductions.IsFinite<double>(x.Span), $"{sampler.Name} on {className} {json}");
        }
    }
}

public class FlowVelocityDefaultsTests
{
    [Fact]
    public void ShiftedFlowPathUsesTheUnshiftedVelocityByDefault()
    {
        // A plan on a shifted rectified-flow path: path time t, flow sigma u = shift(t). The model predicts eps - x0 = dx/du,
        // not dx/dt, so the default velocity path must be the unshifted one.
        var path = new RectifiedFlowPath(FlowTimeShift.Static(3.0), modelTimeScale: 1000);
        var schedule = new StepSchedule(path, Linspace(1.0, 0.0, 9).Select(t => new SchedulePoint(path.Alpha(t), path.Sigma(t), path.ModelTime(t))));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.FlowVelocity, ModelTimeMaps.RectifiedFlow(1000));
        using var a = Normals(2, 4, 6);
        SamplingLoop.Run(model, a, schedule, new HeunSampler());
        // The same run with an x0-predicting model of the same mixture: the conversion is exact, so the results agree.
        using var c = Normals(2, 4, 6);
        SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.RectifiedFlow(1000)), c, schedule, new HeunSampler());
        for (int i = 0; i < a.Length; i++) Assert.Equal(c.Span[i], a.Span[i], 9);
    }
}
