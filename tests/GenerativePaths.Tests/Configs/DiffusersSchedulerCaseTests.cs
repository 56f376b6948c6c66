using System.Text.Json;
using GenerativePaths.Cli;
using Xunit;

namespace GenerativePaths.Tests.Configs;

/// <summary>
/// The diffusers scheduler classes added with the config split, each through its case in <c>shared/reference</c> on the code path of
/// <c>gpaths reference</c>: the configuration imported from the case's <c>config</c>, model-call times, the trajectory after every
/// step and <c>x_final</c> against the peer (1e-4 absolute). Where the peer produced NaN (UniPC bh1 to sigma 0) the library's result
/// is finite and its trajectory agrees with the peer's up to the peer's last finite state.
/// </summary>
public class DiffusersSchedulerCaseTests
{
    public static TheoryData<string> Cases => new(
    [
        "diffusers_pndm_plms_sd15_20.json",
        "diffusers_deis_2_20.json",
        "diffusers_deis_3_15.json",
        "diffusers_dpm_singlestep_2_12.json",
        "diffusers_dpm_singlestep_3_15.json",
        "diffusers_dpmpp_3m_20.json",
        "diffusers_edm_euler_16.json",
        "diffusers_edm_dpmpp_2m_12.json",
        "diffusers_flowmatch_heun_shift3_10.json",
        "diffusers_lcm_4.json",
        "diffusers_tcd_4_gamma03.json",
        "diffusers_sasolver_16.json",
        "diffusers_unipc_bh1_10.json",
        "diffusers_kdpm2_ancestral_12.json",
        "diffusers_dpmpp_2m_sde_karras_16.json",
    ]);

    private static double[][] Matrix(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

    private static bool AllNumbers(JsonElement m) => m.ValueKind == JsonValueKind.Array
        && m.EnumerateArray().All(r => r.ValueKind == JsonValueKind.Array && r.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number));

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

    /// <summary>Which peer trajectory entry our state after step <c>i</c> is: diffusers' Heun classes record the predictor and the corrector
    /// of each step, PNDM's PLMS the warm-up's predicted point.</summary>
    private static Func<int, int, int> PeerIndex(string className) => className switch
    {
        "HeunDiscreteScheduler" or "FlowMatchHeunDiscreteScheduler" or "KDPM2AncestralDiscreteScheduler" => (i, steps) => i < steps - 1 ? 2 * i + 1 : 2 * i,
        "PNDMScheduler" => (i, _) => i + 1,
        _ => (i, _) => i,
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void CaseMatchesThePeer(string file)
    {
        using var doc = ReferenceCases.Load(file);
        var root = doc.RootElement;
        var outcome = ReferenceCommand.Dispatch(Path.GetFileNameWithoutExtension(file), root);
        Assert.Null(outcome.Unsupported);
        using var output = JsonDocument.Parse(outcome.OutputJson);
        var o = output.RootElement;

        var peerTimes = root.GetProperty("model_call_timesteps").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var ourTimes = o.GetProperty("model_call_times").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(peerTimes.Length, ourTimes.Length);
        Assert.Equal(peerTimes.Length, o.GetProperty("nfe").GetInt32());
        for (int i = 0; i < peerTimes.Length; i++)
            // 1e-6 relative, and 1e-5 absolute near 0, where the peer's float32 rounding shows (KDPM2 ancestral's last midpoint is at
            // timestep 4.1e-6 for the library's 0, EDM's c_noise = log(sigma)/4 crosses 0).
            Assert.True(Math.Abs(peerTimes[i] - ourTimes[i]) <= Math.Max(1e-6 * Math.Abs(peerTimes[i]), 1e-5), $"model call {i}: time {ourTimes[i]} vs the peer's {peerTimes[i]}");

        var ours = o.GetProperty("trajectory").EnumerateArray().Select(Matrix).ToList();
        var peer = root.GetProperty("trajectory").EnumerateArray().ToList();
        string className = root.GetProperty("peer").GetString()!.Split(' ')[^1];
        var index = PeerIndex(className);
        int compared = 0;
        for (int i = 0; i < ours.Count; i++)
        {
            int j = index(i, ours.Count);
            Assert.InRange(j, 0, peer.Count - 1);
            if (!AllNumbers(peer[j])) break; // the peer's NaN: nothing after it is comparable
            double d = MaxAbs(Matrix(peer[j]), ours[i]);
            Assert.True(d <= 1e-4, $"{file}: state after step {i} differs from the peer's by {d:E3}");
            compared++;
        }
        Assert.True(compared >= ours.Count - 1, $"{file}: only {compared} of {ours.Count} states compared");

        var final = Matrix(o.GetProperty("x_final"));
        Assert.All(final, r => Assert.All(r, v => Assert.True(double.IsFinite(v), "the library's x_final must be finite")));
        var peerFinal = root.GetProperty("x_final");
        if (AllNumbers(peerFinal))
        {
            double d = MaxAbs(Matrix(peerFinal), final);
            Assert.True(d <= 1e-4, $"{file}: x_final differs from the peer's by {d:E3}");
            Assert.Equal(d, outcome.MaxAbsDifference, 15);
        }
        else
        {
            Assert.False(root.GetProperty("peer_finite").GetBoolean());
            Assert.True(outcome.MaxAbsDifference <= 1e-4);
        }
        Assert.Equal(0, ReferenceCommand.Run([ReferenceCases.PathOf(file)], new StringWriter(), new StringWriter()));
    }
}
