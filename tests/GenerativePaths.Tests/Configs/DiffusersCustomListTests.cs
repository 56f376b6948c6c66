using System.Text.Json;
using GenerativePaths.Configs;
using Xunit;

namespace GenerativePaths.Tests.Configs;

/// <summary>Custom timesteps/sigmas through the importer, checked against the reference cases' own lists.</summary>
public class DiffusersCustomListTests
{
    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    private static void AssertRelative(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double rel, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= rel * Math.Abs(expected[i]), $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Theory]
    [InlineData("diffusers_euler_eps_linspace_20.json")]
    [InlineData("diffusers_dpmpp_2m_20.json")]
    [InlineData("diffusers_unipc_bh2_10.json")]
    [InlineData("diffusers_lms_20.json")]
    public void ThePeersTimestepsGiveThePeersSigmas(string file)
    {
        var (config, root, _) = DiffusersReferenceScheduleTests.Load(file);
        var s = config.CreateScheduleFromTimesteps(Doubles(root.GetProperty("timesteps")));
        var expected = Doubles(root.GetProperty("sigmas"));
        AssertRelative(expected, config.Sigmas(s), 1e-6, "sigmas");
    }

    [Theory]
    [InlineData("diffusers_euler_karras_15.json")]
    [InlineData("diffusers_euler_eps_linspace_20.json")]
    [InlineData("diffusers_dpmpp_2m_20.json")]
    public void ThePeersSigmasGiveThePeersTimesteps(string file)
    {
        var (config, root, _) = DiffusersReferenceScheduleTests.Load(file);
        var s = config.CreateScheduleFromSigmas(Doubles(root.GetProperty("sigmas")));
        var expected = Doubles(root.GetProperty("timesteps"));
        var actual = config.Timesteps(s);
        Assert.Equal(expected.Length, actual.Count);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 2e-3, $"timestep {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void FlowCustomSigmasAreShiftedAsTheSchedulerDoes()
    {
        var c = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"shift\": 3.0}");
        double[] u = [1.0, 0.75, 0.5, 0.25];
        var s = c.CreateScheduleFromSigmas(u);
        Assert.Equal(5, s.Count);
        for (int i = 0; i < 4; i++)
        {
            double shifted = 3 * u[i] / (1 + 2 * u[i]);
            Assert.Equal(shifted, s[i].Sigma, 6);
            Assert.Equal(1000 * shifted, s[i].ModelTime, 3);
        }
        var e = Assert.Throws<ArgumentException>(() => c.CreateScheduleFromSigmas([1.0, 0.5, 0.6]));
        Assert.Contains("igma 2", e.Message);
    }

    [Fact]
    public void DdimCustomTimestepsAndRejection()
    {
        var c = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"DDIMScheduler\"}");
        var s = c.CreateScheduleFromTimesteps([999, 600, 200, 0]);
        Assert.Equal(Math.Sqrt(c.AlphasCumprod[600]), s[1].Alpha, 15);
        Assert.Equal([999.0, 600.0, 200.0, 0.0], c.Timesteps(s));
        var e = Assert.Throws<ArgumentException>(() => c.CreateScheduleFromTimesteps([999, 600, 700]));
        Assert.Contains("imestep 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => c.CreateScheduleFromTimesteps([double.NaN]));
        Assert.Contains("imestep 0", e.Message);
        Assert.Throws<NotSupportedException>(() => c.CreateScheduleFromSigmas([1.0, 0.0]));
    }

    [Fact]
    public void WithAlphasCumprodUsesTheListedTable()
    {
        var (config, root, steps) = DiffusersReferenceScheduleTests.Load("diffusers_ddpm_eps_linear_50.json");
        var listed = Doubles(root.GetProperty("alphas_cumprod"));
        var replaced = config.WithAlphasCumprod(listed);
        Assert.Equal(listed, replaced.AlphasCumprod);
        var s = replaced.CreateSchedule(steps);
        Assert.Equal(Math.Sqrt(listed[980]), s[0].Alpha, 15);
        Assert.Throws<ArgumentException>(() => config.WithAlphasCumprod(listed.Take(10).ToArray()));
        var bad = (double[])listed.Clone();
        bad[5] = 2.0;
        var e = Assert.Throws<ArgumentException>(() => config.WithAlphasCumprod(bad));
        Assert.Contains("alphas_cumprod[5]", e.Message);
    }
}

public class DiffusersTimestepFromSigmaTests
{
    [Fact]
    public void InvertsTheTableAndClips()
    {
        var c = DiffusersSchedulerConfig.Parse("{\"_class_name\": \"EulerDiscreteScheduler\", \"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"beta_end\": 0.012}");
        var ac = c.AlphasCumprod;
        double s(int t) => Math.Sqrt((1 - ac[t]) / ac[t]);
        Assert.Equal(500.0, c.TimestepFromSigma(s(500)), 4);
        double mid = Math.Sqrt(s(300) * s(301)); // geometric mean: halfway in log sigma
        Assert.Equal(300.5, c.TimestepFromSigma(mid), 4);
        Assert.Equal(0.0, c.TimestepFromSigma(0.0));
        Assert.Equal(999.0, c.TimestepFromSigma(1e6));
        Assert.Throws<NotSupportedException>(() => DiffusersSchedulerConfig.Parse("{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\"}").TimestepFromSigma(0.5));
    }
}
