using GenerativePaths.Configs;
using GenerativePaths.Models;
using GenerativePaths.Samplers;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Configs;

/// <summary>
/// <c>PNDMScheduler</c> with its pseudo Runge–Kutta warm-up (<c>skip_prk_steps = false</c>, the class's default): the library's
/// <see cref="PlmsSampler"/> against a direct scalar transcription of diffusers' counter-driven <c>step_prk</c> / <c>step_plms</c>
/// (scheduling_pndm.py: the timestep lists, the <c>1/6, 1/3, 1/3, 1/6</c> accumulation, the <c>ets</c> list and eq. 9's transfer), run
/// on the exact Gaussian-mixture model.
/// </summary>
public class DiffusersPndmPrkTests
{
    private static readonly GaussianMixture Mix = GaussianMixture.Isotropic([0.3, 0.7], [[-1.0, 0.5, 0.0], [1.5, -0.5, 1.0]], [0.4, 0.6]);

    /// <summary>diffusers' PNDM (leading spacing) on one sample, in float64: the peer's algorithm as it reads.</summary>
    private static (double[] X, List<double> Calls) Peer(IReadOnlyList<double> ac, int T, int n, int offset, bool setAlphaToOne, double[] x)
    {
        int ratio = T / n;
        var ts = Enumerable.Range(0, n).Select(i => i * ratio + offset).ToArray(); // ascending
        var prk = ts[^4..].SelectMany(t => new[] { t, t + T / n / 2 }).ToArray();
        prk = prk[..^1].SelectMany(t => new[] { t, t }).ToArray()[1..^1].Reverse().ToArray();
        var plms = ts[..^3].Reverse().ToArray();
        double finalAc = setAlphaToOne ? 1.0 : ac[0];
        var calls = new List<double>();
        double[] Eps(double[] s, int t)
        {
            calls.Add(t);
            var d = new double[s.Length];
            double a = Math.Sqrt(ac[t]), sg = Math.Sqrt(1 - ac[t]);
            Mix.PosteriorMean(s, a, sg, d);
            return s.Select((v, j) => (v - a * d[j]) / sg).ToArray();
        }
        double[] Prev(double[] s, int t, int tp, double[] e)
        {
            double at = ac[t], ap = tp >= 0 ? ac[tp] : finalAc, bt = 1 - at, bp = 1 - ap;
            double sc = Math.Sqrt(ap / at), den = at * Math.Sqrt(bp) + Math.Sqrt(at * bt * ap);
            return s.Select((v, j) => sc * v - (ap - at) * e[j] / den).ToArray();
        }
        var ets = new List<double[]>();
        var sample = (double[])x.Clone();
        double[] cur = new double[x.Length], curSample = sample;
        int counter = 0;
        foreach (int t0 in prk)
        {
            var e = Eps(sample, t0);
            int diff = counter % 2 == 1 ? 0 : T / n / 2;
            int prev = t0 - diff, t = prk[counter / 4 * 4];
            double[] m = e;
            if (counter % 4 == 0) { cur = e.Select(v => v / 6).ToArray(); ets.Add(e); curSample = sample; }
            else if (counter % 4 == 1 || counter % 4 == 2) cur = cur.Select((v, j) => v + e[j] / 3).ToArray();
            else { m = cur.Select((v, j) => v + e[j] / 6).ToArray(); cur = new double[x.Length]; }
            sample = Prev(curSample, t, prev, m);
            counter++;
        }
        foreach (int t in plms)
        {
            var e = Eps(sample, t);
            ets.Add(e);
            ets = ets.TakeLast(4).ToList();
            double[] m = ets.Count switch
            {
                1 => e,
                2 => e.Select((v, j) => (3 * ets[^1][j] - ets[^2][j]) / 2).ToArray(),
                3 => e.Select((v, j) => (23 * ets[^1][j] - 16 * ets[^2][j] + 5 * ets[^3][j]) / 12).ToArray(),
                _ => e.Select((v, j) => (55 * ets[^1][j] - 59 * ets[^2][j] + 37 * ets[^3][j] - 9 * ets[^4][j]) / 24).ToArray(),
            };
            sample = Prev(sample, t, t - T / n, m);
        }
        return (sample, calls);
    }

    private sealed class Recorder(IGenerativeModel<double> inner) : IGenerativeModel<double>
    {
        public List<double> Times { get; } = [];
        public Prediction Prediction => inner.Prediction;
        public void Evaluate(BatchTensor<double> x, ReadOnlySpan<double> t, in ModelCondition condition, BatchTensor<double> output)
        {
            Times.Add(t[0]);
            inner.Evaluate(x, t, condition, output);
        }
    }

    [Theory]
    [InlineData(20, false)]
    [InlineData(10, true)]
    [InlineData(50, false)]
    public void RungeKuttaWarmUpMatchesTheTranscribedPeer(int steps, bool setAlphaToOne)
    {
        var config = DiffusersSchedulerConfig.Parse($$"""
            {"_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "steps_offset": 1, "set_alpha_to_one": {{(setAlphaToOne ? "true" : "false")}}}
            """);
        Assert.False(config.SkipPrkSteps);
        var plan = config.CreatePlan(steps);
        Assert.True(Assert.IsType<PlmsSampler>(plan.Sampler).RungeKuttaWarmUp);
        var start = new[] { new[] { 0.7, -1.2, 0.3 }, new[] { -0.4, 0.9, 1.6 } };
        var model = new Recorder(new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, plan.ModelTimeMap));
        using var x = BatchTensor<double>.FromRows(start);
        plan.Run(model, x);
        for (int b = 0; b < start.Length; b++)
        {
            var (peer, calls) = Peer(config.AlphasCumprod, 1000, steps, 1, setAlphaToOne, start[b]);
            for (int j = 0; j < 3; j++) Assert.Equal(peer[j], x.Row(b)[j], 9);
            if (b == 0)
            {
                Assert.Equal(calls, model.Times);
                Assert.Equal(calls, config.Timesteps(plan.Schedule));
            }
        }
    }
}
