using System.Text.Json;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Cli;

/// <summary>Runs the k-diffusion reference cases of <c>shared/reference</c> (variance-exploding path, denoiser model, replayed noise).</summary>
internal static class KDiffusionReference
{
    public static ReferenceOutcome Run(string name, JsonElement root)
    {
        if (!root.TryGetProperty("x_start", out _) || !root.TryGetProperty("gmm", out _))
            return root.TryGetProperty("args", out _) ? SigmaPlanCase(name, root)
                : ReferenceOutcome.NotSupported($"'{name}' has neither a sampler run nor the arguments of a sigma schedule.");
        string peer = root.TryGetProperty("peer", out var p) ? p.GetString() ?? "" : "";
        string samplerName = peer.Split(' ').LastOrDefault(s => s.StartsWith("sample_", StringComparison.Ordinal))?["sample_".Length..] ?? peer;
        var kwargs = root.TryGetProperty("kwargs", out var k) ? k : default;
        double Arg(string key, double fallback) => kwargs.ValueKind == JsonValueKind.Object && kwargs.TryGetProperty(key, out var v) ? v.GetDouble() : fallback;

        Sampler? sampler = samplerName switch
        {
            "euler" => new EulerSampler(Arg("s_churn", 0), Arg("s_tmin", 0), Arg("s_tmax", double.PositiveInfinity), Arg("s_noise", 1)),
            "heun" => new HeunSampler(Arg("s_churn", 0), Arg("s_tmin", 0), Arg("s_tmax", double.PositiveInfinity), Arg("s_noise", 1)),
            "euler_ancestral" => new EulerAncestralSampler(Arg("eta", 1), Arg("s_noise", 1)),
            "dpmpp_2m" => new DpmSolverPlusPlus2MSampler(lowerOrderFinal: false),
            "lms" => new LmsSampler((int)Arg("order", 4)),
            "dpm_2" => new Dpm2Sampler(Arg("s_churn", 0), Arg("s_tmin", 0), Arg("s_tmax", double.PositiveInfinity), Arg("s_noise", 1)),
            _ => null,
        };
        if (sampler is null) return ReferenceOutcome.NotSupported($"the k-diffusion sampler '{samplerName}' is not in the library yet.");

        var sigmas = SamplerReferenceRun.Doubles(root.GetProperty("sigmas"));
        var schedule = new StepSchedule(new VarianceExplodingPath(0, sigmas[0]), sigmas.Select(s => new SchedulePoint(1.0, s, s)));
        var model = new GaussianMixtureModel<double>(SamplerReferenceRun.Mixture(root), Prediction.Sample, ModelTimeMaps.VarianceExploding());
        var run = SamplerReferenceRun.Run(model, SamplerReferenceRun.Matrix(root.GetProperty("x_start")), schedule, sampler,
            new ReplayNoise(SamplerReferenceRun.Tape(root)), trajectoryBeforeEachStep: true, _ => 1.0);
        return SamplerReferenceRun.Outcome(name, root, run, "model_call_sigmas", "trajectory_x_before_each_step", $"k-diffusion {samplerName} ({schedule.StepCount} steps)");
    }

    /// <summary>
    /// A schedule-only case (k-diffusion's <c>get_sigmas_karras</c>, <c>_exponential</c>, <c>_polyexponential</c>, <c>_vp</c>): the
    /// generator is chosen by the case name's prefix, the plan comes from <see cref="SigmaPlans"/> with the listed arguments, and
    /// the figure compared with the tolerance is the largest absolute difference to the listed sigmas (the relative one is reported).
    /// </summary>
    private static ReferenceOutcome SigmaPlanCase(string name, JsonElement root)
    {
        var expected = SamplerReferenceRun.Doubles(root.GetProperty("sigmas"));
        var args = root.GetProperty("args");
        double Arg(string key, double fallback) => args.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
        int n = expected.Length - 1;
        // The generator: the case's own "name" (e.g. "karras_10"), else the file name after "kdiffusion_sigmas_".
        string label = root.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String ? nm.GetString()! : name;
        if (label.StartsWith("kdiffusion_sigmas_", StringComparison.Ordinal)) label = label["kdiffusion_sigmas_".Length..];
        string kind = label.Split('_')[0];
        double[]? plan = kind switch
        {
            "karras" => SigmaPlans.Karras(n, Arg("sigma_min", double.NaN), Arg("sigma_max", double.NaN), Arg("rho", 7.0)),
            "exponential" => SigmaPlans.Exponential(n, Arg("sigma_min", double.NaN), Arg("sigma_max", double.NaN)),
            "polyexponential" => SigmaPlans.PolyExponential(n, Arg("sigma_min", double.NaN), Arg("sigma_max", double.NaN), Arg("rho", 1.0)),
            "vp" => SigmaPlans.Vp(n, Arg("beta_d", 19.9), Arg("beta_min", 0.1), Arg("eps_s", 1e-3)),
            _ => null,
        };
        if (plan is null) return ReferenceOutcome.NotSupported($"'{name}' names no k-diffusion sigma schedule the library knows (karras, exponential, polyexponential, vp).");
        double abs = 0, rel = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(plan[i] - expected[i]);
            abs = Math.Max(abs, d);
            if (expected[i] != 0) rel = Math.Max(rel, d / Math.Abs(expected[i]));
            else if (d != 0) rel = double.PositiveInfinity;
        }
        if (plan.Length != expected.Length) abs = rel = double.PositiveInfinity;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("case", name);
            w.WritePropertyName("sigmas");
            w.WriteStartArray();
            foreach (var s in plan) w.WriteNumberValue(s);
            w.WriteEndArray();
            w.WriteNumber("max_abs_difference", abs);
            w.WriteNumber("max_relative_difference", rel);
            w.WriteEndObject();
        }
        var report = new List<string>
        {
            $"{name}: k-diffusion get_sigmas_{kind} ({n} sigmas and 0) against the library's SigmaPlans",
            $"  sigmas: {plan.Length} (peer {expected.Length}), max abs difference {abs:E3}, max relative difference {rel:E3} (the peer computed in float32)",
        };
        return new ReferenceOutcome(System.Text.Encoding.UTF8.GetString(stream.ToArray()), abs, report);
    }
}
