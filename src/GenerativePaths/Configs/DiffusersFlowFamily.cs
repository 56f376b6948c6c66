using System.Globalization;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Configs;

/// <summary>
/// Flow matching on the rectified-flow path <c>x = (1 - s) x0 + s eps</c>: <c>FlowMatchEulerDiscreteScheduler</c>
/// (scheduling_flow_match_euler_discrete.py), static or resolution-dependent shift, optional terminal stretch.
/// </summary>
internal sealed class DiffusersFlowFamily : DiffusersSchedulerFamily
{
    public static DiffusersFlowFamily Instance { get; } = new();

    public override IReadOnlyDictionary<string, (SamplerKind Sampler, SampleCoordinates Coordinates)> Classes { get; } =
        new Dictionary<string, (SamplerKind, SampleCoordinates)>
        {
            ["FlowMatchEulerDiscreteScheduler"] = (SamplerKind.FlowMatchEuler, SampleCoordinates.Path),
            ["FlowMatchHeunDiscreteScheduler"] = (SamplerKind.FlowMatchHeun, SampleCoordinates.Path),
        };

    public override bool IsFlow => true;

    public override void ReadFields(DiffusersSchedulerConfig c)
    {
        c.Prediction = Prediction.FlowVelocity;
        c.Shift = c.Double("shift", 1.0);
        if (!(c.Shift >= DiffusersSchedulerConfig.MinShift && c.Shift <= DiffusersSchedulerConfig.MaxShiftValue)) throw c.Invalid("shift", c.Shift, $"must lie in [{DiffusersSchedulerConfig.MinShift:R}, {DiffusersSchedulerConfig.MaxShiftValue:R}]");
        c.UseDynamicShifting = c.Bool("use_dynamic_shifting", false);
        c.BaseShift = c.Double("base_shift", 0.5);
        c.MaxShift = c.Double("max_shift", 1.15);
        if (!double.IsFinite(c.BaseShift)) throw c.Invalid("base_shift", c.BaseShift, "must be finite");
        if (!double.IsFinite(c.MaxShift)) throw c.Invalid("max_shift", c.MaxShift, "must be finite");
        c.BaseImageSeqLen = c.Int("base_image_seq_len", 256);
        c.MaxImageSeqLen = c.Int("max_image_seq_len", 4096);
        string tst = c.String("time_shift_type", "exponential");
        c.TimeShiftType = tst switch
        {
            "exponential" => TimeShiftType.Exponential,
            "linear" => TimeShiftType.Linear,
            _ => throw c.Unsupported("time_shift_type", tst, "use exponential or linear"),
        };
        c.ShiftTerminal = c.DoubleOrNull("shift_terminal");
        if (c.ShiftTerminal is { } st && !(st > 0 && st < 1)) throw c.Invalid("shift_terminal", st, "must lie in (0, 1)");
        c.StochasticSampling = c.Bool("stochastic_sampling", false);
        if (c.Bool("invert_sigmas", false)) throw c.Unsupported("invert_sigmas", "true", "inverted flow sigmas are not supported");
        foreach (var f in new[] { "use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas" })
            if (c.Bool(f, false)) throw c.Unsupported(f, "true", "this sigma plan is not supported for flow matching");
        c.TimestepSpacing = TimestepSpacing.Linspace;
        c.FinalSigmasType = FinalSigmasType.Zero;
        c.SetAlphaToOne = true;
        c.Path = new RectifiedFlowPath(null, c.NumTrainTimesteps);
        if (c.Sampler == SamplerKind.FlowMatchHeun)
        {
            // FlowMatchHeunDiscreteScheduler has only a static shift: the other fields are ignored, as the class ignores them.
            c.UseDynamicShifting = false;
            c.ShiftTerminal = null;
            c.StochasticSampling = false;
        }
        }

    // FlowMatchEulerDiscreteScheduler.__init__ + set_timesteps.
    public override StepSchedule CreateSchedule(DiffusersSchedulerConfig c, int steps, double? mu)
    {
        int T = c.NumTrainTimesteps;
        double sigmaMax, sigmaMin;
        if (c.UseDynamicShifting)
        {
            sigmaMax = 1.0;
            sigmaMin = (float)(1f / T);
        }
        else
        {
            // The constructor shifts its training sigmas k/T in float32; set_timesteps then shifts the plan again.
            // Capped at 1: for a small shift the float32 rounding can exceed it (a flow sigma lies in [0, 1]).
            sigmaMax = Math.Min(1.0, StaticShiftFloat32(c, 1f));
            sigmaMin = Math.Min(sigmaMax, StaticShiftFloat32(c, 1f / T));
        }
        FlowTimeShift shift;
        if (c.UseDynamicShifting)
        {
            if (mu is not { } m || !double.IsFinite(m))
                throw new InvalidOperationException($"{c.ClassName} uses dynamic shifting: pass mu (e.g. DynamicShiftMu(imageSeqLen)) to CreateSchedule.");
            if (c.TimeShiftType == TimeShiftType.Exponential ? !(Math.Exp(m) > 0 && double.IsFinite(Math.Exp(m))) : !(m > 0))
                throw new ArgumentOutOfRangeException(nameof(mu), m, $"{c.ClassName}: mu = {m.ToString(CultureInfo.InvariantCulture)} gives no valid time shift (exponential: exp(mu) must be positive and finite; linear: mu must be positive); check base_shift and max_shift.");
            shift = c.TimeShiftType == TimeShiftType.Exponential ? FlowTimeShift.Exponential(m) : FlowTimeShift.LinearMu(m);
        }
        else shift = FlowTimeShift.Static(c.Shift);

        var u = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            double t = DiscreteTimesteps.Linspace(sigmaMax * T, sigmaMin * T, steps, i) / T;
            u[i] = Math.Clamp(c.UseDynamicShifting ? shift.Apply(t) : c.Shift * t / (1 + (c.Shift - 1) * t), 0.0, 1.0);
        }
        // A plan whose last sigma is 1 (one step from pure noise) has nothing to stretch: it is left as it is.
        if (c.ShiftTerminal is { } st && u[^1] < 1)
        {
            double scale = (1 - u[^1]) / (1 - st);
            for (int i = 0; i < steps; i++) u[i] = 1 - (1 - u[i]) / scale;
        }
        var points = new List<SchedulePoint>(steps + 1);
        foreach (double ui in u)
        {
            float uf = (float)ui;
            points.Add(new SchedulePoint(1 - (double)uf, uf, uf * (float)T));
        }
        points.Add(new SchedulePoint(1.0, 0.0, 0.0));
        return new StepSchedule(c.Path, points);
    }

    private static double StaticShiftFloat32(DiffusersSchedulerConfig c, float s)
    {
        float sh = (float)c.Shift;
        return sh * s / (1f + (float)(c.Shift - 1) * s);
    }


    public override StepSchedule CreateScheduleFromTimesteps(DiffusersSchedulerConfig c, IReadOnlyList<double> timesteps)
    {
        if (c.UseDynamicShifting) throw new InvalidOperationException($"{c.ClassName} uses dynamic shifting: custom timesteps need mu; build the plan with StepSchedules.FromFlowSigmas.");
        var pts = timesteps.Select(t =>
        {
            double u = t / c.NumTrainTimesteps;
            float uf = (float)(c.Shift * u / (1 + (c.Shift - 1) * u));
            return new SchedulePoint(1 - (double)uf, uf, (float)t);
        }).ToList();
        pts.Add(new SchedulePoint(1.0, 0.0, 0.0));
        return new StepSchedule(c.Path, pts);
    }

    public override StepSchedule CreateScheduleFromSigmas(DiffusersSchedulerConfig c, IReadOnlyList<double> sigmas, double? mu)
    {
        StepSchedules.ValidateDecreasing(sigmas, nameof(sigmas), "sigma", 0, 1);
        FlowTimeShift shift = c.UseDynamicShifting
            ? (mu is { } m ? (c.TimeShiftType == TimeShiftType.Exponential ? FlowTimeShift.Exponential(m) : FlowTimeShift.LinearMu(m))
                           : throw new InvalidOperationException($"{c.ClassName} uses dynamic shifting: pass mu."))
            : FlowTimeShift.Static(c.Shift);
        var body = sigmas[^1] == 0 ? sigmas.Take(sigmas.Count - 1) : sigmas;
        var pts = body.Select(u =>
        {
            float uf = (float)shift.Apply((float)u);
            return new SchedulePoint(1 - (double)uf, uf, uf * (float)c.NumTrainTimesteps);
        }).ToList();
        pts.Add(new SchedulePoint(1.0, 0.0, 0.0));
        return new StepSchedule(c.Path, pts);
    }

    public override IReadOnlyList<double> Sigmas(DiffusersSchedulerConfig c, StepSchedule schedule)
    {
        // Heun lists every point after the first and before the end twice (its two model calls).
        var list = new List<double>();
        var pts = schedule.Points;
        for (int i = 0; i < pts.Length; i++)
        {
            list.Add(pts[i].Sigma);
            if (c.Sampler == SamplerKind.FlowMatchHeun && i > 0 && i < pts.Length - 1) list.Add(pts[i].Sigma);
        }
        return list;
    }

    public override IReadOnlyList<double> Timesteps(DiffusersSchedulerConfig c, StepSchedule schedule)
    {
        var list = new List<double>();
        var pts = schedule.Points;
        for (int i = 0; i < pts.Length - 1; i++)
        {
            if (c.Sampler == SamplerKind.FlowMatchHeun && i > 0) list.Add(pts[i].ModelTime);
            list.Add(pts[i].ModelTime);
        }
        return list;
    }

    public override DiffusersSchedulerOptions CreateOptions(DiffusersSchedulerConfig c)
        => new FlowMatchOptions(c.Shift, c.UseDynamicShifting, c.BaseShift, c.MaxShift, c.BaseImageSeqLen, c.MaxImageSeqLen, c.TimeShiftType, c.ShiftTerminal, c.StochasticSampling);

    public override Sampler? CreateSampler(DiffusersSchedulerConfig c, DiffusersStepArguments arguments, out string? why)
    {
        why = null;
        if (c.Sampler == SamplerKind.FlowMatchHeun) return new FlowMatchHeunSampler();
        return new FlowMatchEulerSampler(c.StochasticSampling);
    }
}
