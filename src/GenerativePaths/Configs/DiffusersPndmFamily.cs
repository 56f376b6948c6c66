using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Configs;

/// <summary><c>PNDMScheduler</c> (scheduling_pndm.py): DDIM's integer timesteps and end point (<c>set_alpha_to_one</c>);
/// with <c>skip_prk_steps</c> the PLMS warm-up calls the model twice on the first step (the peer lists the second timestep twice).</summary>
internal sealed class DiffusersPndmFamily : DiffusersSchedulerFamily
{
    public static DiffusersPndmFamily Instance { get; } = new();

    public override IReadOnlyDictionary<string, (SamplerKind Sampler, SampleCoordinates Coordinates)> Classes { get; } =
        new Dictionary<string, (SamplerKind, SampleCoordinates)> { ["PNDMScheduler"] = (SamplerKind.Pndm, SampleCoordinates.Path) };

    public override string DefaultSpacing => "leading";

    public override void CheckPrediction(DiffusersSchedulerConfig c, string value)
    {
        if (value == "sample") throw c.Unsupported("prediction_type", value, "PNDMScheduler implements epsilon and v_prediction only");
    }

    public override void ReadFields(DiffusersSchedulerConfig c)
    {
        c.SkipPrkSteps = c.Bool("skip_prk_steps", false);
        if (c.UseKarrasSigmas || c.UseExponentialSigmas)
            throw c.Unsupported(c.UseKarrasSigmas ? "use_karras_sigmas" : "use_exponential_sigmas", "true", $"{c.ClassName} has no such sigma plan");
    }

    public override StepSchedule CreateSchedule(DiffusersSchedulerConfig c, int steps, double? mu)
        => DiffusersDdimFamily.Instance.CreateSchedule(c, steps, mu);

    public override StepSchedule CreateScheduleFromTimesteps(DiffusersSchedulerConfig c, IReadOnlyList<double> timesteps)
        => DiffusersDdimFamily.Instance.CreateScheduleFromTimesteps(c, timesteps);

    public override IReadOnlyList<double> Timesteps(DiffusersSchedulerConfig c, StepSchedule schedule)
    {
        var pts = schedule.Points;
        if (c.SkipPrkSteps)
        {
            var list = base.Timesteps(c, schedule).ToList();
            if (list.Count >= 2) list.Insert(1, list[1]); // the warm-up's second model call
            return list;
        }
        // The pseudo Runge-Kutta steps call the model at t_i, the midpoint twice and t_{i+1}; PLMS then once per step.
        var calls = new List<double>();
        int prk = Math.Min(3, pts.Length - 2);
        for (int i = 0; i < prk; i++)
        {
            double mid = 0.5 * (pts[i].ModelTime + pts[i + 1].ModelTime);
            calls.AddRange([pts[i].ModelTime, mid, mid, pts[i + 1].ModelTime]);
        }
        for (int i = prk; i < pts.Length - 1; i++) calls.Add(pts[i].ModelTime);
        return calls;
    }

    public override DiffusersSchedulerOptions CreateOptions(DiffusersSchedulerConfig c) => new PndmSchedulerOptions(c.SkipPrkSteps, c.SetAlphaToOne);

    public override Sampler? CreateSampler(DiffusersSchedulerConfig c, DiffusersStepArguments arguments, out string? why)
    {
        why = null;
        return new PlmsSampler(rungeKuttaWarmUp: !c.SkipPrkSteps);
    }
}
