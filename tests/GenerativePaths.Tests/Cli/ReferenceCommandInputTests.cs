using System.Text.Json.Nodes;
using Xunit;
using static GenerativePaths.Tests.Cli.CliHarness;

namespace GenerativePaths.Tests.Cli;

/// <summary><c>gpaths reference</c> on bad input: exit 2 and one line, never a stack trace.</summary>
public sealed class ReferenceCommandInputTests
{
    private static string Write(string dir, string name, byte[] bytes)
    {
        string p = Path.Combine(dir, name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    private static string Write(string dir, string name, string text) => Write(dir, name, System.Text.Encoding.UTF8.GetBytes(text));

    [Fact]
    public void BadCaseFilesExitTwoWithOneLine()
    {
        var dir = TempDir();
        try
        {
            string good = File.ReadAllText(ReferenceCases.PathOf("diffusers_ddim_eps_leading_10.json"));
            Assert.Contains("empty", AssertUsageError("gpaths reference", "reference", Write(dir, "empty.json", "")));
            Assert.Contains("not valid JSON", AssertUsageError("gpaths reference", "reference", Write(dir, "truncated.json", good[..(good.Length / 2)])));
            Assert.Contains("not valid JSON", AssertUsageError("gpaths reference", "reference", Write(dir, "binary.json", [0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255, 254])));
            Assert.Contains("not an object", AssertUsageError("gpaths reference", "reference", Write(dir, "array.json", "[1, 2, 3]")));
            Assert.Contains("not an object", AssertUsageError("gpaths reference", "reference", Write(dir, "number.json", "42")));

            var noSteps = JsonNode.Parse(good)!.AsObject();
            noSteps.Remove("set_timesteps");
            Assert.Contains("set_timesteps", AssertUsageError("gpaths reference", "reference", Write(dir, "nosteps.json", noSteps.ToJsonString())));

            var zero = JsonNode.Parse(good)!.AsObject();
            zero["set_timesteps"]!["num_inference_steps"] = 0;
            Assert.Contains("at least 1", AssertUsageError("gpaths reference", "reference", Write(dir, "zero.json", zero.ToJsonString())));

            var noInit = JsonNode.Parse(good)!.AsObject();
            noInit.Remove("x_init");
            AssertUsageError("gpaths reference", "reference", Write(dir, "noinit.json", noInit.ToJsonString()));

            string ok = Write(dir, "ok.json", good);
            Assert.Contains("does not exist", AssertUsageError("gpaths reference", "reference", ok, "--out", "/no/such/folder/out.json"));
            Assert.Contains("is a folder", AssertUsageError("gpaths reference", "reference", ok, "--out", dir));
            Assert.Contains("--tol", AssertUsageError("gpaths reference", "reference", ok, "--tol", "-1"));
            Assert.Contains("--tol", AssertUsageError("gpaths reference", "reference", ok, "--tol", "abc"));
            AssertUsageError("gpaths reference", "reference");
            AssertUsageError("gpaths reference", "reference", ok, ok);
            Assert.Contains("does not exist", AssertUsageError("gpaths reference", "reference", Path.Combine(dir, "none.json")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AGoodCaseStillPassesThroughTheParser()
    {
        var (code, output, _) = Run("reference", ReferenceCases.PathOf("diffusers_ddim_eps_leading_10.json"), "--tol", "1e-4");
        Assert.Equal(0, code);
        Assert.Contains("within tolerance", output);
    }
}

/// <summary>A JSON file of another kind handed to <c>gpaths reference</c> is an input error (exit 2), not an unsupported case (exit 3).</summary>
public class ReferenceWrongKindTests
{
    [Fact]
    public void AModelCardIsNotAReferenceCase()
    {
        string line = CliHarness.AssertUsageError("gpaths reference", "reference", CliHarness.ModelPath("digits-flow.onnx.json"));
        Assert.Contains("not a reference case", line);
    }
}
