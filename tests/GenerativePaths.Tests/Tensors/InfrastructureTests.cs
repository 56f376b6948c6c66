using Xunit;

namespace GenerativePaths.Tests.Tensors;

public class InfrastructureTests
{
    [Fact]
    public void ReferenceFolderIsPresent() => Assert.True(File.Exists(ReferenceCases.PathOf("README.md")));
}
