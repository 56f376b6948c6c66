using System.Text.Json;
using GenerativePaths.Configs;
using Xunit;

namespace GenerativePaths.Tests.Configs;

/// <summary>The importer against the shared reference cases: the peer's timesteps, sigmas, init noise sigma and alphas_cumprod.</summary>
public class DiffusersReferenceScheduleTests
{
    internal static readonly string[] Files =
    [
        "diffusers_ddim_eps_leading_10.json",
        "diffusers_ddim_eps_trailing_25.json",
        "diffusers_ddim_eta1_leading_20.json",
        "diffusers_ddpm_eps_linear_50.json",
        "diffusers_deis_2_20.json",
        "diffusers_deis_3_15.json",
        "diffusers_dpm_singlestep_2_12.json",
        "diffusers_dpm_singlestep_3_15.json",
        "diffusers_dpmpp_2m_20.json",
        "diffusers_dpmpp_2m_heun_v_trailing_14.json",
        "diffusers_dpmpp_2m_sde_karras_16.json",
        "diffusers_dpmpp_3m_20.json",
        "diffusers_edm_dpmpp_2m_12.json",
        "diffusers_edm_euler_16.json",
        "diffusers_euler_ancestral_20.json",
        "diffusers_euler_eps_linspace_20.json",
        "diffusers_euler_karras_15.json",
        "diffusers_flowmatch_euler_shift3_20.json",
        "diffusers_flowmatch_heun_shift3_10.json",
        "diffusers_heun_eps_10.json",
        "diffusers_kdpm2_ancestral_12.json",
        "diffusers_lcm_4.json",
        "diffusers_lms_20.json",
        "diffusers_pndm_plms_sd15_20.json",
        "diffusers_sasolver_16.json",
        "diffusers_tcd_4_gamma03.json",
        "diffusers_unipc_bh1_10.json",
        "diffusers_unipc_bh2_10.json",
    ];

    /// <summary>
    /// Cases whose sampler the library does not have yet: each is run by <see cref="ExpectedUnsupportedCasesExitThree"/>, which fails as
    /// soon as one of them is supported, so that it moves to <see cref="Files"/> when its sampler lands. The list ends empty.
    /// </summary>
    internal static readonly string[] ExpectedUnsupported = [];

    public static TheoryData<string> Cases => new(Files);

    [Fact]
    public void EveryDiffusersCaseInTheFolderIsListed()
    {
        var files = Directory.GetFiles(ReferenceCases.Folder, "diffusers_*.json").Select(f => Path.GetFileName(f)!).Order().ToArray();
        var listed = Files.Concat(ExpectedUnsupported).Order().ToArray();
        Assert.Equal(listed, files);
        Assert.Empty(Files.Intersect(ExpectedUnsupported));
    }

    /// <summary>Every case of <see cref="ExpectedUnsupported"/> exits 3 (a fact over the list, so that the guard stays when the list is empty).</summary>
    [Fact]
    public void ExpectedUnsupportedCasesExitThree()
    {
        foreach (var file in ExpectedUnsupported)
        {
            var stderr = new StringWriter();
            int code = GenerativePaths.Cli.ReferenceCommand.Run([ReferenceCases.PathOf(file)], new StringWriter(), stderr);
            Assert.True(code == GenerativePaths.Cli.ReferenceCommand.ExitUnsupported,
                $"{file} now exits {code} (stderr: {stderr}); if its sampler landed, move it from ExpectedUnsupported to Files.");
            Assert.Contains("not supported yet", stderr.ToString());
        }
    }

    /// <summary>Every listed case exits 0 through <c>gpaths reference</c> (x_final within 1e-4, or for a peer NaN the finite trajectory).</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void ListedCasesExitZero(string file)
        => Assert.Equal(0, GenerativePaths.Cli.ReferenceCommand.Run([ReferenceCases.PathOf(file)], new StringWriter(), new StringWriter()));

    internal static (DiffusersSchedulerConfig Config, JsonElement Case, int Steps) Load(string file)
    {
        using var doc = ReferenceCases.Load(file);
        var root = doc.RootElement.Clone();
        string peer = root.GetProperty("peer").GetString()!;
        string className = peer.Split(' ')[^1];
        var config = DiffusersSchedulerConfig.FromJson(root.GetProperty("config"), className);
        int steps = root.GetProperty("set_timesteps").GetProperty("num_inference_steps").GetInt32();
        return (config, root, steps);
    }

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    private static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, double rel, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: expected {expected.Count} values, got {actual.Count}.");
        for (int i = 0; i < expected.Count; i++)
        {
            double e = expected[i], a = actual[i];
            // Relative to the value, or absolute for values below 1 in magnitude (EDM's c_noise = log(sigma)/4 passes through 0).
            Assert.True(Math.Abs(a - e) <= rel * Math.Max(Math.Abs(e), 1.0), $"{what}[{i}]: expected {e:R}, got {a:R} (relative error {Math.Abs(a - e) / Math.Abs(e):E2}).");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TimestepsMatchThePeer(string file)
    {
        var (config, root, steps) = Load(file);
        var schedule = config.CreateSchedule(steps);
        AssertClose(Doubles(root.GetProperty("timesteps")), config.Timesteps(schedule), 1e-6, "timesteps");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SigmasMatchThePeer(string file)
    {
        var (config, root, steps) = Load(file);
        var schedule = config.CreateSchedule(steps);
        var sig = root.GetProperty("sigmas");
        if (sig.ValueKind == JsonValueKind.Null)
        {
            // DDIM/DDPM list no sigmas: the points must then be the alphas_cumprod of the listed timesteps.
            var ac = Doubles(root.GetProperty("alphas_cumprod"));
            // PNDM lists its warm-up's second model call twice: the points are the distinct listed timesteps.
            var ts = Doubles(root.GetProperty("timesteps")).Where((t, i) => i == 0 || t != Doubles(root.GetProperty("timesteps"))[i - 1]).ToArray();
            for (int i = 0; i < ts.Length; i++)
            {
                double a = ac[(int)ts[i]];
                Assert.True(Math.Abs(schedule[i].Alpha - Math.Sqrt(a)) <= 1e-6 * Math.Sqrt(a));
                Assert.True(Math.Abs(schedule[i].Sigma - Math.Sqrt(1 - a)) <= 1e-6 * Math.Sqrt(1 - a));
            }
            return;
        }
        AssertClose(Doubles(sig), config.Sigmas(schedule), 1e-6, "sigmas");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InitNoiseSigmaMatchesThePeer(string file)
    {
        var (config, root, steps) = Load(file);
        var schedule = config.CreateSchedule(steps);
        double expected = root.GetProperty("init_noise_sigma").GetDouble();
        Assert.True(Math.Abs(config.PeerInitNoiseSigma(schedule) - expected) <= 1e-6 * expected, $"init_noise_sigma {config.PeerInitNoiseSigma(schedule)} vs {expected}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AlphasCumprodMatchThePeerBitForBit(string file)
    {
        var (config, root, _) = Load(file);
        if (!root.TryGetProperty("alphas_cumprod", out var acElement))
        {
            Assert.False(config.HasAlphasCumprod); // flow matching and EDM have no table
            var noTable = Assert.Throws<InvalidOperationException>(() => config.AlphasCumprod);
            Assert.Contains("config.ModelTimeMap", noTable.Message);
            return;
        }
        var expected = Doubles(acElement);
        Assert.Equal(expected.Length, config.AlphasCumprod.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = (float)expected[i], a = (float)config.AlphasCumprod[i];
            Assert.Equal(expected[i], (double)e); // the peer's values are float32 values
            int ulps = Math.Abs(BitConverter.SingleToInt32Bits(e) - BitConverter.SingleToInt32Bits(a));
            Assert.True(ulps == 0, $"alphas_cumprod[{i}]: expected {e:R}, got {a:R} ({ulps} float32 units apart).");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FloatSixtyFourBetasAgreeWithThePeerTable(string file)
    {
        // The library's own float64 betas (an independent computation of the same formulas) agree with the peer's float32 table.
        var (config, root, _) = Load(file);
        if (!config.HasAlphasCumprod) return; // flow matching and EDM have no table
        var cfg = root.GetProperty("config");
        double start = cfg.TryGetProperty("beta_start", out var bs) ? bs.GetDouble() : 0.0001;
        double end = cfg.TryGetProperty("beta_end", out var be) ? be.GetDouble() : 0.02;
        string schedule = cfg.TryGetProperty("beta_schedule", out var sch) ? sch.GetString()! : "linear";
        var betas = schedule switch
        {
            "linear" => GenerativePaths.Paths.BetaSchedules.Linear(1000, start, end),
            "scaled_linear" => GenerativePaths.Paths.BetaSchedules.ScaledLinear(1000, start, end),
            _ => throw new InvalidOperationException(schedule),
        };
        var ac64 = GenerativePaths.Paths.BetaSchedules.AlphasCumprod(betas);
        var expected = Doubles(root.GetProperty("alphas_cumprod"));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(ac64[i] - expected[i]) <= 2e-5 * expected[i], $"alphas_cumprod[{i}]: float64 {ac64[i]:R} vs peer {expected[i]:R}");
    }
}
