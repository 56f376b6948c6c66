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
/// Likewise <c>KDPM2AncestralDiscreteScheduler</c> is <see cref="DpmSolver2AncestralSampler"/> with <c>eta = 1</c>.
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

    [Fact]
    public void Kdpm2AncestralMatchesThePeer()
    {
        // diffusers' KDPM2AncestralDiscreteScheduler is DPM-2 ancestral (eta = 1): its listed sigmas repeat each level for the two
        // half steps, its timesteps interleave the main points with the midpoints, and it draws noise on every step but the last.
        using var doc = ReferenceCases.Load("diffusers_kdpm2_ancestral_12.json");
        var root = doc.RootElement;
        double[] D(System.Text.Json.JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        double[][] M(System.Text.Json.JsonElement e) => e.EnumerateArray().Select(D).ToArray();
        var listed = D(root.GetProperty("sigmas"));
        var times = D(root.GetProperty("timesteps"));
        var acp = D(root.GetProperty("alphas_cumprod"));
        int steps = root.GetProperty("set_timesteps").GetProperty("num_inference_steps").GetInt32();
        // Main points: sigma_0 and every second listed sigma after it; their timesteps are times[0] and every second one after it.
        var sigmas = new List<double> { listed[0] };
        for (int i = 1; sigmas.Count < steps; i += 2) sigmas.Add(listed[i]);
        sigmas.Add(0);
        var mainTimes = new List<double> { times[0] };
        for (int i = 2; mainTimes.Count < steps; i += 2) mainTimes.Add(times[i]);
        mainTimes.Add(0);
        var points = sigmas.Select((s, i) => new SchedulePoint(1 / Math.Sqrt(1 + s * s), s / Math.Sqrt(1 + s * s), mainTimes[i]));
        var path = new DiscreteVpPath(acp);
        var schedule = new StepSchedule(path, points);
        var g = root.GetProperty("gmm");
        var mixture = GaussianMixture.Isotropic(D(g.GetProperty("weights")), M(g.GetProperty("means")), D(g.GetProperty("stds")));
        var recorder = new List<double>();
        var model = new Recording(new GaussianMixtureModel<double>(mixture, Prediction.Epsilon, ModelTimeMaps.DiscreteVariancePreserving(acp)), recorder);
        double init = root.GetProperty("init_noise_sigma").GetDouble();
        double a0 = schedule[0].Alpha;
        using var x = BatchTensor<double>.FromRows(M(root.GetProperty("x_init")).Select(r => r.Select(v => v * init * a0).ToArray()).ToArray());
        var tape = root.GetProperty("noise").EnumerateArray().Select(M).ToList();
        var noise = new ReplayNoise(tape);
        SamplingLoop.Run(model, x, schedule, new DpmSolver2AncestralSampler(eta: 1.0), noise);
        Assert.Equal(tape.Count, noise.Consumed);
        var peerCalls = D(root.GetProperty("model_call_timesteps"));
        Assert.Equal(peerCalls.Length, recorder.Count);
        for (int i = 0; i < peerCalls.Length; i++) Assert.True(Math.Abs(peerCalls[i] - recorder[i]) <= 1e-3 + 1e-5 * peerCalls[i], $"model call {i}: {recorder[i]} vs the peer's {peerCalls[i]}");
        var expected = M(root.GetProperty("x_final"));
        double worst = 0;
        for (int b = 0; b < expected.Length; b++)
            for (int j = 0; j < expected[b].Length; j++) worst = Math.Max(worst, Math.Abs(x.Row(b)[j] - expected[b][j]));
        Assert.True(worst <= 1e-4, $"max abs difference to the peer's x_final: {worst:E3}");
    }

    private sealed class Recording(IGenerativeModel<double> inner, List<double> times) : IGenerativeModel<double>
    {
        public Prediction Prediction => inner.Prediction;

        public void Evaluate(BatchTensor<double> x, ReadOnlySpan<double> t, in ModelCondition condition, BatchTensor<double> output)
        {
            times.Add(t[0]);
            inner.Evaluate(x, t, condition, output);
        }
    }
}
