using BenchmarkDotNet.Running;

namespace GenerativePaths.Benchmarks;

/// <summary>Runs the benchmarks chosen on the command line, e.g. <c>--filter *Combine*</c>.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Not a BenchmarkDotNet run: the parallel-in-time table (counts, differences, Fréchet distances).
        if (args.Length > 0 && args[0] == "--parallel-report") return ParallelInTimeReport.Run(args);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
