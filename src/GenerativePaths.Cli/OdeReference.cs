using System.Text.Json;

namespace GenerativePaths.Cli;

/// <summary>Runs the Ode reference cases of <c>shared/reference</c>.</summary>
internal static class OdeReference
{
    public static ReferenceOutcome Run(string name, JsonElement root)
        => ReferenceOutcome.NotSupported("the Ode cases are not implemented yet.");
}
