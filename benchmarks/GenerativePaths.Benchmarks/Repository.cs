namespace GenerativePaths.Benchmarks;

/// <summary>Where the benchmarks find the repository's files (models, fixtures) from their build output.</summary>
internal static class Repository
{
    /// <summary>The folder that holds <c>GenerativePaths.sln</c>, searched upwards from the running assembly.</summary>
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GenerativePaths.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("GenerativePaths.sln not found.");
    }
}
