using GenerativePaths.Configs;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Schedules;
using Xunit;

namespace GenerativePaths.Tests.Configs;

/// <summary>The importer's options, errors and the plans it builds beyond the reference cases.</summary>
public class DiffusersSchedulerConfigTests
{
    private const string Sd = "\"num_train_timesteps\": 1000, \"beta_start\": 0.00085, \"beta_end\": 0.012, \"beta_schedule\": \"scaled_linear\"";

    private static DiffusersSchedulerConfig Cfg(string cls, string fields = "") =>
        DiffusersSchedulerConfig.Parse($"{{\"_class_name\": \"{cls}\", \"_diffusers_version\": \"0.30.0\", {Sd}{(fields.Length > 0 ? ", " + fields : "")}}}");

    // ---------------------------------------------------------------- errors name the field and value

    [Fact]
    public void UnknownClassIsNamed()
    {
        var e = Assert.Throws<DiffusersConfigException>(() => Cfg("ScoreSdeVeScheduler"));
        Assert.Equal("_class_name", e.Field);
        Assert.Equal("ScoreSdeVeScheduler", e.Value);
        Assert.Contains("ScoreSdeVeScheduler", e.Message);
        Assert.Contains("PNDMScheduler", e.Message); // the supported classes are listed
        Assert.True(e.IsUnsupported);
    }

    [Theory]
    [InlineData("DDIMScheduler", "\"beta_schedule\": \"sigmoid\"", "beta_schedule", "sigmoid")]
    [InlineData("DDIMScheduler", "\"timestep_spacing\": \"sideways\"", "timestep_spacing", "sideways")]
    [InlineData("DDIMScheduler", "\"prediction_type\": \"score\"", "prediction_type", "score")]
    [InlineData("DDPMScheduler", "\"variance_type\": \"huge\"", "variance_type", "huge")]
    [InlineData("EulerDiscreteScheduler", "\"use_beta_sigmas\": true", "use_beta_sigmas", "true")]
    [InlineData("EulerDiscreteScheduler", "\"interpolation_type\": \"log_linear\"", "interpolation_type", "log_linear")]
    [InlineData("EulerDiscreteScheduler", "\"timestep_type\": \"continuous\"", "timestep_type", "continuous")]
    [InlineData("DPMSolverMultistepScheduler", "\"algorithm_type\": \"deis\"", "algorithm_type", "deis")]
    [InlineData("DPMSolverMultistepScheduler", "\"final_sigmas_type\": \"denoise_to_zero\"", "final_sigmas_type", "denoise_to_zero")]
    [InlineData("DPMSolverMultistepScheduler", "\"use_lu_lambdas\": true", "use_lu_lambdas", "true")]
    [InlineData("FlowMatchEulerDiscreteScheduler", "\"invert_sigmas\": true", "invert_sigmas", "true")]
    [InlineData("FlowMatchEulerDiscreteScheduler", "\"time_shift_type\": \"cubic\"", "time_shift_type", "cubic")]
    [InlineData("HeunDiscreteScheduler", "\"rescale_betas_zero_snr\": true", "rescale_betas_zero_snr", "true")]
    public void UnsupportedValuesAreNamed(string cls, string field, string name, string value)
    {
        var e = Assert.Throws<DiffusersConfigException>(() => Cfg(cls, field));
        Assert.Equal(name, e.Field);
        Assert.Equal(value, e.Value);
        Assert.Contains(name, e.Message);
        Assert.Contains(value, e.Message);
    }

    [Theory]
    [InlineData("\"num_train_timesteps\": 1", "num_train_timesteps")]
    [InlineData("\"clip_sample\": \"yes\"", "clip_sample")]
    [InlineData("\"steps_offset\": 1.5", "steps_offset")]
    [InlineData("\"trained_betas\": [0.1, \"x\"]", "trained_betas")]
    public void InvalidValuesAreNamed(string field, string name)
    {
        var e = Assert.Throws<DiffusersConfigException>(() =>
            DiffusersSchedulerConfig.Parse($"{{\"_class_name\": \"DDIMScheduler\", {field}}}"));
        Assert.Equal(name, e.Field);
        Assert.False(e.IsUnsupported);
    }

    [Fact]
    public void MissingClassNameIsReported()
    {
        var e = Assert.Throws<DiffusersConfigException>(() => DiffusersSchedulerConfig.Parse("{\"num_train_timesteps\": 1000}"));
        Assert.Equal("_class_name", e.Field);
    }

    [Fact]
    public void FieldsThatDoNotChangeTheResultAreAccepted()
    {
        var c = Cfg("DDIMScheduler", "\"skip_prk_steps\": true, \"some_future_field\": [1, 2], \"clip_sample\": false");
        Assert.Equal(SamplerKind.Ddim, c.Sampler);
        Assert.True(c.RawConfig.TryGetProperty("some_future_field", out _));
    }

    [Fact]
    public void StepsOutsideTheTableAreRejected()
    {
        var c = Cfg("DDIMScheduler");
        Assert.Throws<ArgumentOutOfRangeException>(() => c.CreateSchedule(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => c.CreateSchedule(1001));
    }

    // ---------------------------------------------------------------- typed options and defaults

    [Fact]
    public void DefaultsFollowEachClass()
    {
        var ddim = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"DDIMScheduler\"}");
        Assert.True(ddim.ClipSample);                       // DDIM clips by default
        Assert.Equal(TimestepSpacing.Leading, ddim.TimestepSpacing);
        Assert.Equal("linear", ddim.BetaSchedule);
        Assert.Equal(Prediction.Epsilon, ddim.Prediction);
        Assert.Equal(SampleCoordinates.Path, ddim.Coordinates);

        var dpm = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"DPMSolverMultistepScheduler\"}");
        Assert.Equal(2, dpm.SolverOrder);
        Assert.Equal(DpmAlgorithmType.DpmSolverPlusPlus, dpm.AlgorithmType);
        Assert.Equal(SolverType.Midpoint, dpm.SolverType);
        Assert.True(dpm.LowerOrderFinal);
        Assert.Equal(FinalSigmasType.Zero, dpm.FinalSigmasType);
        Assert.Equal(TimestepSpacing.Linspace, dpm.TimestepSpacing);

        var unipc = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"UniPCMultistepScheduler\", \"disable_corrector\": [0, 3]}");
        Assert.Equal(SolverType.Bh2, unipc.SolverType);
        Assert.Equal([0, 3], unipc.DisableCorrector);

        var euler = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"EulerDiscreteScheduler\", \"prediction_type\": \"v_prediction\"}");
        Assert.Equal(Prediction.Velocity, euler.Prediction);
        Assert.Equal(SampleCoordinates.VarianceExploding, euler.Coordinates);

        var ddpm = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"DDPMScheduler\", \"variance_type\": \"fixed_large\", \"thresholding\": true, \"dynamic_thresholding_ratio\": 0.9, \"sample_max_value\": 2.5}");
        Assert.Equal(DdpmVarianceType.FixedLarge, ddpm.VarianceType);
        Assert.True(ddpm.Thresholding);
        Assert.Equal(0.9, ddpm.DynamicThresholdingRatio);
        Assert.Equal(2.5, ddpm.SampleMaxValue);

        var flow = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"shift\": 3.0}");
        Assert.Equal(Prediction.FlowVelocity, flow.Prediction);
        Assert.IsType<RectifiedFlowPath>(flow.Path);
        Assert.Equal(3.0, flow.Shift);
        Assert.Equal(1000.0 * 0.5, flow.Path.ModelTime(0.5));
    }

    // ---------------------------------------------------------------- plans

    [Fact]
    public void DdimWithoutAlphaToOneEndsAtTheFirstTableEntry()
    {
        var c = Cfg("DDIMScheduler", "\"set_alpha_to_one\": false, \"steps_offset\": 1");
        var s = c.CreateSchedule(10);
        Assert.Equal(Math.Sqrt(c.AlphasCumprod[0]), s[^1].Alpha, 15);
        Assert.True(s[^1].Sigma > 0);
        var clean = Cfg("DDIMScheduler", "\"steps_offset\": 1").CreateSchedule(10);
        Assert.Equal((1.0, 0.0), (clean[^1].Alpha, clean[^1].Sigma));
    }

    [Fact]
    public void ZeroTerminalSnrDdimStartsAtPureNoise()
    {
        var c = Cfg("DDIMScheduler", "\"rescale_betas_zero_snr\": true, \"timestep_spacing\": \"trailing\"");
        var s = c.CreateSchedule(10);
        Assert.Equal(999.0, s[0].ModelTime);
        Assert.Equal(0.0, s[0].Alpha);
        Assert.Equal(1.0, s[0].Sigma);
        Assert.Equal(double.NegativeInfinity, s[0].LogSnr);
        Assert.Equal(0.0, c.AlphasCumprod[^1]);
    }

    [Fact]
    public void ZeroTerminalSnrEulerUsesTheFiniteReplacement()
    {
        var c = Cfg("EulerDiscreteScheduler", "\"rescale_betas_zero_snr\": true, \"timestep_spacing\": \"trailing\"");
        Assert.Equal(Math.Pow(2, -24), c.AlphasCumprod[^1]);
        var s = c.CreateSchedule(10);
        double expected = Math.Sqrt((1 - Math.Pow(2, -24)) / Math.Pow(2, -24)); // ~4096
        Assert.True(Math.Abs(c.Sigmas(s)[0] - expected) <= 1e-6 * expected);
        Assert.Equal(expected, c.PeerInitNoiseSigma(s), 2);
        Assert.Equal(s[0].Sigma, c.InitNoiseSigma(s), 12); // trailing: the same start in the library's coordinates is sigma_0
    }

    [Fact]
    public void LeadingEulerInitNoiseSigmaIncludesTheUnitVariance()
    {
        var c = Cfg("EulerDiscreteScheduler", "\"timestep_spacing\": \"leading\", \"steps_offset\": 1");
        var s = c.CreateSchedule(10);
        double max = c.Sigmas(s)[0];
        Assert.Equal(Math.Sqrt(max * max + 1), c.PeerInitNoiseSigma(s), 12);
        Assert.Equal(1.0, c.InitNoiseSigma(s), 6); // sqrt(max^2 + 1) alpha_0 = 1: diffusers starts from z itself here
        Assert.Equal(901.0, c.Timesteps(s)[0]);
    }

    [Fact]
    public void EulerExponentialSigmasAreLogUniform()
    {
        var c = Cfg("EulerDiscreteScheduler", "\"use_exponential_sigmas\": true");
        var s = c.CreateSchedule(12);
        var sig = c.Sigmas(s);
        for (int i = 1; i < 11; i++)
            Assert.Equal(Math.Log(sig[i - 1]) - Math.Log(sig[i]), Math.Log(sig[i]) - Math.Log(sig[i + 1]), 5);
        Assert.Equal(0.0, sig[12]);
        var ts = c.Timesteps(s);
        Assert.Equal(999.0, ts[0], 3);
        Assert.Equal(0.0, ts[11], 3);
    }

    [Fact]
    public void DpmKarrasUsesTheWholeTableAndIntegerTimesteps()
    {
        var c = Cfg("DPMSolverMultistepScheduler", "\"use_karras_sigmas\": true");
        var s = c.CreateSchedule(15);
        var ac = c.AlphasCumprod;
        double hi = Math.Sqrt((1 - ac[999]) / ac[999]), lo = Math.Sqrt((1 - ac[0]) / ac[0]);
        var sig = c.Sigmas(s);
        Assert.True(Math.Abs(sig[0] - hi) <= 1e-6 * hi);
        Assert.True(Math.Abs(sig[14] - lo) <= 1e-6 * lo);
        for (int i = 0; i < 15; i++)
        {
            double k = Math.Pow(Math.Pow(hi, 1 / 7.0) + i / 14.0 * (Math.Pow(lo, 1 / 7.0) - Math.Pow(hi, 1 / 7.0)), 7);
            Assert.True(Math.Abs(sig[i] - k) <= 1e-6 * k, $"sigma {i}: {sig[i]} vs {k}");
        }
        Assert.Equal(0.0, sig[15]);
        Assert.All(c.Timesteps(s), t => Assert.Equal(Math.Round(t), t));
        Assert.Equal(999.0, c.Timesteps(s)[0]);
        Assert.Equal(0.0, c.Timesteps(s)[14]);
    }

    [Fact]
    public void DpmSigmaMinFinalTypeEndsAboveZero()
    {
        var c = Cfg("DPMSolverMultistepScheduler", "\"final_sigmas_type\": \"sigma_min\"");
        var s = c.CreateSchedule(20);
        double lo = Math.Sqrt((1 - c.AlphasCumprod[0]) / c.AlphasCumprod[0]);
        Assert.True(Math.Abs(c.Sigmas(s)[^1] - lo) <= 1e-6 * lo);
        Assert.Equal(20, c.Timesteps(s).Count);
    }

    [Fact]
    public void DpmLambdaClipDropsTheNoisiestTimesteps()
    {
        var c = Cfg("DPMSolverMultistepScheduler", "\"lambda_min_clipped\": -3.0");
        var s = c.CreateSchedule(10);
        double lambda0 = -Math.Log(c.Sigmas(s)[0]);
        Assert.True(lambda0 >= -3.0 - 0.01, $"first log-SNR {lambda0} is below the clip");
    }

    [Fact]
    public void HeunAndKdpm2InterleaveTheirModelCalls()
    {
        var heun = Cfg("HeunDiscreteScheduler");
        var s = heun.CreateSchedule(6);
        Assert.Equal(6, s.StepCount);
        var ts = heun.Timesteps(s);
        Assert.Equal(11, ts.Count);
        Assert.Equal(ts[1], ts[2]);
        Assert.Equal(12, heun.Sigmas(s).Count);

        var kdpm2 = Cfg("KDPM2DiscreteScheduler");
        var k = kdpm2.CreateSchedule(6);
        var kt = kdpm2.Timesteps(k);
        Assert.Equal(11, kt.Count);
        for (int i = 1; i < 6; i++)
        {
            // the midpoint timestep lies between the timesteps of its two neighbours
            Assert.InRange(kt[2 * i - 1], k[i].ModelTime, k[i - 1].ModelTime);
            Assert.Equal(k[i].ModelTime, kt[2 * i]);
        }
    }

    [Fact]
    public void FlowDynamicShiftNeedsMuAndShiftsOnce()
    {
        var c = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"use_dynamic_shifting\": true, \"base_shift\": 0.5, \"max_shift\": 1.15}");
        Assert.Throws<InvalidOperationException>(() => c.CreateSchedule(8));
        double mu = c.DynamicShiftMu(4096);
        Assert.Equal(1.15, mu, 12);
        var s = c.CreateSchedule(8, mu);
        for (int i = 0; i < 8; i++)
        {
            double t = 1 + i / 7.0 * (0.001 - 1);
            double u = Math.Exp(mu) / (Math.Exp(mu) + (1 / t - 1));
            Assert.True(Math.Abs(s[i].Sigma - u) <= 1e-6 * u, $"sigma {i}: {s[i].Sigma} vs {u}");
            Assert.Equal(1 - s[i].Sigma, s[i].Alpha, 15);
            Assert.True(Math.Abs(s[i].ModelTime - 1000 * u) <= 1e-6 * 1000 * u);
        }
        Assert.Equal((1.0, 0.0), (s[^1].Alpha, s[^1].Sigma));
    }

    [Fact]
    public void FlowStaticShiftShiftsTheSmallestTimeTwice()
    {
        var c = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"shift\": 3.0}");
        var s = c.CreateSchedule(20);
        static double Shift(double t) => 3 * t / (1 + 2 * t);
        double once = Shift(0.001), twice = Shift(Shift(0.001));
        Assert.True(Math.Abs(s[19].Sigma - twice) <= 1e-6 * twice);
        Assert.True(Math.Abs(s[19].Sigma - once) > 1e-3);
    }

    [Fact]
    public void FlowShiftTerminalStretchesTheEnd()
    {
        var c = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"shift\": 3.0, \"shift_terminal\": 0.02}");
        var s = c.CreateSchedule(10);
        Assert.True(Math.Abs(s[9].Sigma - 0.02) <= 1e-6);
        Assert.Equal(1.0, s[0].Sigma, 6);
    }

    [Fact]
    public void UniPcExponentialSigmasSpanTheWholeTable()
    {
        var c = Cfg("UniPCMultistepScheduler", "\"use_exponential_sigmas\": true, \"final_sigmas_type\": \"sigma_min\"");
        var s = c.CreateSchedule(10);
        var sig = c.Sigmas(s);
        var ac = c.AlphasCumprod;
        double hi = Math.Sqrt((1 - ac[999]) / ac[999]), lo = Math.Sqrt((1 - ac[0]) / ac[0]);
        for (int i = 0; i < 10; i++)
        {
            double e = Math.Exp(Math.Log(hi) + i / 9.0 * (Math.Log(lo) - Math.Log(hi)));
            Assert.True(Math.Abs(sig[i] - e) <= 1e-6 * e, $"sigma {i}: {sig[i]} vs {e}");
        }
        Assert.Equal(sig[9], sig[10]); // sigma_min: the plan's own last sigma
        Assert.All(c.Timesteps(s), t => Assert.Equal(Math.Floor(t), t));
    }

    [Theory]
    [InlineData("{\"_class_name\": \"EulerDiscreteScheduler\", \"use_karras_sigmas\": true, \"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"beta_end\": 0.012}")]
    [InlineData("{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"shift\": 3.0}")]
    public void JsonRoundTrips(string json)
    {
        var a = DiffusersSchedulerConfig.Parse(json);
        var b = DiffusersSchedulerConfig.Parse(a.ToJson());
        Assert.Equal(a.ClassName, b.ClassName);
        Assert.Equal(a.Timesteps(a.CreateSchedule(12)), b.Timesteps(b.CreateSchedule(12)));
        var noName = DiffusersSchedulerConfig.FromJson(System.Text.Json.JsonDocument.Parse("{\"shift\": 2.0}").RootElement, "FlowMatchEulerDiscreteScheduler");
        Assert.Contains("\"_class_name\":\"FlowMatchEulerDiscreteScheduler\"", noName.ToJson());
        Assert.Equal(2.0, DiffusersSchedulerConfig.Parse(noName.ToJson()).Shift);
    }

    [Fact]
    public void TrainedBetasAreUsed()
    {
        var betas = GenerativePaths.Paths.BetaSchedules.Linear(50, 0.001, 0.05);
        string json = "{\"_class_name\": \"DDPMScheduler\", \"num_train_timesteps\": 50, \"trained_betas\": [" + string.Join(",", betas.Select(b => b.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]}";
        var c = DiffusersSchedulerConfig.Parse(json);
        Assert.Equal("trained", c.BetaSchedule);
        double prod = 1;
        for (int i = 0; i < 50; i++)
        {
            prod *= 1 - betas[i];
            Assert.True(Math.Abs(c.AlphasCumprod[i] - prod) <= 1e-6 * prod);
        }
        var s = c.CreateSchedule(5);
        Assert.Equal([40.0, 30.0, 20.0, 10.0, 0.0], c.Timesteps(s));
    }

    [Fact]
    public void SquaredCosineTableMatchesTheFloat64Formula()
    {
        var c = Cfg("DDPMScheduler", "\"beta_schedule\": \"squaredcos_cap_v2\"");
        var ac = GenerativePaths.Paths.BetaSchedules.AlphasCumprod(GenerativePaths.Paths.BetaSchedules.SquaredCosCapV2(1000));
        for (int i = 0; i < 990; i += 11) Assert.True(Math.Abs(c.AlphasCumprod[i] - ac[i]) <= 1e-5 * ac[i], $"abar[{i}]");
    }

    [Fact]
    public void SchedulesAreValidForEveryClassSpacingAndStepCount()
    {
        string[] classes = ["DDIMScheduler", "DDPMScheduler", "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler", "HeunDiscreteScheduler", "DPMSolverMultistepScheduler", "LMSDiscreteScheduler", "UniPCMultistepScheduler", "KDPM2DiscreteScheduler"];
        foreach (var cls in classes)
        foreach (var spacing in new[] { "leading", "trailing", "linspace" })
        foreach (int n in new[] { 1, 2, 7, 50, 500, 1000 / 3 })
        {
            var c = Cfg(cls, $"\"timestep_spacing\": \"{spacing}\", \"steps_offset\": 1");
            var s = c.CreateSchedule(n);
            Assert.Equal(n, s.StepCount);
            Assert.True(s[^1].Sigma == 0 || cls == "DDIMScheduler", $"{cls} {spacing} {n}: not clean at the end");
            Assert.True(c.Timesteps(s).Count >= n);
        }
        // leading spacing with an offset that runs past the table (diffusers would index out of range later)
        var e = Assert.Throws<ArgumentException>(() => Cfg("DPMSolverMultistepScheduler", "\"timestep_spacing\": \"leading\", \"steps_offset\": 1").CreateSchedule(999));
        Assert.Contains("outside [0, 999]", e.Message);
    }
}
