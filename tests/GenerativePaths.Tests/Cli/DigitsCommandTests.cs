using GenerativePaths.Cli;
using SkiaSharp;
using Xunit;
using static GenerativePaths.Tests.Cli.CliHarness;

namespace GenerativePaths.Tests.Cli;

/// <summary><c>generate</c> and <c>compare</c> on the shipped digits models (8x8 images in [-1, 1]).</summary>
public sealed class DigitsCommandTests
{
    [Theory]
    [InlineData("digits-flow.onnx")]
    [InlineData("digits-ddpm.onnx")]
    public void GenerateWritesSamplesLabelsAndAGrid(string model)
    {
        var dir = TempDir();
        try
        {
            string x = Path.Combine(dir, "x.npy"), l = Path.Combine(dir, "l.npy"), g = Path.Combine(dir, "g.png");
            var (code, output, err) = Run("generate", "--model", ModelPath(model), "--steps", "6", "--guidance", "2", "--labels", "3-5", "--per-label", "4",
                "--out", x, "--labels-out", l, "--grid", g);
            Assert.True(code == 0, err);
            Assert.Contains("12 samples", output);
            var samples = NpyFile.Read(x);
            Assert.Equal([12, 64], samples.Shape);
            Assert.All(samples.Floats!, v => Assert.True(float.IsFinite(v)));
            Assert.Equal(new long[] { 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5 }, NpyFile.Read(l).Longs);
            using var png = SKBitmap.Decode(g);
            var (w, h) = ImageGrid.Size(new ImageLayout(8, 8, 1, -1, 1), 3, 4);
            Assert.Equal((w, h), (png.Width, png.Height));
            Assert.Equal((4 * 8 * ImageGrid.Scale + 5 * ImageGrid.Gap, 3 * 8 * ImageGrid.Scale + 4 * ImageGrid.Gap), (w, h));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void CompareWithTheJudgeReportsFeatureSpaceAndAccuracy()
    {
        var dir = TempDir();
        try
        {
            var (code, output, err) = Run("compare", "--model", ModelPath("digits-flow.onnx"), "--samplers", "flow_euler,heun", "--nfe", "2,4",
                "--count", "40", "--guidance", "2", "--judge", ModelPath("digits-judge.onnx"), "--data", ModelPath("digits-data.npy"), "--out", dir);
            Assert.True(code == 0, err);
            string md = File.ReadAllText(Path.Combine(dir, "compare.md"));
            Assert.Contains("judge's feature space", md);
            Assert.Contains("label accuracy", md);
            Assert.Contains("| flow_euler | 4 |", md);
            Assert.Contains("compare: 4 runs", output);
            using var png = SKBitmap.Decode(Path.Combine(dir, "compare.png"));
            Assert.Equal(900, png.Width);
        }
        finally { Directory.Delete(dir, true); }
    }
}
