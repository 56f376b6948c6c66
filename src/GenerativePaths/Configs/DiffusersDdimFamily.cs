using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Configs;

/// <summary><c>DDIMScheduler</c> (scheduling_ddim.py): integer timesteps, leading spacing by default, the last step to
/// <c>abar[t_last - T div N]</c> or the final alpha (<c>set_alpha_to_one</c>).</summary>
internal sealed class DiffusersDdimFamily : DiffusersSchedulerFamily
{
    public static DiffusersDdimFamily Instance { get; } = new();

    public override IReadOnlyDictionary<string, (SamplerKind Sampler, SampleCoordinates Coordinates)> Classes { get; } =
        new Dictionary<string, (SamplerKind, SampleCoordinates)> { ["DDIMScheduler"] = (SamplerKind.Ddim, SampleCoordinates.Path) };

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
    {
        var ts = DiscreteTimesteps.Integer(c.NumTrainTimesteps, steps, c.TimestepSpacing, c.StepsOffset);
        // diffusers' last DDIM step goes to t_last - T div N, or to final_alpha_cumprod when that is negative.
        int prev = (int)ts[^1] - c.NumTrainTimesteps / steps;
        double final = prev >= 0 ? c.AlphasCumprod[prev] : c.SetAlphaToOne ? 1.0 : c.AlphasCumprod[0];
        var points = ts.Select(t => StepSchedules.PointAtTimestep(c.DiscretePath, t)).ToList();
        points.Add(new SchedulePoint(Math.Sqrt(final), Math.Sqrt(1 - final), final == 1.0 ? 0.0 : Math.Max(prev, 0)));
        return new StepSchedule(c.Path, points);
    }

    public override StepSchedule CreateScheduleFromTimesteps(DiffusersSchedulerConfig c, IReadOnlyList<double> timesteps)
    {
        double final = c.SetAlphaToOne ? 1.0 : c.AlphasCumprod[0];
        return StepSchedules.FromTimesteps(c.DiscretePath, timesteps.Select(t => Math.Floor(t)).ToArray(), final);
    }

    public override DiffusersSchedulerOptions CreateOptions(DiffusersSchedulerConfig c) => new DdimSchedulerOptions(c.SetAlphaToOne, X0(c));

    public override Sampler? CreateSampler(DiffusersSchedulerConfig c, DiffusersStepArguments arguments, out string? why)
    {
        why = null;
        // diffusers' DDIM draws a noise tensor on every step when eta > 0 (even where it is multiplied by zero).
        return new DdimSampler(arguments.Eta ?? 0.0);
    }
}
