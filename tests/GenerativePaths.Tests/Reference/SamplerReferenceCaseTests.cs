using System.Text.Json;
using GenerativePaths.Cli;
using Xunit;

namespace GenerativePaths.Tests.Reference;

/// <summary>
/// The shared reference cases through the very code path of <c>gpaths reference</c> (<see cref="ReferenceCommand.Dispatch"/>):
/// model-call times to 1e-6 relative, <c>x_final</c> to 1e-4 absolute against the peers' numbers.
/// </summary>
public class SamplerReferenceCaseTests
{
    public static TheoryData<string> KDiffusionCases() => new()
    {
        "kdiffusion_euler_karras_10.json",
        "kdiffusion_heun_karras_10.json",
        "kdiffusion_dpmpp_2m_karras_10.json",
        "kdiffusion_euler_ancestral_karras_10.json",
    };

    internal static void CheckCase(string file, string callTimesField)
    {
        using var doc = ReferenceCases.Load(file);
        var root = doc.RootElement;
        var outcome = ReferenceCommand.Dispatch(Path.GetFileNameWithoutExtension(file), root);
        Assert.Null(outcome.Unsupported);
        using var output = JsonDocument.Parse(outcome.OutputJson);
        var o = output.RootElement;

        var peerTimes = root.GetProperty(callTimesField).EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var ourTimes = o.GetProperty("model_call_times").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(peerTimes.Length, ourTimes.Length);
        Assert.Equal(peerTimes.Length, o.GetProperty("nfe").GetInt32());
        for (int i = 0; i < peerTimes.Length; i++)
            Assert.True(Math.Abs(peerTimes[i] - ourTimes[i]) <= 1e-6 * Math.Abs(peerTimes[i]), $"model call {i}: time {ourTimes[i]} vs the peer's {peerTimes[i]}");

        var expected = root.GetProperty("x_final").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray();
        var actual = o.GetProperty("x_final").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int b = 0; b < expected.Length; b++)
        {
            Assert.Equal(expected[b].Length, actual[b].Length);
            for (int j = 0; j < expected[b].Length; j++) worst = Math.Max(worst, Math.Abs(expected[b][j] - actual[b][j]));
        }
        Assert.True(worst <= 1e-4, $"{file}: max abs difference to the peer's x_final is {worst:E3}");
        // The k-diffusion runner's figure also counts every state of the trajectory (to the same tolerance).
        if (root.TryGetProperty("trajectory_x_before_each_step", out var tr))
        {
            var peer = tr.EnumerateArray().Select(m => m.EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray()).ToList();
            var ours = o.GetProperty("trajectory").EnumerateArray().Select(m => m.EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray()).ToList();
            Assert.Equal(peer.Count, ours.Count);
            for (int i = 0; i < peer.Count; i++)
                for (int b = 0; b < peer[i].Length; b++)
                    for (int j = 0; j < peer[i][b].Length; j++) worst = Math.Max(worst, Math.Abs(peer[i][b][j] - ours[i][b][j]));
            Assert.True(worst <= 1e-4, $"{file}: max abs difference to the peer's trajectory is {worst:E3}");
        }
        Assert.Equal(worst, outcome.MaxAbsDifference, 15);
    }

    [Theory]
    [MemberData(nameof(KDiffusionCases))]
    public void KDiffusionCasesMatchThePeer(string file) => CheckCase(file, "model_call_sigmas");

    public static TheoryData<string> DiffusersCases() => new()
    {
        "diffusers_ddim_eps_leading_10.json",
        "diffusers_ddim_eps_trailing_25.json",
        "diffusers_ddim_eta1_leading_20.json",
        "diffusers_ddpm_eps_linear_50.json",
        "diffusers_euler_eps_linspace_20.json",
        "diffusers_euler_karras_15.json",
        "diffusers_euler_ancestral_20.json",
        "diffusers_heun_eps_10.json",
        "diffusers_dpmpp_2m_20.json",
        "diffusers_flowmatch_euler_shift3_20.json",
    };

    [Theory]
    [MemberData(nameof(DiffusersCases))]
    public void DiffusersCasesMatchThePeer(string file) => CheckCase(file, "model_call_timesteps");

    [Fact]
    public void SamplersNotInTheLibraryAreReportedByName()
    {
        // A k-diffusion sampler the library does not have: the lms case relabelled.
        using var doc = ReferenceCases.Load("kdiffusion_lms_exponential_12.json");
        using var relabelled = JsonDocument.Parse(doc.RootElement.GetRawText().Replace("sample_lms", "sample_no_such_sampler", StringComparison.Ordinal));
        var outcome = ReferenceCommand.Dispatch("dpm_fast", relabelled.RootElement);
        Assert.NotNull(outcome.Unsupported);
        Assert.Contains("no_such_sampler", outcome.Unsupported);
    }

    [Fact]
    public void CommandExitCodesFollowTheInterface()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string outFile = Path.Combine(Path.GetTempPath(), $"gpaths-{Guid.NewGuid():N}.json");
        try
        {
            Assert.Equal(0, ReferenceCommand.Run([ReferenceCases.PathOf("kdiffusion_euler_karras_10.json"), "--out", outFile], stdout, stderr));
            using var written = JsonDocument.Parse(File.ReadAllText(outFile));
            foreach (var key in new[] { "case", "x_final", "trajectory", "model_call_times", "nfe" })
                Assert.True(written.RootElement.TryGetProperty(key, out _), $"output lacks '{key}'");
            string unsupported = Path.Combine(Path.GetTempPath(), $"gpaths-{Guid.NewGuid():N}-unknown.json");
            File.WriteAllText(unsupported, File.ReadAllText(ReferenceCases.PathOf("kdiffusion_lms_exponential_12.json")).Replace("sample_lms", "sample_no_such_sampler", StringComparison.Ordinal));
            try { Assert.Equal(3, ReferenceCommand.Run([unsupported], stdout, stderr)); }
            finally { File.Delete(unsupported); }
        }
        finally
        {
            File.Delete(outFile);
        }
    }
}
