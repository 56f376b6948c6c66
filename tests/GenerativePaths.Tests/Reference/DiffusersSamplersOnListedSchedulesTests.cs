using System.Text.Json;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using GenerativePaths.Tests.Samplers;
using Xunit;

namespace GenerativePaths.Tests.Reference;

/// <summary>
/// The samplers alone against the diffusers cases, on schedules built here from the points the case lists (its
/// <c>timesteps</c>, <c>sigmas</c> and <c>alphas_cumprod</c>), independent of the configuration importer.
/// </summary>
public class DiffusersSamplersOnListedSchedulesTests
{
    private static double[] D(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
    private static double[][] M(JsonElement e) => e.EnumerateArray().Select(D).ToArray();

    [Theory]
    [InlineData("diffusers_ddim_eps_leading_10.json")]
    [InlineData("diffusers_ddim_eps_trailing_25.json")]
    [InlineData("diffusers_ddim_eta1_leading_20.json")]
    [InlineData("diffusers_ddpm_eps_linear_50.json")]
    [InlineData("diffusers_euler_eps_linspace_20.json")]
    [InlineData("diffusers_euler_karras_15.json")]
    [InlineData("diffusers_euler_ancestral_20.json")]
    [InlineData("diffusers_heun_eps_10.json")]
    [InlineData("diffusers_dpmpp_2m_20.json")]
    [InlineData("diffusers_flowmatch_euler_shift3_20.json")]
    public void SamplerReproducesThePeer(string file)
    {
        using var doc = ReferenceCases.Load(file);
        var root = doc.RootElement;
        string peer = root.GetProperty("peer").GetString()!;
        var config = root.GetProperty("config");
        var timesteps = D(root.GetProperty("timesteps"));
        var mix = GaussianMixture.Isotropic(D(root.GetProperty("gmm").GetProperty("weights")), M(root.GetProperty("gmm").GetProperty("means")), D(root.GetProperty("gmm").GetProperty("stds")));
        var xInit = M(root.GetProperty("x_init"));
        double initSigma = root.GetProperty("init_noise_sigma").GetDouble();
        var tape = root.GetProperty("noise").EnumerateArray().Select(M).ToList();

        List<SchedulePoint> points;
        NoisePath path;
        Sampler sampler;
        bool ve = false;
        Func<double, NoiseLevel> map;
        Prediction prediction = Prediction.Epsilon;
        if (peer.Contains("FlowMatch"))
        {
            var sigmas = D(root.GetProperty("sigmas"));
            points = sigmas.Select((s, i) => new SchedulePoint(1 - s, s, i < timesteps.Length ? timesteps[i] : 0)).ToList();
            path = new TestFlowPath();
            map = ModelTimeMaps.RectifiedFlow();
            prediction = Prediction.FlowVelocity;
            sampler = new FlowMatchEulerSampler();
        }
        else
        {
            var acp = D(root.GetProperty("alphas_cumprod"));
            map = ModelTimeMaps.DiscreteVariancePreserving(acp);
            path = new VarianceExplodingPath(0, 1e3);
            if (peer.Contains("DDIM") || peer.Contains("DDPM"))
            {
                points = timesteps.Select(t => new SchedulePoint(Math.Sqrt(acp[(int)t]), Math.Sqrt(1 - acp[(int)t]), t)).ToList();
                bool alphaToOne = !config.TryGetProperty("set_alpha_to_one", out var a1) || a1.GetBoolean();
                points.Add(alphaToOne ? new SchedulePoint(1, 0, 0) : new SchedulePoint(Math.Sqrt(acp[0]), Math.Sqrt(1 - acp[0]), 0));
                sampler = peer.Contains("DDIM") ? new DdimSampler(root.GetProperty("step_kwargs").GetProperty("eta").GetDouble()) : new DdpmSampler();
            }
            else
            {
                var sigmas = D(root.GetProperty("sigmas")).ToList();
                var times = timesteps.ToList();
                if (peer.Contains("Heun"))
                {
                    // The peer lists every interior point twice (one model call each); the sampler visits each point once.
                    sigmas = sigmas.Where((s, i) => i == 0 || s != sigmas[i - 1]).ToList();
                    times = times.Where((t, i) => i == 0 || t != times[i - 1]).ToList();
                }
                points = sigmas.Select((s, i) => new SchedulePoint(1 / Math.Sqrt(1 + s * s), s / Math.Sqrt(1 + s * s), i < times.Count ? times[i] : 0)).ToList();
                ve = !peer.Contains("DPMSolver");
                sampler = peer.Contains("Ancestral") ? new EulerAncestralSampler()
                    : peer.Contains("Heun") ? new HeunSampler()
                    : peer.Contains("DPMSolver") ? new DpmSolverPlusPlus2MSampler()
                    : new EulerSampler();
            }
        }
        var schedule = new StepSchedule(path, points);
        var model = new GaussianMixtureModel<double>(mix, prediction, map);
        using var x = BatchTensor<double>.FromRows(xInit);
        double scale = initSigma * (ve ? points[0].Alpha : 1);
        for (int i = 0; i < x.Length; i++) x.Span[i] *= scale;
        // diffusers draws one tensor per step, also where it multiplies it by zero: the tape is keyed by each step's interval of
        // sigma / alpha, and every tensor is either handed out or passed over as unneeded.
        double Ratio(int i) => points[i].Alpha == 0 ? double.PositiveInfinity : points[i].Sigma / points[i].Alpha;
        var replay = tape.Count > 0 && tape.Count <= points.Count - 1
            ? new ReplayNoise(tape, Enumerable.Range(0, tape.Count).Select(i => (Ratio(i), Ratio(i + 1))))
            : new ReplayNoise(tape);
        SamplingLoop.Run(model, x, schedule, sampler, replay);
        Assert.Equal(tape.Count, replay.Consumed + replay.Skipped + replay.Remaining);
        Assert.True(replay.Skipped + replay.Remaining <= 1, $"{file}: {replay.Skipped + replay.Remaining} recorded draws not used");
        var expected = M(root.GetProperty("x_final"));
        double worst = 0;
        for (int b = 0; b < expected.Length; b++)
            for (int j = 0; j < expected[b].Length; j++)
                worst = Math.Max(worst, Math.Abs(expected[b][j] - x.Row(b)[j] / points[^1].Alpha * (ve ? 1 : points[^1].Alpha)));
        Assert.True(worst <= 1e-4, $"{file}: max abs difference {worst:E3}");
    }
}
