using GenerativePaths.Cli;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Samplers;
using GenerativePaths.Tensors;
using GenerativePaths.Tests.Onnx;
using Xunit;

namespace GenerativePaths.Tests.Cli;

/// <summary>
/// A model trained elsewhere, described only by its card: <c>gpaths generate</c> on each exact-mixture fixture graph (every path
/// kind, time encoding and prediction type the card format has) gives the samples of the same run on the exact mixture in .NET,
/// with the noise streams the tool documents (start noise stream 1e9 scaled by the first sigma, sampler noise stream = step).
/// </summary>
public class ForeignCardGenerateTests
{
    [Theory]
    [InlineData("gmm-flow-n0")]
    [InlineData("gmm-flow-n1")]
    [InlineData("gmm-vp-eps")]
    [InlineData("gmm-vp-v")]
    [InlineData("gmm-edm-F")]
    [InlineData("gmm-cvp-eps")]
    [InlineData("gmm-ve-score")]
    [InlineData("gmm-ve-x0-named")]
    public void GenerateMatchesTheExactRunOfTheCard(string fixture)
    {
        string dir = CliHarness.TempDir();
        string outPath = Path.Combine(dir, "s.npy");
        const int count = 12, steps = 16, seed = 5;
        var (code, _, err) = CliHarness.Run("generate", "--model", OnnxTestFiles.Fixture(fixture), "--steps", $"{steps}", "--count", $"{count}", "--seed", $"{seed}", "--out", outPath);
        Assert.True(code == 0, err);
        var got = NpyFile.Read(outPath);
        Assert.Equal([count, 3], got.Shape);

        var card = ModelCard.Load(OnnxTestFiles.Fixture(fixture) + ".json");
        var exact = OnnxTestFiles.Oracle<float>(card);
        var schedule = card.CreateSchedule(steps);
        using var x = BatchTensor<float>.Allocate(count, 3);
        var noise = new PhiloxNoise(seed);
        noise.Fill(x, Generation.StartNoiseStream);
        TensorKernels.LinearCombination(x.Span, (float)schedule[0].Sigma, x.Span);
        SamplingLoop.Run(exact, x, schedule, card.CreateDefaultSampler(), noise);
        var want = x.Span.ToArray();
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got.Floats![i]) <= 1e-4 * (1 + Math.Abs(want[i])), $"{fixture}: element {i} is {got.Floats![i]}, the exact run gives {want[i]}");
        Directory.Delete(dir, true);
    }
}
