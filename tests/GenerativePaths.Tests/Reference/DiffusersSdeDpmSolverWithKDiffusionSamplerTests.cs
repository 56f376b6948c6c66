using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Reference;

/// <summary>
/// diffusers' <c>DPMSolverMultistepScheduler</c> with <c>algorithm_type="sde-dpmsolver++"</c> (order 2, Karras sigmas) is
/// <see cref="DpmSolverPlusPlus2MSdeSampler"/> with <c>eta = 1</c>: the shared case, run here directly from its listed sigmas and
/// timesteps (the importer's wiring is another part of the work). diffusers draws a noise tensor on every step, the last too (where it
/// is multiplied by sigma' = 0); the tape is keyed by the steps' intervals, so the sampler's unneeded last draw is passed over.
/// </summary>
public class DiffusersSdeDpmSolverWithKDiffusionSamplerTests
{
    [Fact]
    public void SdeDpmSolverPlusPlus2MMatchesThePeer()
    {
        using var doc = ReferenceCases.Load("diffusers_dpmpp_2m_sde_karras_16.json");
        var root = doc.RootElement;
        double[] D(System.Text.Json.JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        double[][] M(System.Text.Json.JsonElement e) => e.EnumerateArray().Select(D).ToArray();
        var sigmas = D(root.GetProperty("sigmas"));
        var timesteps = D(root.GetProperty("timesteps"));
        var acp = D(root.GetProperty("alphas_cumprod"));
        // diffusers' DPM-Solver state: x = alpha x0 + sigma eps with alpha = 1/sqrt(1 + s^2), sigma = s alpha for the listed s; the model
        // is called with the listed (rounded) timestep.
        var points = sigmas.Select((s, i) => new SchedulePoint(1 / Math.Sqrt(1 + s * s), s / Math.Sqrt(1 + s * s), i < timesteps.Length ? timesteps[i] : 0)).ToList();
        var schedule = new StepSchedule(new DiscreteVpPath(acp), points);
        var g = root.GetProperty("gmm");
        var mixture = GaussianMixture.Isotropic(D(g.GetProperty("weights")), M(g.GetProperty("means")), D(g.GetProperty("stds")));
        var model = new GaussianMixtureModel<double>(mixture, Prediction.Epsilon, ModelTimeMaps.DiscreteVariancePreserving(acp));
        double init = root.GetProperty("init_noise_sigma").GetDouble();
        using var x = BatchTensor<double>.FromRows(M(root.GetProperty("x_init")).Select(r => r.Select(v => v * init).ToArray()).ToArray());
        var tape = root.GetProperty("noise").EnumerateArray().Select(M).ToList();
        var noise = new ReplayNoise(tape, Enumerable.Range(0, tape.Count).Select(i => (sigmas[i], sigmas[i + 1])));
        var trajectory = new List<double[][]>();
        SamplingLoop.Run(model, x, schedule, new DpmSolverPlusPlus2MSdeSampler(eta: 1.0, secondOrder: DpmSolverSecondOrder.Midpoint, lowerOrderFinal: true), noise,
            new SamplingOptions<double> { OnStep = (_, _, xs, _) => trajectory.Add(xs.ToRows()) });
        Assert.Equal(tape.Count - 1, noise.Consumed); // every draw but the last (sigma' = 0)
        var expected = M(root.GetProperty("x_final"));
        var peerTrajectory = root.GetProperty("trajectory").EnumerateArray().Select(M).ToList();
        Assert.Equal(peerTrajectory.Count, trajectory.Count);
        double worst = 0;
        for (int i = 0; i < trajectory.Count; i++)
            for (int b = 0; b < expected.Length; b++)
                for (int j = 0; j < expected[b].Length; j++) worst = Math.Max(worst, Math.Abs(trajectory[i][b][j] - peerTrajectory[i][b][j]));
        for (int b = 0; b < expected.Length; b++)
            for (int j = 0; j < expected[b].Length; j++) worst = Math.Max(worst, Math.Abs(x.Row(b)[j] - expected[b][j]));
        Assert.True(worst <= 1e-4, $"max abs difference to the peer's trajectory and x_final: {worst:E3}");
    }
}
