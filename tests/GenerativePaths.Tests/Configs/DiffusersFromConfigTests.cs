using System.Text.Json;
using System.Text.Json.Nodes;
using GenerativePaths.Configs;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Configs;

/// <summary>
/// diffusers' <c>OtherScheduler.from_config(config, **overrides)</c>: Stable Diffusion 1.5's shipped <c>PNDMScheduler</c> configuration run
/// as other classes keeps its training fields, and reproduces the peers' own runs of those classes (the shared reference cases of the
/// same training table) through the library's factory alone (<see cref="DiffusersSamplingPlan"/>), without CLI code.
/// </summary>
public class DiffusersFromConfigTests
{
    // SD 1.5's scheduler_config.json (runwayml/stable-diffusion-v1-5, scheduler/).
    private const string Sd15 = """
        {
          "_class_name": "PNDMScheduler",
          "_diffusers_version": "0.6.0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "num_train_timesteps": 1000,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "trained_betas": null,
          "clip_sample": false
        }
        """;

    private static double[] D(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
    private static double[][] M(JsonElement e) => e.EnumerateArray().Select(D).ToArray();

    /// <summary>Runs <paramref name="config"/> through its plan on the case's mixture, start and noise tape; returns the peer's coordinates.</summary>
    private static double[][] RunLikeTheCase(DiffusersSchedulerConfig config, JsonElement root)
    {
        var g = root.GetProperty("gmm");
        var mixture = GaussianMixture.Isotropic(D(g.GetProperty("weights")), M(g.GetProperty("means")), D(g.GetProperty("stds")));
        int steps = root.GetProperty("set_timesteps").GetProperty("num_inference_steps").GetInt32();
        var plan = config.CreatePlan(steps, DiffusersStepArguments.FromJson(root.GetProperty("step_kwargs")));
        var network = new GaussianMixtureModel<double>(mixture, plan.Prediction, plan.ModelTimeMap);
        using var x = BatchTensor<double>.FromRows(M(root.GetProperty("x_init")));
        var tape = root.TryGetProperty("noise", out var n) ? n.EnumerateArray().Select(M).ToList() : [];
        plan.Run(network, x, new ReplayNoise(tape));
        double s = plan.PeerSampleScale(plan.Schedule.Points.Length - 1);
        return x.ToRows().Select(r => r.Select(v => v * s).ToArray()).ToArray();
    }

    private static void AssertMatchesCase(DiffusersSchedulerConfig config, string file)
    {
        using var doc = ReferenceCases.Load(file);
        var root = doc.RootElement;
        var expected = M(root.GetProperty("x_final"));
        var actual = RunLikeTheCase(config, root);
        double worst = 0;
        for (int b = 0; b < expected.Length; b++) for (int j = 0; j < expected[b].Length; j++) worst = Math.Max(worst, Math.Abs(expected[b][j] - actual[b][j]));
        Assert.True(worst <= 1e-4, $"{config.ClassName} from SD 1.5's config against {file}: max abs difference {worst:E3}");
    }

    [Fact]
    public void Sd15RunsAsItsOwnClassLikeThePeer()
        => AssertMatchesCase(DiffusersSchedulerConfig.Parse(Sd15), "diffusers_pndm_plms_sd15_20.json");

    [Fact]
    public void Sd15AsEulerWithKarrasSigmasIsThePeersEulerKarrasRun()
    {
        var pndm = DiffusersSchedulerConfig.Parse(Sd15);
        var euler = pndm.WithClass("EulerDiscreteScheduler", new Dictionary<string, JsonNode?> { ["use_karras_sigmas"] = true });
        Assert.Equal("EulerDiscreteScheduler", euler.ClassName);
        Assert.Equal(SamplerKind.Euler, euler.Sampler);
        Assert.True(euler.UseKarrasSigmas);
        // The training fields are the shipped ones.
        Assert.Equal(pndm.AlphasCumprod, euler.AlphasCumprod);
        Assert.Equal(1, euler.StepsOffset);
        AssertMatchesCase(euler, "diffusers_euler_karras_15.json");
    }

    [Fact]
    public void Sd15AsDpmSolverOfOrderThreeIsThePeersDpmpp3mRun()
    {
        var dpm = DiffusersSchedulerConfig.FromConfig(DiffusersSchedulerConfig.Parse(Sd15), "DPMSolverMultistepScheduler",
            new Dictionary<string, JsonNode?> { ["solver_order"] = 3, ["algorithm_type"] = "dpmsolver++" });
        Assert.Equal(3, dpm.SolverOrder);
        Assert.IsType<GenerativePaths.Samplers.DpmSolverPlusPlus3MSampler>(dpm.CreateSampler());
        AssertMatchesCase(dpm, "diffusers_dpmpp_3m_20.json");
    }

    [Fact]
    public void Sd15AsUniPcAndDeisAreThePeersRuns()
    {
        var pndm = DiffusersSchedulerConfig.Parse(Sd15);
        AssertMatchesCase(pndm.WithClass("UniPCMultistepScheduler", new Dictionary<string, JsonNode?> { ["solver_type"] = "bh2" }), "diffusers_unipc_bh2_10.json");
        AssertMatchesCase(pndm.WithClass("DEISMultistepScheduler", new Dictionary<string, JsonNode?> { ["solver_order"] = 3 }), "diffusers_deis_3_15.json");
        AssertMatchesCase(pndm.WithClass("LCMScheduler"), "diffusers_lcm_4.json");
    }

    [Fact]
    public void RequestedClassWinsOverClassName()
    {
        using var doc = JsonDocument.Parse(Sd15);
        var c = DiffusersSchedulerConfig.FromJson(doc.RootElement, "EulerDiscreteScheduler");
        Assert.Equal("EulerDiscreteScheduler", c.ClassName);
        Assert.Equal(SamplerKind.Euler, c.Sampler);
        Assert.Contains("\"_class_name\":\"EulerDiscreteScheduler\"", c.ToJson().Replace(" ", ""));
        // Without a requested class the configuration's own applies.
        Assert.Equal("PNDMScheduler", DiffusersSchedulerConfig.FromJson(doc.RootElement).ClassName);
    }

    [Fact]
    public void SwappedConfigurationsRoundTripThroughJson()
    {
        var swapped = DiffusersSchedulerConfig.Parse(Sd15).WithClass("DPMSolverMultistepScheduler", new Dictionary<string, JsonNode?> { ["use_karras_sigmas"] = true });
        var again = DiffusersSchedulerConfig.Parse(swapped.ToJson());
        Assert.Equal(swapped.ClassName, again.ClassName);
        Assert.True(again.UseKarrasSigmas);
        Assert.Equal(swapped.AlphasCumprod, again.AlphasCumprod);
        Assert.Equal(swapped.Timesteps(swapped.CreateSchedule(16)), again.Timesteps(again.CreateSchedule(16)));
        Assert.Equal(swapped.Sigmas(swapped.CreateSchedule(16)), again.Sigmas(again.CreateSchedule(16)));
        // The peer's Karras plan of the same training table (the DPM++ 2M SDE case lists it).
        using var doc = ReferenceCases.Load("diffusers_dpmpp_2m_sde_karras_16.json");
        var peer = D(doc.RootElement.GetProperty("sigmas"));
        var ours = again.Sigmas(again.CreateSchedule(16));
        Assert.Equal(peer.Length, ours.Count);
        for (int i = 0; i < peer.Length; i++) Assert.True(Math.Abs(peer[i] - ours[i]) <= 1e-6 * Math.Max(1, peer[i]), $"sigma {i}: {ours[i]} vs the peer's {peer[i]}");
    }

    [Fact]
    public void NullOverrideRestoresTheDefaultAndBadOverridesAreNamed()
    {
        var pndm = DiffusersSchedulerConfig.Parse(Sd15);
        Assert.Equal(0, pndm.With(new Dictionary<string, JsonNode?> { ["steps_offset"] = null }).StepsOffset);
        var e = Assert.Throws<DiffusersConfigException>(() => pndm.WithClass("NoSuchScheduler"));
        Assert.Equal("_class_name", e.Field);
        Assert.Contains("NoSuchScheduler", e.Message);
        var bad = Assert.Throws<DiffusersConfigException>(() => pndm.WithClass("DPMSolverMultistepScheduler", new Dictionary<string, JsonNode?> { ["solver_order"] = 7 }));
        Assert.Equal("solver_order", bad.Field);
        Assert.Throws<ArgumentException>(() => pndm.WithClass("DDIMScheduler", new Dictionary<string, JsonNode?> { ["_class_name"] = "X" }));
    }

    [Fact]
    public void UnsupportedVariantsSayWhichWhenTheSamplerIsAskedFor()
    {
        var unipcNoise = DiffusersSchedulerConfig.Parse(Sd15).WithClass("UniPCMultistepScheduler", new Dictionary<string, JsonNode?> { ["predict_x0"] = false });
        Assert.False(unipcNoise.TryCreateSampler(null, out _, out string? why));
        Assert.Contains("predict_x0", why);
        var e = Assert.Throws<DiffusersConfigException>(() => unipcNoise.CreatePlan(20));
        Assert.True(e.IsUnsupported);
        Assert.Contains("UniPCMultistepScheduler", e.Message);
    }

    [Fact]
    public void EdmPlanWrapsTheNetworkInThePreconditioning()
    {
        var edm = DiffusersSchedulerConfig.Parse("""{"_class_name": "EDMEulerScheduler", "sigma_data": 0.7}""");
        var plan = edm.CreatePlan(8);
        // An F network that returns 0: D = c_skip x exactly.
        var model = plan.PrepareModel(new ZeroNetwork());
        Assert.Equal(Prediction.Data, model.Prediction);
        using var x = BatchTensor<double>.FromRows([[1.0, -2.0]]);
        using var o = BatchTensor<double>.Allocate(1, 2);
        double sigma = 3.0, t = EdmPreconditioning.NoiseInput(sigma);
        model.Evaluate(x, [t], o);
        double skip = 0.49 / (9 + 0.49);
        Assert.Equal(skip * 1.0, o.Row(0)[0], 12);
        Assert.Equal(skip * -2.0, o.Row(0)[1], 12);
    }

    private sealed class ZeroNetwork : IGenerativeModel<double>
    {
        public Prediction Prediction => Prediction.Data;
        public void Evaluate(BatchTensor<double> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<double> output) => output.Span.Clear();
    }

    [Theory]
    [InlineData("DDIMScheduler", typeof(DdimSchedulerOptions))]
    [InlineData("DDPMScheduler", typeof(DdpmSchedulerOptions))]
    [InlineData("PNDMScheduler", typeof(PndmSchedulerOptions))]
    [InlineData("EulerDiscreteScheduler", typeof(EulerFamilyOptions))]
    [InlineData("KDPM2DiscreteScheduler", typeof(EulerFamilyOptions))]
    [InlineData("DPMSolverMultistepScheduler", typeof(MultistepSolverOptions))]
    [InlineData("DPMSolverSinglestepScheduler", typeof(MultistepSolverOptions))]
    [InlineData("DEISMultistepScheduler", typeof(MultistepSolverOptions))]
    [InlineData("SASolverScheduler", typeof(MultistepSolverOptions))]
    [InlineData("UniPCMultistepScheduler", typeof(MultistepSolverOptions))]
    [InlineData("LCMScheduler", typeof(ConsistencyOptions))]
    [InlineData("TCDScheduler", typeof(ConsistencyOptions))]
    [InlineData("FlowMatchEulerDiscreteScheduler", typeof(FlowMatchOptions))]
    [InlineData("FlowMatchHeunDiscreteScheduler", typeof(FlowMatchOptions))]
    [InlineData("EDMEulerScheduler", typeof(EdmOptions))]
    [InlineData("EDMDPMSolverMultistepScheduler", typeof(EdmOptions))]
    public void EveryClassHasItsFamilysTypedOptions(string className, Type optionsType)
    {
        var c = DiffusersSchedulerConfig.Parse($"{{\"_class_name\": \"{className}\"}}");
        Assert.IsType(optionsType, c.Options);
        Assert.True(c.TryCreateSampler(null, out var sampler, out _), $"{className} has no default sampler");
        Assert.NotNull(sampler);
        var plan = c.CreatePlan(8);
        Assert.Equal(8, plan.Schedule.StepCount);
    }

    [Fact]
    public void OptionsHoldTheFieldsRead()
    {
        var c = DiffusersSchedulerConfig.Parse("""{"_class_name": "SASolverScheduler", "predictor_order": 3, "corrector_order": 1}""");
        var o = Assert.IsType<MultistepSolverOptions>(c.Options);
        Assert.Equal(3, o.PredictorOrder);
        Assert.Equal(1, o.CorrectorOrder);
        Assert.Equal(FinalSigmasType.SigmaMin, o.FinalSigmasType);
        var edm = Assert.IsType<EdmOptions>(DiffusersSchedulerConfig.Parse("""{"_class_name": "EDMEulerScheduler", "sigma_data": 0.6, "rho": 5}""").Options);
        Assert.Equal(0.6, edm.SigmaData);
        Assert.Equal(5, edm.Rho);
    }

    [Fact]
    public void FieldsTheNewClassDoesNotReadAreIgnored()
    {
        // A DDIM configuration clips x0 and thresholds; Euler reads neither (diffusers keeps them unused), DPM-Solver only thresholds.
        var ddim = DiffusersSchedulerConfig.Parse("""{"_class_name": "DDIMScheduler", "clip_sample": true, "thresholding": true}""");
        Assert.True(ddim.ClipSample);
        Assert.True(ddim.Thresholding);
        var euler = ddim.WithClass("EulerDiscreteScheduler");
        Assert.False(euler.ClipSample);
        Assert.False(euler.Thresholding);
        var dpm = ddim.WithClass("DPMSolverMultistepScheduler");
        Assert.False(dpm.ClipSample);
        Assert.True(dpm.Thresholding);
        Assert.True(ddim.WithClass("DDPMScheduler").ClipSample);
        // Swapping back restores them: the fields were kept.
        Assert.True(euler.WithClass("DDIMScheduler").ClipSample);
        var heun = DiffusersSchedulerConfig.Parse("""{"_class_name": "FlowMatchEulerDiscreteScheduler", "shift": 3.0, "use_dynamic_shifting": true}""")
            .WithClass("FlowMatchHeunDiscreteScheduler");
        Assert.False(heun.UseDynamicShifting);
        Assert.Equal(10, heun.CreateSchedule(10).StepCount);
    }
}
