using GenerativePaths.Configs;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Schedules;

/// <summary><see cref="StepSchedule.Start{T}(BatchTensor{T})"/>: standard-normal noise to the schedule's start, and what the diffusers idiom would do instead.</summary>
public sealed class StepScheduleStartTests
{
    private const string EulerConfig = """
        {"_class_name": "EulerDiscreteScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
         "steps_offset": 1, "timestep_spacing": "leading", "prediction_type": "epsilon"}
        """;

    private static BatchTensor<float> Noise(int rows, int d, ulong seed)
    {
        var z = BatchTensor<float>.Allocate(rows, d);
        new PhiloxNoise(seed).Fill(z, stream: NoiseStreams.Start);
        return z;
    }

    [Fact]
    public void StartIsSigmaZeroTimesTheNoiseAndImageToImageAddsAlphaZeroX0()
    {
        foreach (var schedule in new[] { StepSchedules.Karras(10, 0.002, 80), DiffusersSchedulerConfig.Parse(EulerConfig).CreateSchedule(12).WithStrength(0.6) })
        {
            using var z = Noise(5, 7, 3);
            using var x = z.Clone();
            schedule.Start(x);
            float s0 = (float)schedule[0].Sigma, a0 = (float)schedule[0].Alpha;
            for (int i = 0; i < z.Length; i++) Assert.Equal(s0 * z.Span[i], x.Span[i]);

            using var x0 = Noise(5, 7, 4);
            using var y = BatchTensor<float>.Allocate(5, 7);
            schedule.Start(x0, z, y);
            for (int i = 0; i < z.Length; i++) Assert.Equal(a0 * x0.Span[i] + s0 * z.Span[i], y.Span[i]);
            schedule.Start(x0, z, z); // in place on the noise
            Assert.Equal(y.Span.ToArray(), z.Span.ToArray());
            using var wrong = BatchTensor<float>.Allocate(5, 6);
            Assert.Throws<ArgumentException>(() => schedule.Start(x0, wrong, y));
        }
    }

    private static readonly GaussianMixture Mixture = GaussianMixture.Isotropic([0.5, 0.5], [[-2.0, 0.0], [2.0, 1.0]], [0.3, 0.5]);

    // The exact spread of the mixture's first coordinate: 0.5 (0.3^2 + 2^2) + 0.5 (0.5^2 + 2^2) = 4.17, standard deviation 2.042.
    private static readonly double TargetStd = Math.Sqrt(0.5 * (0.09 + 4) + 0.5 * (0.25 + 4));

    private static double Std(BatchTensor<float> x)
    {
        double m = 0, s = 0;
        for (int b = 0; b < x.BatchSize; b++) m += x.Row(b)[0];
        m /= x.BatchSize;
        for (int b = 0; b < x.BatchSize; b++) s += (x.Row(b)[0] - m) * (x.Row(b)[0] - m);
        return Math.Sqrt(s / (x.BatchSize - 1));
    }

    [Fact]
    public void StartGivesTheDataScaleWhereThePeersAttributeDoesNot()
    {
        // An Euler config: diffusers starts from randn * init_noise_sigma (about 14.6) in its own coordinates; the library's
        // state is alpha x0 + sigma eps, whose start is sigma_0 z (sigma_0 just under 1 here).
        var config = DiffusersSchedulerConfig.Parse(EulerConfig);
        var schedule = config.CreateSchedule(30);
        var model = new GaussianMixtureModel<float>(Mixture, config.Prediction, config.ModelTimeMap);

        using var x = Noise(2000, 2, 9);
        schedule.Start(x);
        SamplingLoop.Run(model, x, schedule, new EulerSampler(), noise: null, new SamplingOptions<float>());
        Assert.InRange(Std(x), TargetStd - 0.15, TargetStd + 0.15);

        // The peer's attribute is a factor for diffusers' coordinates x / alpha, not for the library's state.
        using var peer = Noise(2000, 2, 9);
        float init = (float)config.PeerInitNoiseSigma(schedule);
        Assert.True(init > 10, $"init_noise_sigma {init}");
        foreach (ref float v in peer.Span) v *= init;
        SamplingLoop.Run(model, peer, schedule, new EulerSampler(), noise: null, new SamplingOptions<float>());
        Assert.True(Std(peer) > 1.5 * TargetStd, $"the peer's factor gave std {Std(peer)}; expected it far from {TargetStd}");
    }

    public static TheoryData<string> IdiomConfigs() => new()
    {
        EulerConfig,
        """{"_class_name": "EulerDiscreteScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "timestep_spacing": "linspace"}""",
        """{"_class_name": "HeunDiscreteScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "use_karras_sigmas": true}""",
        """{"_class_name": "LMSDiscreteScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "timestep_spacing": "trailing"}""",
        """{"_class_name": "DDIMScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "steps_offset": 1, "set_alpha_to_one": false}""",
        """{"_class_name": "DPMSolverMultistepScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "use_karras_sigmas": true}""",
        """{"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 3.0}""",
        """{"_class_name": "EDMEulerScheduler", "sigma_min": 0.002, "sigma_max": 80.0}""",
    };

    [Theory]
    [MemberData(nameof(IdiomConfigs))]
    public void TheDiffusersIdiomGivesTheMixturesSpread(string json)
    {
        // latents = randn * init_noise_sigma, then the class's sampler with the config's time map, as a diffusers user writes it.
        var config = DiffusersSchedulerConfig.Parse(json);
        var schedule = config.CreateSchedule(30);
        var model = new GaussianMixtureModel<float>(Mixture, config.Prediction, config.ModelTimeMap);
        using var x = Noise(2000, 2, 11);
        float init = (float)config.InitNoiseSigma(schedule);
        foreach (ref float v in x.Span) v *= init;
        SamplingLoop.Run(model, x, schedule, config.CreateSampler(), noise: null, new SamplingOptions<float>());
        Assert.InRange(Std(x), TargetStd - 0.15, TargetStd + 0.15);
        Assert.Equal(config.CreatePlan(30).InitialScale, config.InitNoiseSigma(schedule), 12);
        // Within rounding of sigma_0 or 1 (EDM: sqrt(80^2 + 1) on sigma_0 = 80); never the Euler family's VE attribute 14.6.
        Assert.InRange(init, 0.99 * schedule[0].Sigma, 1.0001 * Math.Max(1.0, schedule[0].Sigma));
    }
}
