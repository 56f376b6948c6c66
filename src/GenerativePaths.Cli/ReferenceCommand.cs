using System.CommandLine;
using System.Text.Json;

namespace GenerativePaths.Cli;

/// <summary>
/// <c>gpaths reference CASE.json [--out OUT.json] [--tol 1e-4]</c>: runs one reference case of
/// <c>shared/reference</c> with the library and compares with the peer's result.
/// </summary>
internal static class ReferenceCommand
{
    internal const int ExitWithin = 0, ExitOutside = 1, ExitUsage = 2, ExitUnsupported = 3;

    /// <summary>Runs <c>gpaths reference ARGS</c> in process (the arguments after the command name).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Cli.Run(["reference", .. args], stdout, stderr);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var casePath = new Argument<string>("CASE.json") { Description = "The reference case to replay." };
        var outPath = Options.Path("--out", "Write the library's result (x_final, trajectory, model call times, NFE) to this JSON file.");
        var tol = Options.Double("--tol", "The largest accepted max-abs difference from the case's x_final.", 1e-4, min: 0);
        var command = new Command("reference", "Replay a reference case of shared/reference with the library and compare with its x_final. "
            + "Exit codes: 0 within tolerance, 1 outside it, 2 usage or input error, 3 the case needs something the library does not have.")
        {
            casePath, outPath, tol,
        };
        command.SetAction(parse => Execute(parse.GetValue(casePath)!, parse.GetValue(outPath), parse.GetValue(tol), stdout, stderr));
        return command;
    }

    private static int Execute(string casePath, string? outPath, double tol, TextWriter stdout, TextWriter stderr)
    {
        if (!File.Exists(casePath)) throw new CommandLineException($"case file '{casePath}' does not exist.");
        if (outPath is not null) Options.CheckWritable(outPath, "--out");
        string text = File.ReadAllText(casePath);
        if (string.IsNullOrWhiteSpace(text)) throw new CommandLineException($"case file '{casePath}' is empty.");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new CommandLineException($"case file '{casePath}' is not valid JSON: {Cli.OneLine(e.Message)}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CommandLineException($"case file '{casePath}' holds a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object.");
            string name = root.TryGetProperty("case", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : Path.GetFileNameWithoutExtension(casePath);

            ReferenceOutcome outcome;
            try
            {
                outcome = Dispatch(name, root);
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
            {
                throw new CommandLineException($"{name}: the case is malformed (a field is missing or of the wrong type: {Cli.OneLine(e.Message)})");
            }
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
    }

    /// <summary>Chooses the runner by the case's form.</summary>
    internal static ReferenceOutcome Dispatch(string name, JsonElement root)
    {
        if (root.TryGetProperty("y_end_reference", out _)) return OdeReference.Run(name, root);
        if (root.TryGetProperty("config", out _)) return DiffusersReference.Run(name, root);
        if (root.TryGetProperty("sigmas", out _)) return KDiffusionReference.Run(name, root);
        // A file of another kind (a model card, a result file) is an input error, not a missing sampler.
        throw new CommandLineException($"{name}: not a reference case (it has none of 'config', 'sigmas', 'y_end_reference').");
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
