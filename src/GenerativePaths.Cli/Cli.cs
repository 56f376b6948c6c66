using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using System.Text.Json;

namespace GenerativePaths.Cli;

/// <summary>
/// The <c>gpaths</c> command tree on System.CommandLine, runnable in process with given writers.
/// </summary>
/// <remarks>
/// Exit codes of every command: 0 success, 1 outside tolerance (<c>reference</c>), 2 a usage or input error (one line on
/// standard error, <c>gpaths COMMAND: message</c>), 3 unsupported (<c>reference</c>). No exception leaves <see cref="Run"/>.
/// </remarks>
internal static class Cli
{
    internal const int ExitOk = 0, ExitOutside = 1, ExitUsage = 2, ExitUnsupported = 3;

    /// <summary>Parses and runs <paramref name="args"/>; never throws.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = BuildRoot(stdout, stderr);
        if (args.Length == 0)
        {
            stderr.WriteLine("gpaths: a command is needed (" + string.Join(", ", root.Subcommands.Select(c => c.Name)) + "); run 'gpaths --help'.");
            return ExitUsage;
        }
        ParseResult parse;
        try
        {
            parse = root.Parse(args);
        }
        catch (Exception e)
        {
            stderr.WriteLine($"gpaths: {OneLine(e.Message)}");
            return ExitUsage;
        }
        string command = CommandPath(parse);
        if (parse.Errors.Count > 0 && parse.Action is not { ClearsParseErrors: true })
        {
            // An unrecognised token explains a missing command better than the missing command does.
            var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            stderr.WriteLine($"{command}: {OneLine(error.Message)}");
            return ExitUsage;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            stderr.WriteLine($"{command}: {message}");
            return ExitUsage;
        }
    }

    /// <summary>The message of an error that is the user's input, or, for anything else, its type and message (still one line).</summary>
    private static string? Describe(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerException!;
        if (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
        return e switch
        {
            CommandLineException or GenerativePaths.Models.ModelCardException or GenerativePaths.Samplers.NonFiniteModelOutputException => OneLine(e.Message),
            JsonException => "invalid JSON: " + OneLine(e.Message),
            FileNotFoundException f => $"file not found: {f.FileName ?? OneLine(f.Message)}",
            DirectoryNotFoundException => OneLine(e.Message),
            UnauthorizedAccessException => OneLine(e.Message),
            IOException => OneLine(e.Message),
            ArgumentException => OneLine(e.Message),
            FormatException or InvalidDataException or KeyNotFoundException or InvalidOperationException or NotSupportedException
                or OverflowException or ArithmeticException => OneLine(e.Message),
            _ when e.GetType().Name.EndsWith("Exception", StringComparison.Ordinal) => $"{e.GetType().Name}: {OneLine(e.Message)}",
            _ => OneLine(e.Message),
        };
    }

    internal static string OneLine(string message)
        => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Add(r.Command is RootCommand ? "gpaths" : r.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    internal static RootCommand BuildRoot(TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("gpaths: samplers and ODE integrators for generative models (GenerativePaths). "
            + "Exit codes: 0 ok, 1 outside tolerance (reference), 2 usage or input error, 3 unsupported (reference).");
        foreach (var option in root.Options)
            if (option is VersionOption version) version.Action = new VersionAction();
        root.Add(DemoCommand.Create(stdout));
        root.Add(ReferenceCommand.Create(stdout, stderr));
        root.Add(GenerateCommand.Create(stdout, stderr));
        root.Add(CompareCommand.Create(stdout, stderr));
        root.Add(PathsCommand.Create(stdout));
        root.Add(DecodeCommand.Create(stdout, stderr));
        root.Add(MergeCommand.Create(stdout));
        return root;
    }
}

/// <summary>Prints the tool's own version (not the host process's).</summary>
internal sealed class VersionAction : SynchronousCommandLineAction
{
    public static string Version => typeof(Cli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.WriteLine($"gpaths {Version}");
        return Cli.ExitOk;
    }
}

/// <summary>A usage or input error reported to the user with exit code 2.</summary>
internal sealed class CommandLineException(string message) : Exception(message);
