using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Configs;

/// <summary><c>DDPMScheduler</c> (scheduling_ddpm.py): integer timesteps, leading spacing by default, ancestral steps with the
/// configured posterior variance.</summary>
internal sealed class DiffusersDdpmFamily : DiffusersSchedulerFamily
{
    public static DiffusersDdpmFamily Instance { get; } = new();

    public override IReadOnlyDictionary<string, (SamplerKind Sampler, SampleCoordinates Coordinates)> Classes { get; } =
        new Dictionary<string, (SamplerKind, SampleCoordinates)> { ["DDPMScheduler"] = (SamplerKind.Ddpm, SampleCoordinates.Path) };

    public override string DefaultSpacing => "leading";

    public override bool DefaultClipSample => true;

    public override bool ReadsClipSample(SamplerKind kind) => true;

    public override bool ReadsThresholding(SamplerKind kind) => true;

    public override void ReadFields(DiffusersSchedulerConfig c)
    {
        if (c.UseKarrasSigmas || c.UseExponentialSigmas)
            throw c.Unsupported(c.UseKarrasSigmas ? "use_karras_sigmas" : "use_exponential_sigmas", "true", $"{c.ClassName} has no such sigma plan");
    }

    public override StepSchedule CreateSchedule(DiffusersSchedulerConfig c, int steps, double? mu)
        => StepSchedules.FromTimesteps(c.DiscretePath, DiscreteTimesteps.Integer(c.NumTrainTimesteps, steps, c.TimestepSpacing, c.StepsOffset));

    public override StepSchedule CreateScheduleFromTimesteps(DiffusersSchedulerConfig c, IReadOnlyList<double> timesteps)
        => StepSchedules.FromTimesteps(c.DiscretePath, timesteps.Select(t => Math.Floor(t)).ToArray());

    public override DiffusersSchedulerOptions CreateOptions(DiffusersSchedulerConfig c) => new DdpmSchedulerOptions(c.VarianceType, X0(c));

    public override Sampler? CreateSampler(DiffusersSchedulerConfig c, DiffusersStepArguments arguments, out string? why)
    {
        why = null;
        switch (c.VarianceType)
        {
            case DdpmVarianceType.FixedSmall: return new DdpmSampler(DdpmVariance.FixedSmall);
            case DdpmVarianceType.FixedLarge: return new DdpmSampler(DdpmVariance.FixedLarge);
            default:
                why = $"DDPM with variance_type {c.VarianceType}";
                return null;
        }
    }
}
