using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace GenerativePaths.Tests.Cli;

/// <summary>The package READMEs: install line first, no links a package reader cannot follow, the example the tests run.</summary>
public sealed partial class PackageReadmeTests
{
    private static string Root => ReferenceCases.RepositoryRoot;

    public static TheoryData<string, string> Readmes => new()
    {
        { "src/GenerativePaths/PACKAGE.md", "dotnet add package GenerativePaths" },
        { "src/GenerativePaths.OnnxRuntime/PACKAGE.md", "dotnet add package GenerativePaths.OnnxRuntime" },
        { "src/GenerativePaths.Cli/TOOL.md", "dotnet tool install --global gpaths" },
    };

    [Theory]
    [MemberData(nameof(Readmes))]
    public void InstallLineComesFirstAndEveryLinkIsAbsolute(string file, string install)
    {
        string text = File.ReadAllText(Path.Combine(Root, file));
        var firstBlock = CodeBlock().Match(text);
        Assert.True(firstBlock.Success, $"{file} has no code block");
        Assert.StartsWith(install, firstBlock.Groups[2].Value.TrimStart());
        Assert.True(text.IndexOf(firstBlock.Value, StringComparison.Ordinal) < text.IndexOf("\n## ", StringComparison.Ordinal), $"{file}: the install block is not before the first section");
        foreach (Match link in Link().Matches(text))
            Assert.True(link.Groups[1].Value.StartsWith("https://", StringComparison.Ordinal), $"{file}: link '{link.Groups[1].Value}' is not absolute");
    }

    [Fact]
    public void LibraryExampleIsTheReadmeExampleThatTheTestsRun()
    {
        // QuickStartExampleTests runs the README's example; the package README carries the same code.
        static string Csharp(string text) => CodeBlock().Matches(text).First(m => m.Groups[1].Value == "csharp" && m.Value.Contains("DiffusersSchedulerConfig.Parse")).Groups[2].Value;
        Assert.Equal(Csharp(File.ReadAllText(Path.Combine(Root, "README.md"))), Csharp(File.ReadAllText(Path.Combine(Root, "src/GenerativePaths/PACKAGE.md"))));
    }

    [Theory]
    [InlineData("src/GenerativePaths/GenerativePaths.csproj", "PACKAGE.md")]
    [InlineData("src/GenerativePaths.OnnxRuntime/GenerativePaths.OnnxRuntime.csproj", "PACKAGE.md")]
    public void PackagesPackTheirOwnReadme(string project, string readme)
    {
        var xml = XDocument.Load(Path.Combine(Root, project));
        Assert.Equal(readme, xml.Descendants("PackageReadmeFile").Single().Value);
        Assert.Contains(xml.Descendants("None"), n => (string?)n.Attribute("Include") == readme && (string?)n.Attribute("Pack") == "true");
        Assert.NotEmpty(xml.Descendants("PackageReleaseNotes").Single().Value);
        Assert.DoesNotContain("parallel-in-time solvers", xml.Descendants("Description").Single().Value, StringComparison.OrdinalIgnoreCase);
    }

    [GeneratedRegex(@"```(\w*)\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex(@"\]\(([^)]+)\)")]
    private static partial Regex Link();
}
