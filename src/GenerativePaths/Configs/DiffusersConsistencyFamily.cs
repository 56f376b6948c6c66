using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Configs;

/// <summary>
/// The consistency-distilled classes <c>LCMScheduler</c> and <c>TCDScheduler</c> (scheduling_lcm.py, scheduling_tcd.py): the
/// distillation timesteps <c>k j - 1</c> (<c>k = T div original_inference_steps</c>, <c>j = 1 .. original_inference_steps</c>), of which
/// <c>N</c> are taken at the indices <c>floor(linspace(0, original_inference_steps, N, endpoint=False))</c> from the noisiest. LCM's last
/// step returns the data estimate (the clean point); TCD's last step goes to timestep 0 (<c>abar[0]</c>).
/// </summary>
internal sealed class DiffusersConsistencyFamily : DiffusersSchedulerFamily
{
    public static DiffusersConsistencyFamily Instance { get; } = new();

    public override IReadOnlyDictionary<string, (SamplerKind Sampler, SampleCoordinates Coordinates)> Classes { get; } =
        new Dictionary<string, (SamplerKind, SampleCoordinates)>
        {
            ["LCMScheduler"] = (SamplerKind.Lcm, SampleCoordinates.Path),
            ["TCDScheduler"] = (SamplerKind.Tcd, SampleCoordinates.Path),
        };

    public override (double Start, double End) DefaultBetas(SamplerKind kind) => (0.00085, 0.012);

    public override string DefaultBetaSchedule => "scaled_linear";

    public override string DefaultSpacing => "leading";

    public override bool ReadsClipSample(SamplerKind kind) => true;

    public override bool ReadsThresholding(SamplerKind kind) => true;

    public override void ReadFields(DiffusersSchedulerConfig c)
    {
        c.OriginalInferenceSteps = c.Int("original_inference_steps", 50);
        if (c.OriginalInferenceSteps < 1 || c.OriginalInferenceSteps > c.NumTrainTimesteps)
            throw c.Invalid("original_inference_steps", c.OriginalInferenceSteps, $"must lie in [1, num_train_timesteps = {c.NumTrainTimesteps}]");
        c.TimestepScaling = c.Double("timestep_scaling", 10.0);
        if (!(c.TimestepScaling >= 0) || double.IsInfinity(c.TimestepScaling)) throw c.Invalid("timestep_scaling", c.TimestepScaling, "must be finite and non-negative");
        if (c.UseKarrasSigmas || c.UseExponentialSigmas)
            throw c.Unsupported(c.UseKarrasSigmas ? "use_karras_sigmas" : "use_exponential_sigmas", "true", $"{c.ClassName} has no such sigma plan");
    }

    public override StepSchedule CreateSchedule(DiffusersSchedulerConfig c, int steps, double? mu)
    {
        int original = c.OriginalInferenceSteps;
        if (steps > original)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{c.ClassName}: {steps} inference steps exceed original_inference_steps = {original}.");
        int k = c.NumTrainTimesteps / original;
        var ts = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            int j = (int)Math.Floor((double)original * i / steps); // floor(linspace(0, original, steps, endpoint=False))
            ts[i] = (original - j) * k - 1;                       // the distillation timesteps, noisiest first
        }
        return FromTimesteps(c, ts);
    }

    public override StepSchedule CreateScheduleFromTimesteps(DiffusersSchedulerConfig c, IReadOnlyList<double> timesteps)
        => FromTimesteps(c, timesteps.Select(Math.Floor).ToArray());

    private static StepSchedule FromTimesteps(DiffusersSchedulerConfig c, double[] ts)
    {
        var points = ts.Select(t => StepSchedules.PointAtTimestep(c.DiscretePath, t)).ToList();
        if (c.Sampler == SamplerKind.Tcd)
        {
            // TCD steps last to timestep 0 (alphas_cumprod[0]), not to the clean point.
            double a0 = c.AlphasCumprod[0];
            if (ts[^1] > 0) points.Add(new SchedulePoint(Math.Sqrt(a0), Math.Sqrt(1 - a0), 0));
            else points.Add(new SchedulePoint(1, 0, 0));
        }
        else points.Add(new SchedulePoint(1, 0, 0));
        return new StepSchedule(c.Path, points);
    }

    public override DiffusersSchedulerOptions CreateOptions(DiffusersSchedulerConfig c) => new ConsistencyOptions(c.OriginalInferenceSteps, c.TimestepScaling);

    public override Sampler? CreateSampler(DiffusersSchedulerConfig c, DiffusersStepArguments arguments, out string? why)
    {
        why = null;
        return c.Sampler == SamplerKind.Tcd ? new TcdSampler(arguments.Eta ?? 0.3) : new LcmSampler(c.TimestepScaling);
    }
}
