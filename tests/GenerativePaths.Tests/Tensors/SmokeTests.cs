using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Tensors;

public class SmokeTests
{
    [Fact]
    public void TwoTermCombinationMatchesScalarLoop()
    {
        var x = Enumerable.Range(0, 37).Select(i => (double)i).ToArray();
        var y = Enumerable.Range(0, 37).Select(i => (double)(i * i)).ToArray();
        var d = new double[37];
        TensorKernels.LinearCombination<double>(d, 0.5, x, -2.0, y);
        for (int i = 0; i < d.Length; i++) Assert.Equal(0.5 * x[i] - 2.0 * y[i], d[i]);
    }

    [Fact]
    public void ReferenceFolderIsPresent() => Assert.True(File.Exists(ReferenceCases.PathOf("README.md")));
}
