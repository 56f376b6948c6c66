using GenerativePaths.Cli;
using GenerativePaths.Models;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using SkiaSharp;
using Xunit;
using static GenerativePaths.Tests.Cli.CliHarness;

namespace GenerativePaths.Tests.Cli;

/// <summary><c>paths</c> and <c>compare</c> in process, the comparison on the exact Gaussian-mixture model.</summary>
public sealed class PathsAndCompareTests
{
    [Fact]
    public void PathsWritesAPng()
    {
        var dir = TempDir();
        try
        {
            string png = Path.Combine(dir, "paths.png");
            var (code, output, err) = Run("paths", "--out", png, "--count", "12", "--steps", "10");
            Assert.True(code == 0, err);
            Assert.StartsWith("paths: 12 trajectories", output);
            using var bitmap = SKBitmap.Decode(png);
            Assert.Equal(3 * 520, bitmap.Width);
            Assert.Equal(560, bitmap.Height);
        }
        finally { Directory.Delete(dir, true); }
    }

    private static GenerationModel ExactModel(GaussianMixture mixture, int classes = 0) => new(
        new GaussianMixtureModel<float>(mixture, Prediction.Data, ModelTimeMaps.VarianceExploding()), [mixture.Dimension], classes, null, null,
        n => StepSchedules.Karras(n, 0.002, 80), SamplerCatalog.Find("euler"), "exact-gmm");

    [Fact]
    public void CompareOnTheExactModelFitsBudgetsAndWritesTableAndPlot()
    {
        var mixture = GaussianMixture.Isotropic([0.5, 0.5], [[-2.0, 0.0], [2.0, 1.0]], [0.4, 0.6]);
        using var real = BatchTensor<float>.Allocate(400, 2);
        mixture.Sample(real, 11);
        var dir = TempDir();
        try
        {
            var settings = new CompareCommand.Settings(["euler", "heun", "dpmpp_2m"], [1, 4, 16], 200, 1.0, "default", 3, 1, dir);
            var stdout = new StringWriter();
            var rows = CompareCommand.Run(ExactModel(mixture), null, real.Span.ToArray(), 400, 2, settings, stdout, new StringWriter());
            Assert.Equal(9, rows.Count);
            Assert.All(rows, r => Assert.True(double.IsFinite(r.Frechet) && r.Frechet >= 0));
            Assert.All(rows, r => Assert.True(r.Nfe <= r.Budget));
            // Heun's last step to sigma = 0 is one Euler evaluation: 2N - 1 evaluations for N steps, so budget 4 runs 2 steps (3).
            Assert.Equal((2, 3L), rows.Where(r => r.Sampler == "heun" && r.Budget == 4).Select(r => (r.Steps, r.Nfe)).Single());
            Assert.All(rows.Where(r => r.Sampler != "heun"), r => Assert.Equal(r.Budget, r.Nfe));
            // More evaluations bring the deterministic samplers closer to the data (16 vs 1 for Euler).
            Assert.True(rows.Single(r => r.Sampler == "euler" && r.Budget == 16).Frechet < rows.Single(r => r.Sampler == "euler" && r.Budget == 1).Frechet);
            string md = File.ReadAllText(Path.Combine(dir, "compare.md"));
            Assert.Contains("pixel space", md);
            Assert.Contains("| dpmpp_2m | 16 |", md);
            using var bitmap = SKBitmap.Decode(Path.Combine(dir, "compare.png"));
            Assert.Equal(900, bitmap.Width);
            Assert.Equal(600, bitmap.Height);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void GenerationNoiseIsKeyedBySampleIndex()
    {
        var mixture = GaussianMixture.Isotropic([1.0], [[0.5, -0.5, 1.0]], [0.7]);
        var model = ExactModel(mixture);
        var sampler = SamplerCatalog.Find("ddpm").Create();
        var schedule = model.DefaultSchedule(8);
        var small = Generation.Run(model, sampler, schedule, 5, null, 1.0, 42);
        var large = Generation.Run(model, sampler, schedule, Generation.BatchSize + 7, null, 1.0, 42);
        Assert.Equal(small.Samples, large.Samples.AsSpan(0, small.Samples.Length).ToArray());
        var other = Generation.Run(model, sampler, schedule, 5, null, 1.0, 43);
        Assert.NotEqual(small.Samples, other.Samples);
    }
}
