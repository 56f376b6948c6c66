using System.Text.Json;

namespace GenerativePaths.Cli;

/// <summary>
/// <c>gpaths reference CASE.json [--out OUT.json] [--tol 1e-4]</c>: runs one reference case of
/// <c>shared/reference</c> with the library and compares with the peer's result.
/// </summary>
internal static class ReferenceCommand
{
    internal const int ExitWithin = 0, ExitOutside = 1, ExitUsage = 2, ExitUnsupported = 3;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? casePath = null, outPath = null;
        double tol = 1e-4;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out":
                    outPath = i + 1 < args.Length ? args[++i] : throw new CommandLineException("--out needs a file name.");
                    break;
                case "--tol":
                    if (i + 1 >= args.Length || !double.TryParse(args[++i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out tol) || !(tol >= 0))
                        throw new CommandLineException("--tol needs a non-negative number.");
                    break;
                default:
                    if (args[i].StartsWith("--", StringComparison.Ordinal)) throw new CommandLineException($"unknown option '{args[i]}' for 'reference'.");
                    if (casePath is not null) throw new CommandLineException("'reference' takes one case file.");
                    casePath = args[i];
                    break;
            }
        }
        if (casePath is null) throw new CommandLineException("'reference' needs a case file: gpaths reference CASE.json [--out OUT.json] [--tol 1e-4]");
        if (!File.Exists(casePath)) throw new CommandLineException($"case file '{casePath}' does not exist.");

        using var doc = JsonDocument.Parse(File.ReadAllText(casePath));
        var root = doc.RootElement;
        string name = root.TryGetProperty("case", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : Path.GetFileNameWithoutExtension(casePath);

        var outcome = Dispatch(name, root);
        if (outcome.Unsupported is not null)
        {
            stderr.WriteLine($"gpaths reference: {name}: not supported yet: {outcome.Unsupported}");
            return ExitUnsupported;
        }
        if (outPath is not null) File.WriteAllText(outPath, outcome.OutputJson);
        foreach (var line in outcome.Report) stdout.WriteLine(line);
        if (double.IsNaN(outcome.MaxAbsDifference))
        {
            stdout.WriteLine($"{name}: no comparable result");
            return ExitOutside;
        }
        bool ok = outcome.MaxAbsDifference <= tol;
        stdout.WriteLine($"{name}: max abs difference {outcome.MaxAbsDifference:E3} ({(ok ? "within" : "outside")} tolerance {tol:G3})");
        return ok ? ExitWithin : ExitOutside;
    }

    /// <summary>Chooses the runner by the case's form.</summary>
    internal static ReferenceOutcome Dispatch(string name, JsonElement root)
    {
        if (root.TryGetProperty("y_end_reference", out _)) return OdeReference.Run(name, root);
        if (root.TryGetProperty("config", out _)) return DiffusersReference.Run(name, root);
        if (root.TryGetProperty("sigmas", out _)) return KDiffusionReference.Run(name, root);
        return ReferenceOutcome.NotSupported($"the case format of '{name}' is not recognised (no 'config', 'sigmas' or 'y_end_reference').");
    }
}

/// <summary>The result of running one reference case.</summary>
/// <param name="OutputJson">The JSON written to <c>--out</c>.</param>
/// <param name="MaxAbsDifference">The figure compared with <c>--tol</c> (NaN when nothing was comparable).</param>
/// <param name="Report">Lines printed before the verdict (tables, details).</param>
/// <param name="Unsupported">When not null, what the case needs that the library does not have.</param>
internal sealed record ReferenceOutcome(string OutputJson, double MaxAbsDifference, IReadOnlyList<string> Report, string? Unsupported = null)
{
    public static ReferenceOutcome NotSupported(string what) => new("{}", double.NaN, [], what);
}
