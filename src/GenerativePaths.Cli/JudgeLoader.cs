namespace GenerativePaths.Cli;

/// <summary>Loads a classifier ONNX model (card beside it) as a judge for <c>compare</c>.</summary>
internal static class JudgeLoader
{
    /// <exception cref="CommandLineException">A missing file or a card that is not a classifier's.</exception>
    public static IJudge Load(string path)
    {
        if (!File.Exists(path)) throw new CommandLineException($"judge model '{path}' does not exist.");
        throw new CommandLineException("this build has no ONNX Runtime adapter yet.");
    }
}
