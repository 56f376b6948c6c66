using System.Globalization;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Configs;

/// <summary>
/// The sigma-based discrete classes that work in the variance-exploding coordinates <c>x / alpha</c>:
/// <c>EulerDiscreteScheduler</c>, <c>EulerAncestralDiscreteScheduler</c>, <c>HeunDiscreteScheduler</c>, <c>LMSDiscreteScheduler</c>,
/// <c>KDPM2DiscreteScheduler</c> (scheduling_euler_discrete.py and siblings): fractional timesteps, sigmas interpolated on the
/// float32 table, optional Karras or exponential plans.
/// </summary>
internal sealed class DiffusersEulerFamily : DiffusersSchedulerFamily
{
    public static DiffusersEulerFamily Instance { get; } = new();

    public override IReadOnlyDictionary<string, (SamplerKind Sampler, SampleCoordinates Coordinates)> Classes { get; } =
        new Dictionary<string, (SamplerKind, SampleCoordinates)>
        {
            ["EulerDiscreteScheduler"] = (SamplerKind.Euler, SampleCoordinates.VarianceExploding),
            ["EulerAncestralDiscreteScheduler"] = (SamplerKind.EulerAncestral, SampleCoordinates.VarianceExploding),
            ["HeunDiscreteScheduler"] = (SamplerKind.Heun, SampleCoordinates.VarianceExploding),
            ["LMSDiscreteScheduler"] = (SamplerKind.Lms, SampleCoordinates.VarianceExploding),
            ["KDPM2DiscreteScheduler"] = (SamplerKind.KDpm2, SampleCoordinates.VarianceExploding),
            ["KDPM2AncestralDiscreteScheduler"] = (SamplerKind.KDpm2Ancestral, SampleCoordinates.VarianceExploding),
        };

    public override (double Start, double End) DefaultBetas(SamplerKind kind)
        => kind is SamplerKind.Heun or SamplerKind.KDpm2 or SamplerKind.KDpm2Ancestral ? (0.00085, 0.012) : (0.0001, 0.02);

    public override bool AcceptsZeroSnr(SamplerKind kind) => kind is SamplerKind.Euler or SamplerKind.EulerAncestral;

    public override void CheckPrediction(DiffusersSchedulerConfig c, string value)
    {
        if (value == "sample" && c.Sampler is SamplerKind.EulerAncestral or SamplerKind.KDpm2Ancestral)
            throw c.Unsupported("prediction_type", value, $"{c.ClassName} does not implement sample prediction");
    }

    public override bool ReplacesZeroTerminal(SamplerKind kind) => true;

    // Of the family only HeunDiscreteScheduler clips x0 (clip_sample); none thresholds.
    public override bool ReadsClipSample(SamplerKind kind) => kind == SamplerKind.Heun;

    public override void ReadFields(DiffusersSchedulerConfig c)
    {
        if ((c.UseKarrasSigmas || c.UseExponentialSigmas) && c.Sampler == SamplerKind.EulerAncestral)
            throw c.Unsupported(c.UseKarrasSigmas ? "use_karras_sigmas" : "use_exponential_sigmas", "true", $"{c.ClassName} has no such sigma plan");
    }

    public override StepSchedule CreateSchedule(DiffusersSchedulerConfig c, int steps, double? mu)
    {
        var ts = DiscreteTimesteps.Fractional(c.NumTrainTimesteps, steps, c.TimestepSpacing, c.StepsOffset);
        for (int i = 0; i < ts.Length; i++) ts[i] = (float)ts[i];
        var sig = ts.Select(c.Tables.Interp).ToArray();
        if (c.UseKarrasSigmas || c.UseExponentialSigmas)
        {
            double lo = c.SigmaMin ?? sig[^1], hi = c.SigmaMax ?? sig[0];
            if (lo > hi)
                throw c.SigmaMin is not null ? c.Invalid("sigma_min", lo, $"is larger than the largest sigma of the plan ({hi.ToString(CultureInfo.InvariantCulture)})")
                                             : c.Invalid("sigma_max", hi, $"is smaller than the smallest sigma of the plan ({lo.ToString(CultureInfo.InvariantCulture)})");
            sig = c.UseKarrasSigmas ? DiffusersSchedulerConfig.KarrasNoPin(steps, lo, hi, c.KarrasRho) : DiffusersSchedulerConfig.ExponentialNoPin(steps, lo, hi);
            ts = sig.Select(s => (double)(float)c.Tables.SigmaToT(s)).ToArray();
        }
        double last = c.Sampler == SamplerKind.Euler && c.FinalSigmasType == FinalSigmasType.SigmaMin ? Math.Sqrt((1 - c.AlphasCumprod[0]) / c.AlphasCumprod[0]) : 0.0;
        return c.VeSchedule(sig, ts, last);
    }

    public override StepSchedule CreateScheduleFromTimesteps(DiffusersSchedulerConfig c, IReadOnlyList<double> timesteps)
        => FromTimesteps(c, timesteps, fractional: true);

    /// <summary>A plan from custom timesteps on the sigma table (fractional ones kept in float32, or floored).</summary>
    internal static StepSchedule FromTimesteps(DiffusersSchedulerConfig c, IReadOnlyList<double> timesteps, bool fractional)
    {
        var ts = timesteps.ToArray();
        for (int i = 0; i < ts.Length; i++) ts[i] = fractional ? (float)ts[i] : Math.Floor(ts[i]);
        return c.VeSchedule(ts.Select(c.Tables.Interp).ToArray(), ts, 0.0);
    }

    public override StepSchedule CreateScheduleFromSigmas(DiffusersSchedulerConfig c, IReadOnlyList<double> sigmas, double? mu)
        => FromSigmas(c, sigmas, round: false);

    /// <summary>A plan from custom VE sigmas, each model time the table's timestep of the sigma (rounded for the multistep classes).</summary>
    internal static StepSchedule FromSigmas(DiffusersSchedulerConfig c, IReadOnlyList<double> sigmas, bool round)
    {
        StepSchedules.ValidateDecreasing(sigmas, nameof(sigmas), "sigma", 0);
        var sig = (sigmas[^1] == 0 ? sigmas.Take(sigmas.Count - 1) : sigmas).Select(v => (double)(float)v).ToArray();
        var ts = sig.Select(v => round ? Math.Round(c.Tables.SigmaToT(v)) : (double)(float)c.Tables.SigmaToT(v)).ToArray();
        return c.VeSchedule(sig, ts, 0.0);
    }

    public override double InitNoiseSigma(DiffusersSchedulerConfig c, StepSchedule schedule)
    {
        double max = schedule.Points.Max(p => p.Alpha == 0 ? double.PositiveInfinity : (double)(float)p.SigmaOverAlpha);
        return c.TimestepSpacing is TimestepSpacing.Linspace or TimestepSpacing.Trailing ? max : Math.Sqrt(max * max + 1);
    }

    public override IReadOnlyList<double> Timesteps(DiffusersSchedulerConfig c, StepSchedule schedule)
    {
        var pts = schedule.Points;
        var list = new List<double>(2 * pts.Length);
        for (int i = 0; i < pts.Length - 1; i++)
        {
            if (i > 0 && c.Sampler == SamplerKind.Heun) list.Add(pts[i].ModelTime);
            if (i > 0 && c.Sampler == SamplerKind.KDpm2)
            {
                double mid = Math.Exp(0.5 * (Math.Log((float)pts[i].SigmaOverAlpha) + Math.Log((float)pts[i - 1].SigmaOverAlpha)));
                list.Add((float)c.Tables.SigmaToT((float)mid));
            }
            if (i > 0 && c.Sampler == SamplerKind.KDpm2Ancestral)
            {
                // The geometric midpoint of sigma and sigma_down = sqrt(sigma'^2 - sigma_up^2), in float32 as the peer computes it.
                float sg = (float)pts[i - 1].SigmaOverAlpha, sn = (float)pts[i].SigmaOverAlpha;
                float up = MathF.Sqrt(sn * sn * (sg * sg - sn * sn) / (sg * sg)), down = MathF.Sqrt(sn * sn - up * up);
                float mid = MathF.Exp(0.5f * (MathF.Log(sg) + MathF.Log(down)));
                list.Add((float)c.Tables.SigmaToT(mid));
            }
            list.Add(pts[i].ModelTime);
        }
        return list;
    }

    public override IReadOnlyList<double> Sigmas(DiffusersSchedulerConfig c, StepSchedule schedule)
    {
        var pts = schedule.Points;
        var list = new List<double>(2 * pts.Length);
        bool kdpm2 = c.Sampler is SamplerKind.KDpm2 or SamplerKind.KDpm2Ancestral;
        bool twice = c.Sampler == SamplerKind.Heun || kdpm2;
        for (int i = 0; i < pts.Length; i++)
        {
            double s = pts[i].Alpha == 0 ? double.PositiveInfinity : pts[i].SigmaOverAlpha;
            bool repeat = twice && i > 0 && (i < pts.Length - 1 || kdpm2);
            list.Add(s);
            if (repeat) list.Add(s);
            if (kdpm2 && i == pts.Length - 1) list.Add(s);
        }
        return list;
    }

    public override DiffusersSchedulerOptions CreateOptions(DiffusersSchedulerConfig c)
        => new EulerFamilyOptions(c.UseKarrasSigmas, c.UseExponentialSigmas, c.SigmaMin, c.SigmaMax, c.FinalSigmasType);

    public override Sampler? CreateSampler(DiffusersSchedulerConfig c, DiffusersStepArguments arguments, out string? why)
    {
        why = null;
        return c.Sampler switch
        {
            SamplerKind.Euler => new EulerSampler(arguments.SChurn ?? 0, arguments.STMin ?? 0, arguments.STMax ?? double.PositiveInfinity, arguments.SNoise ?? 1),
            // diffusers' Euler ancestral draws a noise tensor on every step, the last included.
            SamplerKind.EulerAncestral => new EulerAncestralSampler(),
            SamplerKind.Heun => new HeunSampler(),
            SamplerKind.Lms => new LmsSampler(arguments.Order ?? 4),
            // KDPM2AncestralDiscreteScheduler is k-diffusion's DPM-2 ancestral with eta = 1 (noise on every step but the last).
            SamplerKind.KDpm2Ancestral => new DpmSolver2AncestralSampler(eta: 1.0),
            _ => new DpmSolver2Sampler(),
        };
    }
}
