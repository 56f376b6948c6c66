using System.Text.Json;

namespace GenerativePaths.Cli;

/// <summary>Runs the Diffusers reference cases of <c>shared/reference</c>.</summary>
internal static class DiffusersReference
{
    public static ReferenceOutcome Run(string name, JsonElement root)
        => ReferenceOutcome.NotSupported("the Diffusers cases are not implemented yet.");
}
