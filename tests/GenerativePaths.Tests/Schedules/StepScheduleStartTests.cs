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

    [Fact]
    public void StartGivesTheDataScaleWhereTheDiffusersIdiomDoesNot()
    {
        // An Euler config: diffusers starts from randn * init_noise_sigma (about 14.6) in its own coordinates; the library's
        // state is alpha x0 + sigma eps, whose start is sigma_0 z (sigma_0 just under 1 here).
        var config = DiffusersSchedulerConfig.Parse(EulerConfig);
        var schedule = config.CreateSchedule(30);
        var mixture = GaussianMixture.Isotropic([0.5, 0.5], [[-2.0, 0.0], [2.0, 1.0]], [0.3, 0.5]);
        var model = new GaussianMixtureModel<float>(mixture, config.Prediction, ModelTimeMaps.DiscreteVariancePreserving(config.AlphasCumprod));
        double target = Math.Sqrt(0.5 * (0.09 + 4) + 0.5 * (0.25 + 4)); // first coordinate: mixture standard deviation 2.04

        double Std(BatchTensor<float> x)
        {
            double m = 0, s = 0;
            for (int b = 0; b < x.BatchSize; b++) m += x.Row(b)[0];
            m /= x.BatchSize;
            for (int b = 0; b < x.BatchSize; b++) s += (x.Row(b)[0] - m) * (x.Row(b)[0] - m);
            return Math.Sqrt(s / (x.BatchSize - 1));
        }

        using var x = Noise(2000, 2, 9);
        schedule.Start(x);
        SamplingLoop.Run(model, x, schedule, new EulerSampler(), noise: null, new SamplingOptions<float>());
        Assert.InRange(Std(x), target - 0.15, target + 0.15);

        using var idiom = Noise(2000, 2, 9);
        float init = (float)config.InitNoiseSigma(schedule);
        Assert.True(init > 10, $"init_noise_sigma {init}");
        foreach (ref float v in idiom.Span) v *= init;
        SamplingLoop.Run(model, idiom, schedule, new EulerSampler(), noise: null, new SamplingOptions<float>());
        Assert.True(Std(idiom) > 1.5 * target, $"the diffusers idiom gave std {Std(idiom)}; expected it far from {target}");
    }
}
