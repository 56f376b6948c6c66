using System.Text.Json.Nodes;
using Xunit;
using static GenerativePaths.Tests.Cli.CliHarness;

namespace GenerativePaths.Tests.Cli;

/// <summary><c>gpaths generate --parallel</c>: the oracle is the sequential run of the same command.</summary>
public sealed class ParallelGenerateTests
{
    private static readonly string[] Common =
        ["generate", "--model", ModelPath("gmm-denoiser.onnx"), "--steps", "12", "--labels", "0,1,2", "--per-label", "4", "--guidance", "2"];

    [Theory]
    [InlineData("dpmpp_2m", "picard")]
    [InlineData("ddim", "anderson")]
    [InlineData("euler_a", "picard")]
    [InlineData("heun", "anderson")]
    public void ToleranceZeroWritesTheSequentialFileAndTheStats(string sampler, string method)
    {
        var dir = TempDir();
        try
        {
            string s = Path.Combine(dir, "s.npy"), p = Path.Combine(dir, "p.npy"), sj = Path.Combine(dir, "s.json"), pj = Path.Combine(dir, "p.json");
            var seq = Run([.. Common, "--sampler", sampler, "--out", s, "--stats", sj]);
            Assert.True(seq.Code == 0, seq.Err);
            var par = Run([.. Common, "--sampler", sampler, "--out", p, "--parallel", method, "--window", "5", "--stats", pj]);
            Assert.True(par.Code == 0, par.Err);
            Assert.Equal(File.ReadAllBytes(s), File.ReadAllBytes(p));
            var a = JsonNode.Parse(File.ReadAllText(sj))!.AsObject();
            var b = JsonNode.Parse(File.ReadAllText(pj))!.AsObject();
            Assert.Equal("none", (string)a["parallel"]!);
            Assert.Equal(method, (string)b["parallel"]!);
            Assert.Equal(12, (int)a["steps"]!);
            Assert.Equal((long)a["sequential_model_calls"]!, (long)a["rounds"]!);
            Assert.Equal((long)a["sequential_model_calls"]!, (long)b["sequential_model_calls"]!);
            Assert.True((long)b["rounds"]! <= (long)a["rounds"]!);
            Assert.Equal(12 * (long)a["rounds"]!, (long)a["model_rows"]!);
            Assert.True((long)b["model_rows"]! >= (long)a["model_rows"]!);
            Assert.True((bool)b["converged"]!);
            Assert.True((double)b["wall_seconds"]! > 0);
            Assert.Contains($"{method} window 5 tol 0", par.Out);
            var perStep = b["round_of_step"]!.AsArray().Select(n => (int)n!).ToArray();
            Assert.Equal(12, perStep.Length);
            Assert.True(perStep.Zip(perStep.Skip(1)).All(p => p.First <= p.Second));
            Assert.Equal((int)(long)b["rounds"]!, perStep[^1]);
            Assert.Null(a["round_of_step"]);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void APositiveToleranceTakesFewerRounds()
    {
        var dir = TempDir();
        try
        {
            string p = Path.Combine(dir, "p.npy"), pj = Path.Combine(dir, "p.json");
            string[] args = ["generate", "--model", ModelPath("gmm-denoiser.onnx"), "--steps", "60", "--count", "20", "--sampler", "ddim",
                "--out", p, "--parallel", "picard", "--window", "30", "--tol", "0.05", "--stats", pj];
            var r = Run(args);
            Assert.True(r.Code == 0, r.Err);
            var st = JsonNode.Parse(File.ReadAllText(pj))!.AsObject();
            Assert.True((long)st["rounds"]! < 30, $"{st["rounds"]} rounds");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("--parallel", "jacobi")]
    [InlineData("--window", "0")]
    [InlineData("--tol", "-1")]
    [InlineData("--tol", "nan")]
    public void BadParallelOptionsGetOneLineAndExitTwo(string option, string value)
        => AssertUsageError("gpaths generate", [.. Common, "--out", Path.Combine(Path.GetTempPath(), "gpaths-never.npy"), "--parallel", "picard", option, value]);
}
