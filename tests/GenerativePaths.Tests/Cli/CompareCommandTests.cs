using GenerativePaths.Cli;
using GenerativePaths.Models;
using GenerativePaths.Tensors;
using SkiaSharp;
using Xunit;
using static GenerativePaths.Tests.Cli.CliHarness;

namespace GenerativePaths.Tests.Cli;

/// <summary><c>gpaths compare</c> through the command line on the shipped ONNX models.</summary>
public sealed class CompareCommandTests
{
    [Fact]
    public void CompareOnTheGmmDenoiserWritesBothFiles()
    {
        var dir = TempDir();
        try
        {
            // Real data: the card's mixture (its classes are its components).
            var mixture = GaussianMixture.Isotropic([0.2, 0.5, 0.3], [[-2.0, 0.0, 1.0], [1.5, 1.0, -0.5], [0.0, -1.5, 0.5]], [0.3, 0.5, 0.4]);
            using var real = BatchTensor<float>.Allocate(300, 3);
            mixture.Sample(real, 5);
            string data = Path.Combine(dir, "real.npy");
            NpyFile.WriteFloat32(data, real.Span, [300, 3]);
            string outDir = Path.Combine(dir, "out");
            var (code, output, err) = Run("compare", "--model", ModelPath("gmm-denoiser.onnx"), "--data", data, "--samplers", "euler,heun,ddpm",
                "--nfe", "2,4", "--count", "60", "--out", outDir);
            Assert.True(code == 0, err);
            Assert.Contains("| euler | 4 |", output);
            Assert.Contains("compare: 6 runs of 60 samples", output);
            string md = File.ReadAllText(Path.Combine(outDir, "compare.md"));
            Assert.Contains("pixel space", md);
            Assert.DoesNotContain("accuracy", md);
            using var png = SKBitmap.Decode(Path.Combine(outDir, "compare.png"));
            Assert.Equal((900, 600), (png.Width, png.Height));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void CompareRejectsAJudgeThatIsNotAClassifierAndDataOfTheWrongWidth()
    {
        var dir = TempDir();
        try
        {
            Assert.Contains("rows hold 64 values", AssertUsageError("gpaths compare", "compare", "--model", ModelPath("gmm-denoiser.onnx"),
                "--data", ModelPath("digits-data.npy"), "--out", dir));
            Assert.Contains("not a classifier", AssertUsageError("gpaths compare", "compare", "--model", ModelPath("gmm-denoiser.onnx"),
                "--data", ModelPath("digits-data.npy"), "--judge", ModelPath("gmm-denoiser.onnx"), "--out", dir));
            Assert.Contains("holds integers", AssertUsageError("gpaths compare", "compare", "--model", ModelPath("gmm-denoiser.onnx"),
                "--data", ModelPath("digits-labels.npy"), "--out", dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ShippedDigitsDataReadsBack()
    {
        var data = NpyFile.Read(ModelPath("digits-data.npy"));
        Assert.Equal([1797, 64], data.Shape);
        Assert.All(data.Floats!, v => Assert.InRange(v, -1f, 1f));
        var labels = NpyFile.Read(ModelPath("digits-labels.npy"));
        Assert.Equal([1797], labels.Shape);
        Assert.All(labels.Longs!, l => Assert.InRange(l, 0, 9));
    }
}
