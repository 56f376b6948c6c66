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
            return ReferenceOutcome.NotSupported($"'{name}' has no sampler run (it lists a sigma schedule only); schedule cases are checked by the schedule tests.");
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
}
