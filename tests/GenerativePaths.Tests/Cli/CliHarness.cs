using System.Text.Json.Nodes;
using GenerativePaths.Cli;
using Xunit;

namespace GenerativePaths.Tests.Cli;

/// <summary>Runs <c>gpaths</c> in process and checks the exit-code contract.</summary>
internal static class CliHarness
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = GenerativePaths.Cli.Cli.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Asserts exit 2 with exactly one line on stderr, prefixed by the command, and no stack frame.</summary>
    public static string AssertUsageError(string command, params string[] args)
    {
        var (code, _, err) = Run(args);
        Assert.True(code == 2, $"exit {code} for '{string.Join(' ', args)}'; stderr: {err}");
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr for '{string.Join(' ', args)}', got: {err}");
        Assert.DoesNotContain("   at ", err);
        Assert.StartsWith(command + ": ", lines[0]);
        return lines[0];
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "gpaths-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    public static string ModelPath(string name) => Path.Combine(ReferenceCases.RepositoryRoot, "models", name);

    public static JsonObject LoadCase(string file) => JsonNode.Parse(File.ReadAllText(ReferenceCases.PathOf(file)))!.AsObject();
}
