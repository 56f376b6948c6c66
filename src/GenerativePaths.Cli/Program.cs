using System.Reflection;

namespace GenerativePaths.Cli;

/// <summary>Entry point of the <c>gpaths</c> tool.</summary>
internal static class Program
{
    internal static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp(Console.Out);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            return args[0] switch
            {
                "--version" or "version" => PrintVersion(),
                "demo" => DemoCommand.Run(args[1..], Console.Out),
                "reference" => ReferenceCommand.Run(args[1..], Console.Out, Console.Error),
                _ => Unknown(args[0]),
            };
        }
        catch (CommandLineException e)
        {
            Console.Error.WriteLine($"gpaths: {e.Message}");
            return 2;
        }
    }

    private static int Unknown(string command)
    {
        Console.Error.WriteLine($"gpaths: unknown command '{command}'. Run 'gpaths --help'.");
        return 2;
    }

    private static int PrintVersion()
    {
        var version = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        Console.WriteLine($"gpaths {version}");
        return 0;
    }

    internal static void PrintHelp(TextWriter w)
    {
        w.WriteLine("gpaths: samplers and ODE integrators for generative models (GenerativePaths)");
        w.WriteLine();
        w.WriteLine("Usage:");
        w.WriteLine("  gpaths demo [options]                      run the built-in demo on the analytic Gaussian-mixture model");
        w.WriteLine("  gpaths reference CASE.json [--out OUT.json] [--tol 1e-4]");
        w.WriteLine("                                             replay a reference case and compare with its x_final");
        w.WriteLine("  gpaths --version                           print the version");
        w.WriteLine("  gpaths --help                              print this help");
        w.WriteLine();
        w.WriteLine("Exit codes of 'reference': 0 within tolerance, 1 outside it, 3 when the case needs a");
        w.WriteLine("sampler or solver the library does not have, 2 for a usage or input error.");
    }
}

/// <summary>A usage or input error reported to the user with exit code 2.</summary>
internal sealed class CommandLineException(string message) : Exception(message);
