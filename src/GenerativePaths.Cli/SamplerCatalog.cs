using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Cli;

/// <summary>One entry of the sampler table: a name, how to build it, its model evaluations per step and whether it draws noise.</summary>
internal sealed record SamplerEntry(string Name, string Description, Func<Sampler> Create, int EvaluationsPerStep, bool Stochastic);

/// <summary>The sampler and schedule names the commands accept.</summary>
internal static class SamplerCatalog
{
    public static IReadOnlyList<SamplerEntry> Samplers { get; } =
    [
        new("euler", "Euler on the probability-flow ODE (Karras et al. 2022)", () => new EulerSampler(), 1, false),
        new("heun", "Heun's second-order method (Karras et al. 2022, Algorithm 2)", () => new HeunSampler(), 2, false),
        new("ddim", "DDIM, eta 0 (Song et al. 2021)", () => new DdimSampler(), 1, false),
        new("ddpm", "DDPM ancestral sampling, fixed-small variance (Ho et al. 2020)", () => new DdpmSampler(), 1, true),
        new("euler_a", "Euler ancestral (k-diffusion)", () => new EulerAncestralSampler(), 1, true),
        new("dpmpp_2m", "DPM-Solver++(2M) (Lu et al. 2022)", () => new DpmSolverPlusPlus2MSampler(), 1, false),
        new("lms", "linear multistep, order 4 (k-diffusion)", () => new LmsSampler(), 1, false),
        new("unipc", "UniPC, order 2, bh2 (Zhao et al. 2023)", () => new UniPcSampler(), 1, false),
        new("dpm2", "DPM-2 (Karras et al. 2022, k-diffusion)", () => new Dpm2Sampler(), 2, false),
        new("flow_euler", "flow-matching Euler (diffusers FlowMatchEulerDiscrete)", () => new FlowMatchEulerSampler(), 1, false),
        new("dpm2_a", "DPM-2 ancestral (k-diffusion sample_dpm_2_ancestral)", () => new Dpm2AncestralSampler(), 2, true),
        new("dpmpp_2s_a", "DPM-Solver++(2S) ancestral (Lu et al. 2022, k-diffusion)", () => new DpmSolverPlusPlus2SAncestralSampler(), 2, true),
        new("dpmpp_sde", "DPM-Solver++ SDE, two evaluations per step (k-diffusion sample_dpmpp_sde)", () => new DpmSolverPlusPlusSdeSampler(), 2, true),
        new("dpmpp_2m_sde", "DPM-Solver++(2M) SDE, midpoint (Lu et al. 2022, k-diffusion)", () => new DpmSolverPlusPlus2MSdeSampler(), 1, true),
        new("dpmpp_2m_sde_heun", "DPM-Solver++(2M) SDE, heun (k-diffusion solver_type='heun')", () => new DpmSolverPlusPlus2MSdeSampler(secondOrder: DpmSolverSecondOrder.Heun), 1, true),
        new("dpmpp_3m_sde", "DPM-Solver++(3M) SDE (k-diffusion sample_dpmpp_3m_sde)", () => new DpmSolverPlusPlus3MSdeSampler(), 1, true),
        new("dpm_fast", "DPM-Solver-fast: single-step DPM-Solver-3 (Lu et al. 2022)", () => new DpmSolverFastSampler(), 3, false),
        new("dpm_adaptive", "DPM-Solver-23 with adaptive steps within each step (Lu et al. 2022, k-diffusion)", () => new DpmSolverAdaptiveSampler(), 3, false),
    ];

    /// <summary>The schedule names; <c>default</c> is the model card's own plan.</summary>
    public static IReadOnlyList<string> Schedules { get; } = ["default", "karras", "exponential", "uniform"];

    public static string SamplerNames => string.Join(", ", Samplers.Select(s => s.Name));

    /// <exception cref="CommandLineException">An unknown name; the message lists the known ones.</exception>
    public static SamplerEntry Find(string name)
        => Samplers.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
           ?? throw new CommandLineException($"unknown sampler '{name}'; the known samplers are {SamplerNames}.");

    /// <exception cref="CommandLineException">An unknown schedule name; the message lists the known ones.</exception>
    public static string CheckSchedule(string name)
        => Schedules.FirstOrDefault(s => string.Equals(s, name, StringComparison.OrdinalIgnoreCase))
           ?? throw new CommandLineException($"unknown schedule '{name}'; the known schedules are {string.Join(", ", Schedules)}.");

    /// <summary>
    /// Builds the named schedule of <paramref name="steps"/> steps from the model's default plan for that many steps:
    /// <c>karras</c> and <c>exponential</c> keep its noise range (the first and last nonzero <c>sigma/alpha</c>) and place the
    /// points by Karras' rho = 7 rule or log-uniformly, on the same path with the path's model time; <c>uniform</c> takes
    /// evenly spaced path times from the first point's time to the path's smallest time (for a flow path: evenly spaced flow sigmas).
    /// </summary>
    public static StepSchedule Build(string name, int steps, Func<int, StepSchedule> defaultSchedule)
    {
        var baseline = defaultSchedule(steps);
        switch (CheckSchedule(name))
        {
            case "default":
                return baseline;
            case "karras":
            case "exponential":
            {
                var (sMin, sMax) = Range(baseline);
                var sigmas = name.Equals("karras", StringComparison.OrdinalIgnoreCase)
                    ? SigmaPlans.Karras(steps, sMin, sMax) : SigmaPlans.Exponential(steps, sMin, sMax);
                return StepSchedules.FromSigmaOverAlpha(baseline.Path, sigmas);
            }
            default:
            {
                var path = baseline.Path;
                double tMax = TimeOf(path, baseline[0]);
                double tMin = path.TimeMin;
                var points = new List<SchedulePoint>(steps + 1);
                for (int i = 0; i < steps; i++)
                {
                    double t = tMax + (tMin - tMax) * i / steps;
                    points.Add(new SchedulePoint(path.Alpha(t), path.Sigma(t), path.ModelTime(t)));
                }
                points.Add(new SchedulePoint(1.0, 0.0, 0.0));
                return new StepSchedule(path, points);
            }
        }
    }

    private static (double Min, double Max) Range(StepSchedule s)
    {
        double max = s[0].Alpha > 0 ? s[0].SigmaOverAlpha : double.PositiveInfinity;
        double min = double.PositiveInfinity;
        foreach (var p in s.Points)
            if (p.Sigma > 0 && p.Alpha > 0) min = Math.Min(min, p.SigmaOverAlpha);
        if (!double.IsFinite(max))
            foreach (var p in s.Points)
                if (p.Sigma > 0 && p.Alpha > 0) { max = p.SigmaOverAlpha; break; }
        if (!(min > 0 && double.IsFinite(max) && max > min))
            throw new CommandLineException("the model's default schedule has no usable noise range for this schedule; use --schedule default.");
        return (min, max);
    }

    /// <summary>The path time of a point, from its log-SNR (the largest time when alpha is 0).</summary>
    private static double TimeOf(NoisePath path, SchedulePoint p)
        => p.Alpha <= 0 ? path.TimeMax : p.Sigma <= 0 ? path.TimeMin : Math.Clamp(path.TimeFromLogSnr(p.LogSnr), path.TimeMin, path.TimeMax);
}
