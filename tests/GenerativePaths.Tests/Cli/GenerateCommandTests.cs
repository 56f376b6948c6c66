using GenerativePaths.Cli;
using SkiaSharp;
using Xunit;
using static GenerativePaths.Tests.Cli.CliHarness;

namespace GenerativePaths.Tests.Cli;

/// <summary><c>gpaths generate</c> in process on the shipped ONNX models.</summary>
public sealed class GenerateCommandTests
{
    private static float[] ReadSamples(string path, params int[] shape)
    {
        var a = NpyFile.Read(path);
        Assert.Equal(shape, a.Shape);
        Assert.NotNull(a.Floats);
        Assert.All(a.Floats!, v => Assert.True(float.IsFinite(v)));
        return a.Floats!;
    }

    [Fact]
    public void GmmDenoiserWritesSamplesAndLabels()
    {
        var dir = TempDir();
        try
        {
            string x = Path.Combine(dir, "x.npy"), l = Path.Combine(dir, "l.npy");
            var (code, output, err) = Run("generate", "--model", ModelPath("gmm-denoiser.onnx"), "--steps", "8", "--labels", "0,2", "--per-label", "3",
                "--out", x, "--labels-out", l, "--guidance", "2", "--sampler", "heun");
            Assert.True(code == 0, err);
            Assert.StartsWith("generate: 6 samples of gmm-denoiser, heun", output);
            Assert.Contains("NFE 15", output); // 2 per step, 1 on the last
            ReadSamples(x, 6, 3);
            var labels = NpyFile.Read(l);
            Assert.Equal([6], labels.Shape);
            Assert.Equal(new long[] { 0, 0, 0, 2, 2, 2 }, labels.Longs);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void SameSeedGivesIdenticalFilesAndCountsArePrefixes()
    {
        var dir = TempDir();
        try
        {
            string a = Path.Combine(dir, "a.npy"), b = Path.Combine(dir, "b.npy"), c = Path.Combine(dir, "c.npy"), d = Path.Combine(dir, "d.npy");
            string[] common = ["generate", "--model", ModelPath("gmm-denoiser.onnx"), "--steps", "6", "--sampler", "euler_a", "--seed", "7"];
            Assert.Equal(0, Run([.. common, "--count", "5", "--out", a]).Code);
            Assert.Equal(0, Run([.. common, "--count", "5", "--out", b]).Code);
            Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
            Assert.Equal(0, Run([.. common, "--count", "300", "--out", c]).Code);
            var small = ReadSamples(a, 5, 3);
            var large = ReadSamples(c, 300, 3);
            Assert.Equal(small, large[..small.Length]);
            Assert.Equal(0, Run([.. common[..^1], "8", "--count", "5", "--out", d]).Code);
            Assert.NotEqual(small, ReadSamples(d, 5, 3));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void EverySamplerAndScheduleRunsOnTheGmmDenoiser()
    {
        var dir = TempDir();
        try
        {
            string x = Path.Combine(dir, "x.npy");
            foreach (var s in SamplerCatalog.Samplers)
                foreach (var schedule in SamplerCatalog.Schedules)
                {
                    var (code, _, err) = Run("generate", "--model", ModelPath("gmm-denoiser.onnx"), "--steps", "5", "--count", "4", "--sampler", s.Name, "--schedule", schedule, "--out", x);
                    Assert.True(code == 0, $"{s.Name} on {schedule}: {err}");
                    ReadSamples(x, 4, 3);
                }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ModelInputErrorsExitTwo()
    {
        var dir = TempDir();
        try
        {
            string x = Path.Combine(dir, "x.npy");
            Assert.Contains("outside the classes", AssertUsageError("gpaths generate", "generate", "--model", ModelPath("gmm-denoiser.onnx"), "--labels", "0-5", "--out", x));
            Assert.Contains("'image'", AssertUsageError("gpaths generate", "generate", "--model", ModelPath("gmm-denoiser.onnx"), "--grid", Path.Combine(dir, "g.png"), "--out", x));
            string model = Path.Combine(dir, "broken.onnx");
            File.WriteAllBytes(model, [8, 1, 2, 3, 4, 5]);
            File.Copy(ModelPath("gmm-denoiser.onnx.json"), model + ".json");
            AssertUsageError("gpaths generate", "generate", "--model", model, "--out", x);
        }
        finally { Directory.Delete(dir, true); }
    }
    [Fact]
    public void AUiLabelPicksTheSamplerAndItsPlan()
    {
        var dir = TempDir();
        try
        {
            string a = Path.Combine(dir, "a.npy"), b = Path.Combine(dir, "b.npy"), sa = Path.Combine(dir, "a.json");
            string[] common = ["generate", "--model", ModelPath("gmm-denoiser.onnx"), "--steps", "6", "--count", "4"];
            var label = Run([.. common, "--sampler", "DPM++ 2M Karras", "--out", a, "--stats", sa]);
            Assert.True(label.Code == 0, label.Err);
            Assert.Contains("dpmpp_2m on the karras schedule", label.Out);
            var named = Run([.. common, "--sampler", "dpmpp_2m", "--schedule", "karras", "--out", b]);
            Assert.True(named.Code == 0, named.Err);
            Assert.Equal(File.ReadAllBytes(b), File.ReadAllBytes(a));
            Assert.Contains("\"schedule\": \"karras\"", File.ReadAllText(sa));
        }
        finally { Directory.Delete(dir, true); }
    }
    [Fact]
    public void SdeSamplersRefineOneBrownianPathPerSampleAndCountsArePrefixes()
    {
        var dir = TempDir();
        try
        {
            float[] RunWith(int steps, int count)
            {
                string o = Path.Combine(dir, $"s{steps}-{count}.npy");
                var r = Run("generate", "--model", ModelPath("gmm-denoiser.onnx"), "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--count", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--sampler", "dpmpp_2m_sde", "--seed", "3", "--out", o);
                Assert.True(r.Code == 0, r.Err);
                return NpyFile.Read(o).Floats!;
            }
            var coarse = RunWith(8, 40);
            var medium = RunWith(16, 40);
            var fine = RunWith(128, 40);
            // Strong convergence on one path: refining the steps moves the samples towards the fine run (with independent noise per
            // step count they would not converge at all).
            double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b, (p, q) => (double)(p - q) * (p - q)).Sum() / a.Length);
            Assert.True(Distance(medium, fine) < 0.8 * Distance(coarse, fine), $"{Distance(coarse, fine)} then {Distance(medium, fine)}");
            // Sample i is the same whatever the count.
            Assert.Equal(medium[..(10 * 3)], RunWith(16, 10));
        }
        finally { Directory.Delete(dir, true); }
    }
}
