using System.Text.Json;

namespace GenerativePaths.Cli;

/// <summary>Runs the KDiffusion reference cases of <c>shared/reference</c>.</summary>
internal static class KDiffusionReference
{
    public static ReferenceOutcome Run(string name, JsonElement root)
        => ReferenceOutcome.NotSupported("the KDiffusion cases are not implemented yet.");
}
