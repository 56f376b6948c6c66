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
        bool Has(string key) => kwargs.ValueKind == JsonValueKind.Object && kwargs.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;
        double Arg(string key, double fallback) => Has(key) ? kwargs.GetProperty(key).GetDouble() : fallback;
        double Required(string key) => Has(key) ? kwargs.GetProperty(key).GetDouble()
            : throw new CommandLineException($"{name}: k-diffusion's sample_{samplerName} needs '{key}' in the case's kwargs.");
        string Text(string key, string fallback) => Has(key) ? kwargs.GetProperty(key).GetString() ?? fallback : fallback;

        DpmSolverSecondOrder SolverType() => Text("solver_type", "midpoint") switch
        {
            "midpoint" => DpmSolverSecondOrder.Midpoint,
            "heun" => DpmSolverSecondOrder.Heun,
            var other => throw new CommandLineException($"{name}: unknown solver_type '{other}' (k-diffusion knows 'midpoint' and 'heun')."),
        };

        // dpm_adaptive's peer records the state after each internal attempt (accepted or not); the observer records ours.
        var attempts = new AttemptRecorder();
        Sampler? sampler = samplerName switch
        {
            "euler" => new EulerSampler(Arg("s_churn", 0), Arg("s_tmin", 0), Arg("s_tmax", double.PositiveInfinity), Arg("s_noise", 1)),
            "heun" => new HeunSampler(Arg("s_churn", 0), Arg("s_tmin", 0), Arg("s_tmax", double.PositiveInfinity), Arg("s_noise", 1)),
            "euler_ancestral" => new EulerAncestralSampler(Arg("eta", 1), Arg("s_noise", 1)),
            "dpmpp_2m" => new DpmSolverPlusPlus2MSampler(lowerOrderFinal: false),
            "lms" => new LmsSampler((int)Arg("order", 4)),
            "dpm_2" => new DpmSolver2Sampler(Arg("s_churn", 0), Arg("s_tmin", 0), Arg("s_tmax", double.PositiveInfinity), Arg("s_noise", 1)),
            "dpm_2_ancestral" => new DpmSolver2AncestralSampler(Arg("eta", 1), Arg("s_noise", 1)),
            "dpmpp_2s_ancestral" => new DpmSolverPlusPlus2SAncestralSampler(Arg("eta", 1), Arg("s_noise", 1)),
            "dpmpp_sde" => new DpmSolverPlusPlusSdeSampler(Arg("eta", 1), Arg("s_noise", 1), Arg("r", 0.5)),
            "dpmpp_2m_sde" => new DpmSolverPlusPlus2MSdeSampler(Arg("eta", 1), Arg("s_noise", 1), SolverType()),
            "dpmpp_3m_sde" => new DpmSolverPlusPlus3MSdeSampler(Arg("eta", 1), Arg("s_noise", 1)),
            "dpm_fast" => new DpmSolverFastSampler((int)Required("n"), Arg("eta", 0), Arg("s_noise", 1)),
            "dpm_adaptive" => new DpmSolverAdaptiveSampler((int)Arg("order", 3), Arg("rtol", 0.05), Arg("atol", 0.0078), Arg("h_init", 0.05),
                Arg("pcoeff", 0), Arg("icoeff", 1), Arg("dcoeff", 0), Arg("accept_safety", 0.81), Arg("eta", 0), Arg("s_noise", 1), observer: attempts),
            _ => null,
        };
        if (sampler is null) return ReferenceOutcome.NotSupported($"the k-diffusion sampler '{samplerName}' is not in the library yet.");

        var report = new List<string>();
        StepSchedule schedule;
        if (sampler is DpmSolverFastSampler or DpmSolverAdaptiveSampler)
        {
            // sample_dpm_fast / sample_dpm_adaptive take the noise range (and n) instead of sigmas; the run ends at sigma_min.
            double sMin = Required("sigma_min"), sMax = Required("sigma_max");
            var path = new VarianceExplodingPath(0, sMax);
            schedule = sampler is DpmSolverFastSampler
                ? DpmSolverFastSampler.CreateSchedule(path, sMin, sMax, (int)Required("n"))
                : DpmSolverAdaptiveSampler.CreateSchedule(path, sMin, sMax);
        }
        else
        {
            var listed = SamplerReferenceRun.Doubles(root.GetProperty("sigmas"));
            var sigmas = listed;
            if (root.TryGetProperty("sigma_plan", out var plan) && plan.ValueKind == JsonValueKind.Object)
            {
                // The plan's generator and arguments make the sigmas; the listed ones (computed by the peer, partly in float32) are checked against them.
                var (generated, function) = SigmaPlan(name, plan);
                double rel = generated.Length == listed.Length
                    ? generated.Zip(listed, (a, b) => b == 0 ? Math.Abs(a) : Math.Abs(a - b) / Math.Abs(b)).Max() : double.PositiveInfinity;
                report.Add($"  sigma plan: {function} from the case's arguments, max relative difference to the listed sigmas {rel:E2}");
                if (!(rel <= 1e-5))
                    return new ReferenceOutcome("{}", double.NaN, [.. report, $"{name}: the sigma plan's arguments do not reproduce the listed sigmas"]);
                sigmas = generated;
            }
            schedule = new StepSchedule(new VarianceExplodingPath(0, sigmas[0]), sigmas.Select(s => new SchedulePoint(1.0, s, s)));
        }
        var model = new GaussianMixtureModel<double>(SamplerReferenceRun.Mixture(root), Prediction.Data, ModelTimeMaps.VarianceExploding());
        var run = SamplerReferenceRun.Run(model, SamplerReferenceRun.Matrix(root.GetProperty("x_start")), schedule, sampler,
            SamplerReferenceRun.Replay(root), trajectoryBeforeEachStep: true, _ => 1.0);
        // dpm_adaptive: the trajectory is the state after each attempt. Its peer ran in float32, whose error norms move its step sizes
        // (and so its attempt points, see the call sigmas) by up to 4e-5 relative: the intermediate states are reported, x_final is compared.
        bool adaptive = sampler is DpmSolverAdaptiveSampler;
        if (adaptive) run = run with { Trajectory = attempts.States };
        var outcome = SamplerReferenceRun.Outcome(name, root, run, "model_call_sigmas", "trajectory_x_before_each_step",
            $"k-diffusion {samplerName} ({schedule.StepCount} steps{(adaptive ? $", {attempts.States.Count} attempts" : "")})", includeTrajectory: !adaptive);
        return outcome with { Report = [.. outcome.Report.Take(1), .. report, .. outcome.Report.Skip(1)] };
    }

    /// <summary>Keeps the state after each attempt of the adaptive solver (k-diffusion's per-attempt callback).</summary>
    private sealed class AttemptRecorder : IAdaptiveAttemptObserver
    {
        public List<double[][]> States { get; } = [];

        public void OnAttempt<T>(in AdaptiveAttempt attempt, GenerativePaths.Tensors.BatchTensor<T> x) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
            => States.Add(x.ToRows().Select(r => r.Select(v => double.CreateTruncating(v)).ToArray()).ToArray());
    }

    /// <summary>The sigmas of a k-diffusion plan from its <c>function</c> and every argument (<c>n</c>, <c>sigma_min</c>, <c>sigma_max</c>, <c>rho</c>,
    /// <c>beta_d</c>, <c>beta_min</c>, <c>eps_s</c>; <c>device</c> is ignored); an unknown function or argument is an input error.</summary>
    internal static (double[] Sigmas, string Function) SigmaPlan(string name, JsonElement args)
    {
        string function = args.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()!
            : throw new CommandLineException($"{name}: the sigma plan names no 'function'.");
        string[] known = function switch
        {
            "get_sigmas_karras" or "get_sigmas_polyexponential" => ["n", "sigma_min", "sigma_max", "rho"],
            "get_sigmas_exponential" => ["n", "sigma_min", "sigma_max"],
            "get_sigmas_vp" => ["n", "beta_d", "beta_min", "eps_s"],
            _ => throw new CommandLineException($"{name}: unknown sigma plan '{function}' (known: get_sigmas_karras, get_sigmas_exponential, get_sigmas_polyexponential, get_sigmas_vp)."),
        };
        foreach (var prop in args.EnumerateObject())
            if (prop.Name is not ("function" or "device") && !known.Contains(prop.Name))
                throw new CommandLineException($"{name}: {function} takes no argument '{prop.Name}' (it takes {string.Join(", ", known)}).");
        bool Given(string key) => args.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;
        double Value(string key, double? fallback) => Given(key) ? args.GetProperty(key).GetDouble()
            : fallback ?? throw new CommandLineException($"{name}: {function} needs the argument '{key}'.");
        int n = Given("n") ? args.GetProperty("n").GetInt32() : throw new CommandLineException($"{name}: {function} needs the argument 'n'.");
        var sigmas = function switch
        {
            "get_sigmas_karras" => SigmaArrays.Karras(n, Value("sigma_min", null), Value("sigma_max", null), Value("rho", 7.0)),
            "get_sigmas_exponential" => SigmaArrays.Exponential(n, Value("sigma_min", null), Value("sigma_max", null)),
            "get_sigmas_polyexponential" => SigmaArrays.PolyExponential(n, Value("sigma_min", null), Value("sigma_max", null), Value("rho", 1.0)),
            _ => SigmaArrays.Vp(n, Value("beta_d", 19.9), Value("beta_min", 0.1), Value("eps_s", 1e-3)),
        };
        return (sigmas, function);
    }

    /// <summary>
    /// A schedule-only case (k-diffusion's <c>get_sigmas_karras</c>, <c>_exponential</c>, <c>_polyexponential</c>, <c>_vp</c>): the generator and
    /// every argument come from the case's <c>args</c> (<see cref="SigmaPlan"/>), and the figure compared with the tolerance is the largest
    /// absolute difference to the listed sigmas (the relative one is reported).
    /// </summary>
    private static ReferenceOutcome SigmaPlanCase(string name, JsonElement root)
    {
        var expected = SamplerReferenceRun.Doubles(root.GetProperty("sigmas"));
        var (plan, function) = SigmaPlan(name, root.GetProperty("args"));
        double abs = 0, rel = 0;
        for (int i = 0; i < Math.Min(plan.Length, expected.Length); i++)
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
            $"{name}: k-diffusion {function} ({plan.Length - 1} sigmas and 0) against the library's SigmaArrays",
            $"  sigmas: {plan.Length} (peer {expected.Length}), max abs difference {abs:E3}, max relative difference {rel:E3} (the peer computed in float32)",
        };
        return new ReferenceOutcome(System.Text.Encoding.UTF8.GetString(stream.ToArray()), abs, report);
    }
}
