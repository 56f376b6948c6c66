using System.Numerics;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>
/// The custom-sampler example of docs/sampler-guide.md, compiled and checked: DPM-Solver++(2S), a single-step second-order
/// exponential integrator that evaluates the model at the log-SNR midpoint (Lu et al. 2022), built from the public API only.
/// </summary>
public sealed class MidpointDpmSolver : Sampler
{
    public override string Name => "dpmpp_2s";

    public override void Step<T>(SamplerState<T> state, int index)
    {
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        var x = state.X;
        // x0hat = cx * x + cp * output at the current point.
        var (cx, cp) = state.Evaluate(x, from, state.ModelOutput);
        if (to.Sigma == 0)
        {
            state.Combine(x, to.Alpha * cx, x, to.Alpha * cp, state.ModelOutput); // last step: return alpha' x0hat
            return;
        }
        // The midpoint in log-SNR, looked up on the schedule's path.
        var path = state.Schedule.Path;
        double t = path.TimeFromLogSnr(0.5 * (from.LogSnr + to.LogSnr));
        var mid = new SchedulePoint(path.Alpha(t), path.Sigma(t), path.ModelTime(t));
        // First-order (DDIM) move to the midpoint: x_mid = (sigma_m / sigma) x + (alpha_m - sigma_m alpha / sigma) x0hat.
        double a = mid.Sigma / from.Sigma, b = mid.Alpha - mid.Sigma * from.Alpha / from.Sigma;
        var xMid = state.Scratch(1);
        state.Combine(xMid, a + b * cx, x, b * cp, state.ModelOutput);
        // The full step with the midpoint's denoised estimate x0_mid = mx * x_mid + mp * output2.
        var (mx, mp) = state.Evaluate(xMid, mid, state.SecondOutput);
        double A = to.Sigma / from.Sigma, B = to.Alpha - to.Sigma * from.Alpha / from.Sigma;
        state.Combine(x, A, x, B * mx, xMid, B * mp, state.SecondOutput);
    }
}

public class CustomSamplerExampleTests
{
    [Fact]
    public void TheGuideExampleIsSecondOrder()
    {
        // VE path from sigma 5 to 0.2, against Heun with many steps as the reference (itself second order).
        const double s0 = 5.0, s1 = 0.2;
        using var init = Normals(3, 4, 77);
        var start = init.ToRows().Select(r => r.Select(v => v * s0).ToArray()).ToArray();
        double[][] Solve(Sampler sampler, int n)
        {
            var schedule = new StepSchedule(new VarianceExplodingPath(0, s0), Enumerable.Range(0, n + 1).Select(i => s0 * Math.Pow(s1 / s0, (double)i / n)).Select(s => new SchedulePoint(1, s, s)));
            using var x = BatchTensor<double>.FromRows(start);
            SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding()), x, schedule, sampler);
            return x.ToRows();
        }
        var reference = Solve(new HeunSampler(), 3000);
        double Error(int n) => Solve(new MidpointDpmSolver(), n).Zip(reference, (a, b) => a.Zip(b, (u, v) => Math.Abs(u - v)).Max()).Max();
        double order = Math.Log2(Error(20) / Error(40));
        Assert.InRange(order, 1.8, 2.3);
    }
}

public class QuickStartExampleTests
{
    [Fact]
    public void QuickStartRuns()
    {
        // The quick start of docs/sampler-guide.md, verbatim but for the console output.
        var config = GenerativePaths.Configs.DiffusersSchedulerConfig.Parse("""
            {"_class_name": "DDIMScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085,
             "beta_end": 0.012, "steps_offset": 1, "set_alpha_to_one": false}
            """);
        var schedule = config.CreateSchedule(25);
        var mixture = GaussianMixture.Isotropic([0.5, 0.5], [[-2.0, 0.0], [2.0, 1.0]], [0.3, 0.5]);
        var model = new GaussianMixtureModel<float>(mixture, config.Prediction, ModelTimeMaps.DiscreteVariancePreserving(config.AlphasCumprod));
        using var x = BatchTensor<float>.Allocate(16, 2);
        new GenerativePaths.Noise.PhiloxNoise(seed: 1).Fill(x, stream: GenerativePaths.Noise.NoiseStreams.Start);
        var steps = new List<int>();
        var result = SamplingLoop.Run(model, x, schedule, new DpmSolverPlusPlus2MSampler(), noise: null,
            new SamplingOptions<float> { OnStep = (i, t, xi, x0hat) => steps.Add(i) });
        Assert.Equal(25, result.Statistics.ModelEvaluations);
        Assert.Equal(Enumerable.Range(0, 25), steps);
        // Every sample lands near one of the two modes (within a few component standard deviations).
        for (int b = 0; b < 16; b++)
        {
            var r = x.Row(b);
            double d0 = Math.Sqrt((r[0] + 2) * (r[0] + 2) + r[1] * r[1]), d1 = Math.Sqrt((r[0] - 2) * (r[0] - 2) + (r[1] - 1) * (r[1] - 1));
            Assert.True(Math.Min(d0 / 0.3, d1 / 0.5) < 5, $"sample {b} = ({r[0]}, {r[1]}) is far from both modes");
        }
    }
}
