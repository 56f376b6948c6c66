using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Cli;

/// <summary>One entry of the sampler table: a name, how to build it, its model evaluations per step, whether it draws noise, and the
/// schedule its name asks for (<c>default</c> unless a UI label such as "DPM++ 2M Karras" names one).</summary>
internal sealed record SamplerEntry(string Name, string Description, Func<Sampler> Create, int EvaluationsPerStep, bool Stochastic, string Schedule = "default");

/// <summary>The sampler and schedule names the commands accept: the library's <see cref="GenerativePaths.Samplers.SamplerCatalog"/>
/// (canonical names, UI labels, k-diffusion and diffusers names) and the schedule names.</summary>
internal static class SamplerCatalog
{
    public static IReadOnlyList<SamplerEntry> Samplers { get; } = GenerativePaths.Samplers.SamplerCatalog.All.Select(Entry).ToArray();

    private static SamplerEntry Entry(SamplerPreset p)
        => new(p.Name, p.Description, p.Create, p.EvaluationsPerStep, p.Stochastic, p.Schedule.ToString().ToLowerInvariant());

    /// <summary>The schedule names; <c>default</c> is the model card's own plan.</summary>
    public static IReadOnlyList<string> Schedules { get; } = ["default", "karras", "exponential", "uniform"];

    public static string SamplerNames => string.Join(", ", Samplers.Select(s => s.Name));

    /// <exception cref="CommandLineException">An unknown name; the message lists the known ones.</exception>
    public static SamplerEntry Find(string name)
        => GenerativePaths.Samplers.SamplerCatalog.TryFind(name, out var preset)
            ? Entry(preset)
            : throw new CommandLineException($"unknown sampler '{name}'; the known samplers are {SamplerNames} (UI labels such as 'DPM++ 2M Karras' and k-diffusion or diffusers names work too).");

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
                    ? SigmaArrays.Karras(steps, sMin, sMax) : SigmaArrays.Exponential(steps, sMin, sMax);
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
