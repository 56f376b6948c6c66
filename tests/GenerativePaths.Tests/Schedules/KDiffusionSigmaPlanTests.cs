using System.Text.Json;
using GenerativePaths.Schedules;
using Xunit;

namespace GenerativePaths.Tests.Schedules;

/// <summary>The k-diffusion sigma plans against the shared reference cases and their closed forms.</summary>
public class KDiffusionSigmaPlanTests
{
    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    private static void AssertRelative(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double rel)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= rel * Math.Abs(expected[i]),
                $"sigma[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Theory]
    [InlineData("kdiffusion_sigmas_karras_10.json")]
    [InlineData("kdiffusion_sigmas_exponential_12.json")]
    public void GeneratorsReproduceTheReferenceSigmas(string file)
    {
        using var doc = ReferenceCases.Load(file);
        var root = doc.RootElement;
        var expected = Doubles(root.GetProperty("sigmas"));
        var args = root.GetProperty("args");
        double min = args.GetProperty("sigma_min").GetDouble(), max = args.GetProperty("sigma_max").GetDouble();
        int n = expected.Length - 1;
        string name = root.GetProperty("name").GetString()!;
        var actual = name.StartsWith("karras", StringComparison.Ordinal) ? SigmaArrays.Karras(n, min, max)
            : name.StartsWith("exponential", StringComparison.Ordinal) ? SigmaArrays.Exponential(n, min, max)
            : throw new InvalidOperationException($"Unknown plan {name}.");
        AssertRelative(expected, actual, 1e-6);
        Assert.Equal(0.0, actual[^1]);
        var schedule = StepSchedules.FromVeSigmas(actual);
        Assert.Equal(n, schedule.StepCount);
        for (int i = 0; i <= n; i++)
        {
            Assert.Equal(1.0, schedule[i].Alpha);
            Assert.Equal(actual[i], schedule[i].Sigma);
            Assert.Equal(actual[i], schedule[i].ModelTime);
        }
    }

    [Theory]
    [InlineData("kdiffusion_euler_karras_10.json", "karras")]
    [InlineData("kdiffusion_heun_karras_10.json", "karras")]
    [InlineData("kdiffusion_dpmpp_2m_karras_10.json", "karras")]
    [InlineData("kdiffusion_euler_ancestral_karras_10.json", "karras")]
    [InlineData("kdiffusion_dpm_2_karras_10.json", "karras")]
    [InlineData("kdiffusion_lms_exponential_12.json", "exponential")]
    public void SamplerCasePlansHaveTheGeneratorsInteriorPoints(string file, string plan)
    {
        // The sampler cases list their plan without its arguments: the ends give sigma_min and sigma_max, the interior is checked.
        using var doc = ReferenceCases.Load(file);
        var expected = Doubles(doc.RootElement.GetProperty("sigmas"));
        int n = expected.Length - 1;
        double max = expected[0], min = expected[n - 1];
        var actual = plan == "karras" ? SigmaArrays.Karras(n, min, max) : SigmaArrays.Exponential(n, min, max);
        AssertRelative(expected, actual, 2e-6);
    }

    [Fact]
    public void KarrasClosedForm()
    {
        var s = SigmaArrays.Karras(5, 0.1, 10, rho: 3);
        for (int i = 0; i < 5; i++)
        {
            double expected = Math.Pow(Math.Pow(10, 1 / 3.0) + i / 4.0 * (Math.Pow(0.1, 1 / 3.0) - Math.Pow(10, 1 / 3.0)), 3);
            Assert.Equal(expected, s[i], 12);
        }
        Assert.Equal(0.0, s[5]);
    }

    [Fact]
    public void PolyExponentialWithRhoOneIsExponential()
    {
        var a = SigmaArrays.PolyExponential(9, 0.03, 14.6, rho: 1.0);
        var b = SigmaArrays.Exponential(9, 0.03, 14.6);
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 12);
    }

    [Fact]
    public void PolyExponentialClosedForm()
    {
        var a = SigmaArrays.PolyExponential(6, 0.05, 20, rho: 2.5);
        for (int i = 0; i < 6; i++)
        {
            double r = Math.Pow(1 - i / 5.0, 2.5);
            Assert.Equal(Math.Exp(r * (Math.Log(20) - Math.Log(0.05)) + Math.Log(0.05)), a[i], 10);
        }
        Assert.Equal(0.0, a[6]);
    }

    [Fact]
    public void VpPlanClosedFormAndMatchesLinearVpPath()
    {
        var s = SigmaArrays.Vp(7);
        var path = new GenerativePaths.Paths.LinearVpPath(betaMin: 0.1, betaMax: 20.0);
        for (int i = 0; i < 7; i++)
        {
            double t = 1 + i / 6.0 * (1e-3 - 1);
            Assert.Equal(Math.Sqrt(Math.Exp(19.9 * t * t / 2 + 0.1 * t) - 1), s[i], 9);
            // the VP plan's sigma is sigma/alpha of the continuous VP path at the same time
            Assert.True(Math.Abs(path.Sigma(t) / path.Alpha(t) - s[i]) <= 1e-10 * s[i]);
        }
        Assert.Equal(0.0, s[7]);
    }
}
