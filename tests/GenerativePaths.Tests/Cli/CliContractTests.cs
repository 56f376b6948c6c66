using GenerativePaths.Cli;
using Xunit;
using static GenerativePaths.Tests.Cli.CliHarness;

namespace GenerativePaths.Tests.Cli;

/// <summary>The exit-code contract of every command, in process: help, version, and every bad input exits 2 with one line.</summary>
public sealed class CliContractTests
{
    [Theory]
    [InlineData("--help")]
    [InlineData("demo", "--help")]
    [InlineData("reference", "--help")]
    [InlineData("generate", "--help")]
    [InlineData("compare", "--help")]
    [InlineData("paths", "--help")]
    [InlineData("generate", "-h")]
    public void HelpOfEveryCommandExitsZero(params string[] args)
    {
        var (code, output, err) = Run(args);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", output);
        Assert.Equal("", err);
    }

    [Fact]
    public void VersionExitsZero()
    {
        var (code, output, _) = Run("--version");
        Assert.Equal(0, code);
        Assert.StartsWith("gpaths 0.1.0", output.Trim());
    }

    [Fact]
    public void NoArgumentsAndUnknownCommandsAreUsageErrors()
    {
        Assert.Contains("a command is needed", AssertUsageError("gpaths"));
        Assert.Contains("bogus", AssertUsageError("gpaths", "bogus"));
        Assert.Contains("--frobnicate", AssertUsageError("gpaths generate", "generate", "--model", "m.onnx", "--frobnicate"));
    }

    [Theory]
    [InlineData("0", "at least 2")]
    [InlineData("1", "at least 2")]
    [InlineData("abc", "needs an integer")]
    [InlineData("-5", "at least 2")]
    public void DemoRejectsBadSampleCounts(string value, string message)
        => Assert.Contains(message, AssertUsageError("gpaths demo", "demo", "--samples", value).Replace("must lie in [2,", "at least 2"));

    [Fact]
    public void DemoRunsWithFewSamples()
    {
        var (code, output, _) = Run("demo", "--samples", "50");
        Assert.Equal(0, code);
        Assert.Contains("euler", output);
    }

    [Theory]
    [InlineData("--steps", "0", "--steps must")]
    [InlineData("--steps", "abc", "--steps needs an integer")]
    [InlineData("--steps", "-3", "--steps must")]
    [InlineData("--guidance", "nan", "--guidance needs a finite number")]
    [InlineData("--guidance", "inf", "--guidance needs a finite number")]
    [InlineData("--guidance", "x", "--guidance needs a finite number")]
    [InlineData("--count", "0", "--count must")]
    [InlineData("--per-label", "0", "--per-label must")]
    [InlineData("--seed", "-1", "--seed needs")]
    [InlineData("--threads", "-1", "--threads must")]
    public void GenerateRejectsBadNumbers(string option, string value, string message)
        => Assert.Contains(message, AssertUsageError("gpaths generate", "generate", "--model", ModelPath("gmm-denoiser.onnx"), option, value));

    [Theory]
    [InlineData("3-1", "descending")]
    [InlineData("a-b", "--labels needs")]
    [InlineData("1,,2", "--labels needs")]
    [InlineData("-1", "--labels needs")]
    [InlineData("x", "--labels needs")]
    public void GenerateRejectsBadLabels(string labels, string message)
        => Assert.Contains(message, AssertUsageError("gpaths generate", "generate", "--model", ModelPath("gmm-denoiser.onnx"), "--labels", labels));

    [Fact]
    public void GenerateNeedsAModel()
        => Assert.Contains("--model", AssertUsageError("gpaths generate", "generate", "--steps", "4"));

    [Fact]
    public void GenerateRejectsAMissingModelFile()
        => Assert.Contains("does not exist", AssertUsageError("gpaths generate", "generate", "--model", "/no/such/model.onnx"));

    [Fact]
    public void GenerateRejectsAnUnknownSamplerAndListsTheKnownOnes()
    {
        string line = AssertUsageError("gpaths generate", "generate", "--model", ModelPath("gmm-denoiser.onnx"), "--sampler", "magic");
        Assert.Contains("magic", line);
        foreach (var name in new[] { "euler", "heun", "ddim", "ddpm", "euler_a", "dpmpp_2m", "lms", "unipc", "dpm2", "flow_euler" })
            Assert.Contains(name, line);
    }

    [Fact]
    public void GenerateRejectsAnUnknownSchedule()
        => Assert.Contains("karras", AssertUsageError("gpaths generate", "generate", "--model", ModelPath("gmm-denoiser.onnx"), "--schedule", "cosmic"));

    [Fact]
    public void GenerateRejectsBothCountAndPerLabel()
        => Assert.Contains("not both", AssertUsageError("gpaths generate", "generate", "--model", ModelPath("gmm-denoiser.onnx"), "--count", "4", "--per-label", "2"));

    [Theory]
    [InlineData("--out")]
    [InlineData("--labels-out")]
    [InlineData("--grid")]
    public void GenerateRejectsAnUnwritableOutput(string option)
    {
        Assert.Contains("does not exist", AssertUsageError("gpaths generate", "generate", "--model", ModelPath("gmm-denoiser.onnx"), option, "/no/such/folder/x.npy"));
        var dir = TempDir();
        try { Assert.Contains("is a folder", AssertUsageError("gpaths generate", "generate", "--model", ModelPath("gmm-denoiser.onnx"), option, dir)); }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void GenerateRejectsABadCard()
    {
        var dir = TempDir();
        try
        {
            string model = Path.Combine(dir, "m.onnx");
            File.WriteAllBytes(model, [1, 2, 3]);
            string card = Path.Combine(dir, "card.json");
            AssertUsageError("gpaths generate", "generate", "--model", model); // no card beside it
            foreach (var text in new[] { "", "{", "[1, 2]", "{\"format\": \"gpaths-model/1\", \"kind\": \"denoiser\"}", "\u0000\u0001binary" })
            {
                File.WriteAllText(card, text);
                AssertUsageError("gpaths generate", "generate", "--model", model, "--card", card);
            }
            File.WriteAllText(card, """{"format": "gpaths-model/1", "kind": "classifier", "inputs": {"sample": "x"}, "output": "logits", "classes": 10, "sample_shape": [64]}""");
            Assert.Contains("not a denoiser", AssertUsageError("gpaths generate", "generate", "--model", model, "--card", card));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("--samplers", "euler,magic", "unknown sampler")]
    [InlineData("--nfe", "2,x", "--nfe needs")]
    [InlineData("--nfe", "0", "--nfe needs")]
    [InlineData("--count", "1", "--count must")]
    [InlineData("--guidance", "nan", "--guidance needs")]
    public void CompareRejectsBadOptions(string option, string value, string message)
    {
        var dir = TempDir();
        try
        {
            Assert.Contains(message, AssertUsageError("gpaths compare", "compare", "--model", ModelPath("gmm-denoiser.onnx"), "--data", "d.npy", "--out", dir, option, value));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void CompareRejectsMissingAndBadDataFiles()
    {
        var dir = TempDir();
        try
        {
            Assert.Contains("does not exist", AssertUsageError("gpaths compare", "compare", "--model", ModelPath("gmm-denoiser.onnx"), "--data", Path.Combine(dir, "none.npy"), "--out", dir));
            string bad = Path.Combine(dir, "bad.npy");
            File.WriteAllText(bad, "not numpy");
            Assert.Contains("not a NumPy", AssertUsageError("gpaths compare", "compare", "--model", ModelPath("gmm-denoiser.onnx"), "--data", bad, "--out", dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void PathsRejectsAnUnwritableOutput()
        => Assert.Contains("does not exist", AssertUsageError("gpaths paths", "paths", "--out", "/no/such/folder/paths.png"));

    [Fact]
    public void SamplerCatalogBuildsEverySamplerAndSchedule()
    {
        // The CLI offers exactly the library's catalogue, in its order.
        Assert.Equal(GenerativePaths.Samplers.SamplerCatalog.All.Select(p => p.Name), SamplerCatalog.Samplers.Select(s => s.Name));
        Assert.Equal("karras", SamplerCatalog.Find("DPM++ 2M Karras").Schedule);
        Assert.Equal("dpmpp_2m", SamplerCatalog.Find("DPM++ 2M Karras").Name);
        foreach (var s in SamplerCatalog.Samplers) Assert.NotNull(s.Create());
        var flow = SamplerCatalog.Build("uniform", 5, n => GenerativePaths.Schedules.StepSchedules.Flow(n, null, 1.0));
        Assert.Equal(6, flow.Count);
        Assert.Equal(1.0, flow[0].Sigma, 12);
        foreach (var name in SamplerCatalog.Schedules)
        {
            var s = SamplerCatalog.Build(name, 7, n => GenerativePaths.Schedules.StepSchedules.Karras(n, 0.002, 80));
            Assert.Equal(0.0, s[^1].Sigma);
            Assert.InRange(s.StepCount, 7, 8);
        }
    }
}
