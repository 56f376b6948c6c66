using System.Text.Json;
using GenerativePaths.Cli;
using Xunit;

namespace GenerativePaths.Tests.Reference;

/// <summary>
/// The k-diffusion cases of the stochastic and DPM-Solver samplers (DPM++ 2M SDE, 3M SDE, 2S ancestral, SDE, DPM-2 ancestral,
/// DPM-Solver fast and adaptive) through the code path of <c>gpaths reference</c>, against the peer's numbers: <c>x_final</c> and every
/// state of the trajectory to 1e-4 absolute, the model-call sigmas to a relative tolerance, the recorded noise replayed by interval.
/// </summary>
public class KDiffusionSdeReferenceCaseTests
{
    /// <summary>The cases; the call-time tolerance is 2e-6 where our sigmas come from the plan in float64 and the peer's list is float32,
    /// 1e-4 where the peer (DPM-Solver fast / adaptive) computed its log-sigma grid in float32.</summary>
    public static TheoryData<string, double> Cases() => new()
    {
        { "kdiffusion_dpmpp_2m_sde_karras_10_eta10.json", 2e-6 },
        { "kdiffusion_dpmpp_2m_sde_exponential_12_eta05_solver_typeheun.json", 2e-6 },
        { "kdiffusion_dpmpp_3m_sde_karras_12_eta10.json", 2e-6 },
        { "kdiffusion_dpmpp_2s_ancestral_karras_10_eta10.json", 2e-6 },
        { "kdiffusion_dpmpp_sde_karras_8_eta10.json", 2e-6 },
        { "kdiffusion_dpm_2_ancestral_karras_10_eta10.json", 2e-6 },
        { "kdiffusion_dpm_fast_10_default.json", 1e-4 },
        { "kdiffusion_dpm_adaptive_adaptive_default.json", 1e-4 },
    };

    private static double[][] Matrix(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

    private static double MaxAbs(double[][] a, double[][] b)
    {
        Assert.Equal(a.Length, b.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i].Length, b[i].Length);
            for (int j = 0; j < a[i].Length; j++) m = Math.Max(m, Math.Abs(a[i][j] - b[i][j]));
        }
        return m;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesThePeer(string file, double timeTolerance)
    {
        using var doc = ReferenceCases.Load(file);
        var root = doc.RootElement;
        var outcome = ReferenceCommand.Dispatch(Path.GetFileNameWithoutExtension(file), root);
        Assert.Null(outcome.Unsupported);
        using var output = JsonDocument.Parse(outcome.OutputJson);
        var o = output.RootElement;

        var peerTimes = root.GetProperty("model_call_sigmas").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var ourTimes = o.GetProperty("model_call_times").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(peerTimes.Length, ourTimes.Length);
        Assert.Equal(peerTimes.Length, o.GetProperty("nfe").GetInt32());
        for (int i = 0; i < peerTimes.Length; i++)
            Assert.True(Math.Abs(peerTimes[i] - ourTimes[i]) <= timeTolerance * peerTimes[i], $"{file}: model call {i} at sigma {ourTimes[i]}, the peer's {peerTimes[i]}");

        double final = MaxAbs(Matrix(root.GetProperty("x_final")), Matrix(o.GetProperty("x_final")));
        Assert.True(final <= 1e-4, $"{file}: x_final differs by {final:E3}");
        Assert.True(outcome.MaxAbsDifference <= 1e-4, $"{file}: the command's figure is {outcome.MaxAbsDifference:E3}");

        // The trajectory: the state before each step (dpm_adaptive: after each internal attempt, accepted or not). dpm_adaptive's peer ran
        // in float32, whose error norms move its step sizes by up to 4e-5 relative (see its call sigmas): its states are compared to 1e-4
        // relative to max(1, |x|) (the largest difference, 1.5e-4, is at |x| = 8.4); every other case to 1e-4 absolute.
        bool adaptive = file.Contains("dpm_adaptive", StringComparison.Ordinal);
        var peer = root.GetProperty("trajectory_x_before_each_step").EnumerateArray().Select(Matrix).ToList();
        var ours = o.GetProperty("trajectory").EnumerateArray().Select(Matrix).ToList();
        Assert.Equal(peer.Count, ours.Count);
        for (int i = 0; i < peer.Count; i++)
            for (int b = 0; b < peer[i].Length; b++)
                for (int j = 0; j < peer[i][b].Length; j++)
                {
                    double d = Math.Abs(peer[i][b][j] - ours[i][b][j]), scale = adaptive ? Math.Max(1, Math.Abs(peer[i][b][j])) : 1;
                    Assert.True(d <= 1e-4 * scale, $"{file}: trajectory state {i}, sample {b}, element {j} differs by {d:E3}");
                }
    }

    [Fact]
    public void SamplerCaseSigmasComeFromTheSigmaPlanArguments()
    {
        // The plan's arguments, not the file name, define the sigmas: change rho in the case and the run follows it (and no longer
        // reproduces the listed sigmas, which the command reports instead of silently using either).
        string text = File.ReadAllText(ReferenceCases.PathOf("kdiffusion_dpmpp_2m_sde_karras_10_eta10.json"));
        using var doc = JsonDocument.Parse(text.Replace("\"function\": \"get_sigmas_karras\"", "\"function\": \"get_sigmas_karras\", \"rho\": 3.0", StringComparison.Ordinal));
        Assert.Contains("\"rho\": 3.0", doc.RootElement.GetProperty("sigma_plan").GetRawText(), StringComparison.Ordinal);
        var outcome = ReferenceCommand.Dispatch("changed", doc.RootElement);
        Assert.True(double.IsNaN(outcome.MaxAbsDifference));
        Assert.Contains(outcome.Report, l => l.Contains("do not reproduce the listed sigmas", StringComparison.Ordinal));

        // An argument the generator does not take is an input error naming it.
        using var bad = JsonDocument.Parse(text.Replace("\"function\": \"get_sigmas_karras\"", "\"function\": \"get_sigmas_karras\", \"beta_d\": 3.0", StringComparison.Ordinal));
        var e = Assert.Throws<CommandLineException>(() => ReferenceCommand.Dispatch("bad", bad.RootElement));
        Assert.Contains("beta_d", e.Message);
    }

    [Fact]
    public void SigmaOnlyCasesReadTheFunctionFromArgsNotTheFileName()
    {
        // The karras case under a misleading name still runs get_sigmas_karras with its listed arguments.
        using var doc = ReferenceCases.Load("kdiffusion_sigmas_karras_10.json");
        var outcome = ReferenceCommand.Dispatch("kdiffusion_sigmas_exponential_10", doc.RootElement);
        Assert.True(outcome.MaxAbsDifference <= 1e-5, $"difference {outcome.MaxAbsDifference}");
        Assert.Contains(outcome.Report, l => l.Contains("get_sigmas_karras", StringComparison.Ordinal));
    }
}
