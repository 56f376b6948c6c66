using GenerativePaths.Samplers;
using Xunit;

namespace GenerativePaths.Tests.Samplers;

/// <summary>The library's sampler catalogue: names users type map to the samplers they mean.</summary>
public class SamplerCatalogTests
{
    [Theory]
    [InlineData("DPM++ 2M Karras", typeof(DpmSolverPlusPlus2MSampler), SchedulePreference.Karras)]
    [InlineData("DPM++ SDE Karras", typeof(DpmSolverPlusPlusSdeSampler), SchedulePreference.Karras)]
    [InlineData("DPM++ 2M SDE Exponential", typeof(DpmSolverPlusPlus2MSdeSampler), SchedulePreference.Exponential)]
    [InlineData("Euler a", typeof(EulerAncestralSampler), SchedulePreference.Default)]
    [InlineData("euler_ancestral", typeof(EulerAncestralSampler), SchedulePreference.Default)]
    [InlineData("sample_dpmpp_2m_sde", typeof(DpmSolverPlusPlus2MSdeSampler), SchedulePreference.Default)]
    [InlineData("dpmpp_2s_ancestral", typeof(DpmSolverPlusPlus2SAncestralSampler), SchedulePreference.Default)]
    [InlineData("DDIM", typeof(DdimSampler), SchedulePreference.Default)]
    [InlineData("UniPC", typeof(UniPcSampler), SchedulePreference.Default)]
    [InlineData("uni_pc_bh2", typeof(UniPcSampler), SchedulePreference.Default)]
    [InlineData("LCM", typeof(LcmSampler), SchedulePreference.Default)]
    [InlineData("PNDMScheduler", typeof(PlmsSampler), SchedulePreference.Default)]
    [InlineData("EulerAncestralDiscreteScheduler", typeof(EulerAncestralSampler), SchedulePreference.Default)]
    [InlineData("DPM2 a Karras", typeof(DpmSolver2AncestralSampler), SchedulePreference.Karras)]
    [InlineData("  dpm-fast ", typeof(DpmSolverFastSampler), SchedulePreference.Default)]
    public void NamesPeopleTypeFindTheirSampler(string name, Type type, SchedulePreference plan)
    {
        var preset = SamplerCatalog.Find(name);
        Assert.IsType(type, preset.Create());
        Assert.Equal(plan, preset.Schedule);
    }

    [Fact]
    public void EveryNameAndAliasIsUniqueAndEveryPresetBuildsItsSampler()
    {
        var seen = new Dictionary<string, string>();
        foreach (var p in SamplerCatalog.All)
        {
            foreach (var n in p.Aliases.Append(p.Name))
            {
                string key = n.Trim().ToLowerInvariant().Replace(' ', '_').Replace('-', '_');
                Assert.False(seen.TryGetValue(key, out var other) && other != p.Name, $"'{n}' names both {other} and {p.Name}");
                seen[key] = p.Name;
                Assert.Same(p.Create().GetType(), SamplerCatalog.Find(n).Create().GetType());
            }
            var sampler = p.Create();
            Assert.NotNull(sampler);
            Assert.True(p.EvaluationsPerStep >= 1);
        }
    }

    [Fact]
    public void AnUnknownNameListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => SamplerCatalog.Find("euler_b"));
        Assert.Contains("euler_b", e.Message);
        Assert.Contains("dpmpp_2m_sde", e.Message);
        Assert.False(SamplerCatalog.TryFind("", out _));
        Assert.False(SamplerCatalog.TryFind("Karras", out _));
    }

    [Fact]
    public void StochasticPresetsAreTheOnesThatDrawNoise()
    {
        // The oracle: a run without a noise source fails exactly for the samplers that draw noise.
        var path = new TestCosinePath();
        var schedule = SamplerTestSupport.Schedule(path, Enumerable.Range(0, 6).Select(i => 0.9 * (5 - i) / 5));
        var model = new GenerativePaths.Models.GaussianMixtureModel<double>(SamplerTestSupport.Mix, GenerativePaths.Models.Prediction.Epsilon,
            GenerativePaths.Models.ModelTimeMaps.Path(path));
        foreach (var p in SamplerCatalog.All)
        {
            using var x = SamplerTestSupport.Normals(2, 4, 3);
            bool threw = false;
            try { SamplingLoop.Run(model, x, schedule, p.Create()); }
            catch (InvalidOperationException e) when (e.Message.Contains("noise source", StringComparison.Ordinal)) { threw = true; }
            Assert.True(threw == p.Stochastic, $"{p.Name}: stochastic {p.Stochastic}, needed noise {threw}");
        }
    }
}
