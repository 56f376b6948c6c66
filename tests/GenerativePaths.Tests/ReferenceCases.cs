using System.Text.Json;

namespace GenerativePaths.Tests;

/// <summary>Locates and loads the shared reference cases (<c>../shared/reference</c> relative to the repository root).</summary>
public static class ReferenceCases
{
    /// <summary>The repository root: the nearest ancestor of the test assembly that holds GenerativePaths.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GenerativePaths.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException($"GenerativePaths.sln not found above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>The folder of reference cases.</summary>
    public static string Folder => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "reference"));

    /// <summary>The full path of a case; a missing file fails the test.</summary>
    public static string PathOf(string fileName)
    {
        var path = Path.Combine(Folder, fileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"Reference case '{fileName}' is missing from {Folder}.", path);
        return path;
    }

    /// <summary>Parses a case.</summary>
    public static JsonDocument Load(string fileName) => JsonDocument.Parse(File.ReadAllText(PathOf(fileName)));
}
