namespace GenerativePaths.Cli;

/// <summary>Entry point of the <c>gpaths</c> tool.</summary>
internal static class Program
{
    internal static int Main(string[] args) => Cli.Run(args, Console.Out, Console.Error);
}
