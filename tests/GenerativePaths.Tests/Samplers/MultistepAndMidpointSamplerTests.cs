using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>LMS, DPM-Solver-2 and UniPC: convergence orders against an RK4 oracle, exactness of the LMS weights, the ends of the
/// path, batch splitting and allocation.</summary>
public class MultistepAndMidpointSamplerTests
{
    public static Sampler[] NewSamplers() =>
    [
        new LmsSampler(), new LmsSampler(2), new LmsSampler(denoisedFinalStep: true), new DpmSolver2Sampler(), new DpmSolver2Sampler(sChurn: 2.0),
        new UniPcSampler(), new UniPcSampler(variant: UniPcVariant.Bh1), new UniPcSampler(3, lowerOrderFinal: false),
        new UniPcSampler(2, disableCorrector: [1, 2]),
    ];

    public static TheoryData<int> Indices()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < NewSamplers().Length; i++) d.Add(i);
        return d;
    }

    /// <summary>Classical RK4 on dx_ve/ds = (x_ve - D(x_ve; s)) / s through the given sigmas, each interval cut into <paramref name="sub"/> steps.</summary>
    private static double[][] Rk4Oracle(double[][] start, IReadOnlyList<double> sigmas, int sub) => Rk4OracleAtEveryNode(start, sigmas, sub)[^1];

    /// <summary>The RK4 oracle's state at every node of <paramref name="sigmas"/> ([node][sample][coordinate]).</summary>
    private static double[][][] Rk4OracleAtEveryNode(double[][] start, IReadOnlyList<double> sigmas, int sub)
    {
        var perSample = start.Select(row => Rk4Row(row, sigmas, sub)).ToArray();
        return Enumerable.Range(0, sigmas.Count).Select(i => perSample.Select(p => p[i]).ToArray()).ToArray();
    }

    private static double[][] Rk4Row(double[] row, IReadOnlyList<double> sigmas, int sub)
    {
        double[] F(double[] x, double s)
        {
            var d = new double[x.Length];
            Mix.PosteriorMean(x, 1, s, d);
            return x.Select((v, j) => (v - d[j]) / s).ToArray();
        }
        var nodes = new double[sigmas.Count][];
        var x = (double[])row.Clone();
        nodes[0] = (double[])x.Clone();
        for (int i = 0; i + 1 < sigmas.Count; i++)
        {
                for (int k = 0; k < sub; k++)
                {
                    double sa = sigmas[i] * Math.Pow(sigmas[i + 1] / sigmas[i], (double)k / sub);
                    double sb = sigmas[i] * Math.Pow(sigmas[i + 1] / sigmas[i], (double)(k + 1) / sub);
                    double h = sb - sa, sm = 0.5 * (sa + sb);
                    var k1 = F(x, sa);
                    var k2 = F(x.Select((v, j) => v + 0.5 * h * k1[j]).ToArray(), sm);
                    var k3 = F(x.Select((v, j) => v + 0.5 * h * k2[j]).ToArray(), sm);
                    var k4 = F(x.Select((v, j) => v + h * k3[j]).ToArray(), sb);
                    for (int j = 0; j < x.Length; j++) x[j] += h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
                }
            nodes[i + 1] = (double[])x.Clone();
        }
        return nodes;
    }

    [Fact]
    public void LmsOfOrderFourConvergesWithOrderFourFromAnExactHistory()
    {
        // The warm-up steps of order 1-3 (as the peers take them) limit the global order to 2 asymptotically, so the order of the
        // four-step formula itself is measured from an exact start: the state at s_3 and the slopes at s_0..s_2 come from the oracle,
        // and the sampler takes steps 3 .. N-1.
        double Error(int n)
        {
            var sigmas = Enumerable.Range(0, n + 1).Select(i => 5.0 * Math.Pow(0.2 / 5.0, (double)i / n)).ToArray();
            using var init = Normals(3, 4, 21);
            var start = init.ToRows().Select(r => r.Select(v => v * sigmas[0]).ToArray()).ToArray();
            var oracle = Rk4OracleAtEveryNode(start, sigmas, 8000 / n);
            var schedule = new StepSchedule(new VarianceExplodingPath(0, sigmas[0]), sigmas.Select(s => new SchedulePoint(1, s, s)));
            using var x = BatchTensor<double>.FromRows(oracle[3]);
            var state = new SamplerState<double>(new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding()), schedule, x);
            var ring = state.History("lms", "slope", 4); // LMS's own history ring
            for (int i = 0; i < 3; i++)
            {
                var slot = ring[i];
                for (int b = 0; b < 3; b++)
                {
                    var d = new double[4];
                    Mix.PosteriorMean(oracle[i][b], 1, sigmas[i], d);
                    for (int j = 0; j < 4; j++) slot.Row(b)[j] = (oracle[i][b][j] - d[j]) / sigmas[i];
                }
            }
            for (int i = 0; i < 3; i++) ring.Record(i); // the oracle's slopes stand for LMS's own history
            var sampler = new LmsSampler(4);
            for (int i = 3; i < n; i++) { state.BeginStep(i); sampler.Step(state, i); }
            return x.ToRows().Zip(oracle[^1], (a, b) => a.Zip(b, (u, v) => Math.Abs(u - v)).Max()).Max();
        }
        double e1 = Error(80), e2 = Error(160);
        double observed = Math.Log2(e1 / e2);
        Assert.True(Math.Abs(observed - 4) <= 0.15, $"errors {e1:E3} -> {e2:E3}, observed order {observed:F3}");
    }

    /// <summary>Geometric sigmas from 5 to 0.2 in <paramref name="n"/> steps; with <paramref name="gradedStart"/> three steps of
    /// length h^2 (in log sigma) come first, so that a warm-up at lower order does not limit the global order.</summary>
    private static double[] Sigmas(int n, bool gradedStart)
    {
        const double s0 = 5.0, s1 = 0.2;
        double h = Math.Log(s0 / s1) / n;
        var logs = new List<double> { Math.Log(s0) };
        if (gradedStart) for (int k = 1; k <= 3; k++) logs.Add(Math.Log(s0) - k * h * h);
        double begin = logs[^1];
        int rest = n;
        for (int k = 1; k <= rest; k++) logs.Add(begin + (Math.Log(s1) - begin) * k / rest);
        return logs.Select(Math.Exp).ToArray();
    }

    private static double ErrorAgainstOracle(Sampler sampler, double[] sigmas)
    {
        using var init = Normals(3, 4, 21);
        var start = init.ToRows().Select(r => r.Select(v => v * sigmas[0]).ToArray()).ToArray();
        var reference = Rk4Oracle(start, sigmas, 4000 / (sigmas.Length - 1) + 1);
        var schedule = new StepSchedule(new VarianceExplodingPath(0, sigmas[0]), sigmas.Select(s => new SchedulePoint(1, s, s)));
        using var x = BatchTensor<double>.FromRows(start);
        SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding()), x, schedule, sampler);
        return x.ToRows().Zip(reference, (a, b) => a.Zip(b, (u, v) => Math.Abs(u - v)).Max()).Max();
    }

    [Theory]
    [InlineData("lms2", 2.0, 40, false)]
    [InlineData("dpm2", 2.0, 40, false)]
    [InlineData("unipc-bh2", 3.0, 60, false)]
    [InlineData("unipc-bh1", 3.0, 120, false)]
    [InlineData("unipc3-bh2", 4.0, 160, true)]
    public void ConvergenceOrderAgainstAFineStepReference(string which, double order, int n, bool gradedStart)
    {
        Sampler Make() => which switch
        {
            "lms4" => new LmsSampler(4),
            "lms2" => new LmsSampler(2),
            "dpm2" => new DpmSolver2Sampler(),
            "unipc-bh2" => new UniPcSampler(2, UniPcVariant.Bh2, lowerOrderFinal: false),
            "unipc3-bh2" => new UniPcSampler(3, UniPcVariant.Bh2, lowerOrderFinal: false),
            _ => new UniPcSampler(2, UniPcVariant.Bh1, lowerOrderFinal: false),
        };
        double e1 = ErrorAgainstOracle(Make(), Sigmas(n, gradedStart));
        double e2 = ErrorAgainstOracle(Make(), Sigmas(2 * n, gradedStart));
        double observed = Math.Log2(e1 / e2);
        Assert.True(Math.Abs(observed - order) <= 0.15, $"{which}: errors {e1:E3} -> {e2:E3}, observed order {observed:F3}, expected {order}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void LmsWeightsIntegrateEveryPolynomialOfLowerDegreeExactly(int q)
    {
        // Oracle: integral_a^b tau^k d tau = (b^(k+1) - a^(k+1)) / (k+1) for k < q; the weights must reproduce it from the node values.
        var rng = new Random(5 + q);
        for (int trial = 0; trial < 50; trial++)
        {
            var nodes = Enumerable.Range(0, q).Select(_ => 0.1 + 5 * rng.NextDouble()).ToArray();
            double a = nodes[0], b = trial % 5 == 0 ? 0.0 : a * rng.NextDouble();
            var w = new double[q];
            LmsSampler.LagrangeIntegrals(nodes, a, b, w);
            for (int k = 0; k < q; k++)
            {
                double exact = (Math.Pow(b, k + 1) - Math.Pow(a, k + 1)) / (k + 1);
                double got = nodes.Select((s, j) => w[j] * Math.Pow(s, k)).Sum();
                double scale = nodes.Zip(w, (s, wj) => Math.Abs(wj * Math.Pow(s, k))).Sum() + Math.Abs(exact);
                Assert.True(Math.Abs(got - exact) <= 1e-12 * scale, $"q={q}, k={k}: {got} vs {exact}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public async Task BatchSplittingAndThreadsDoNotChangeResults(int k)
    {
        var sampler = NewSamplers()[k];
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.98, 0.0, 12));
        using var whole = Normals(6, 4, 11);
        using var left = BatchTensor<double>.FromRows(whole.ToRows()[..2]);
        using var right = BatchTensor<double>.FromRows(whole.ToRows()[2..]);
        SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path)), whole, schedule, sampler, new PhiloxNoise(99));
        var t1 = Task.Run(() => SamplingLoop.Run(new SamplerState<double>(new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path)), schedule, left, new PhiloxNoise(99), [0, 1]), sampler));
        var t2 = Task.Run(() => SamplingLoop.Run(new SamplerState<double>(new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path)), schedule, right, new PhiloxNoise(99), [2, 3, 4, 5]), sampler));
        await Task.WhenAll(t1, t2);
        var w = whole.ToRows();
        var parts = left.ToRows().Concat(right.ToRows()).ToArray();
        for (int b = 0; b < 6; b++) Assert.Equal(w[b], parts[b]); // bit-identical
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void FiniteFromZeroTerminalSnrToSigmaZero(int k)
    {
        // Cosine path from t = 1 (alpha = 0 exactly) to t = 0 (sigma = 0), with v-, x0- and flow-style predictions.
        static NoiseLevel Level(double t) => new(t == 1 ? 0 : Math.Cos(Math.PI * t / 2), t == 0 ? 0 : Math.Sin(Math.PI * t / 2));
        var points = Linspace(1, 0, 10).Select(t => new SchedulePoint(Level(t).Alpha, Level(t).Sigma, t)).ToList();
        var schedule = new StepSchedule(new TestCosinePath(), points);
        foreach (var prediction in new[] { Prediction.Velocity, Prediction.Data })
        {
            var model = new GaussianMixtureModel<double>(Mix, prediction, Level);
            using var x = Normals(3, 4, 8);
            SamplingLoop.Run(model, x, schedule, NewSamplers()[k], new PhiloxNoise(1));
            Assert.True(TensorReductions.IsFinite<double>(x.Span), $"{NewSamplers()[k].Name} with {prediction}");
        }
    }

    [Theory]
    [InlineData(UniPcVariant.Bh1, true)]
    [InlineData(UniPcVariant.Bh1, false)]
    [InlineData(UniPcVariant.Bh2, true)]
    [InlineData(UniPcVariant.Bh2, false)]
    public void UniPcFinalStepToSigmaZeroIsTheDenoisedEstimate(UniPcVariant variant, bool lowerOrderFinal)
    {
        // The limit h -> infinity of the last step is alpha' x0hat (diffusers' bh1 gives NaN here). The corrector of the last
        // noisy point is disabled so that the point the final step starts from is the one the step callback reports; the oracle
        // is the mixture's posterior mean there.
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.9, 0.0, 7));
        int last = schedule.StepCount - 1;
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var x = Normals(3, 4, 4);
        double[][]? before = null;
        var options = new SamplingOptions<double> { OnStep = (i, _, xs, _) => { if (i == last - 1) before = xs.ToRows(); } };
        SamplingLoop.Run(model, x, schedule, new UniPcSampler(2, variant, lowerOrderFinal, disableCorrector: [last - 1]), null, options);
        Assert.NotNull(before);
        Assert.True(TensorReductions.IsFinite<double>(x.Span));
        double t = schedule[last].ModelTime;
        for (int b = 0; b < 3; b++)
        {
            var expected = new double[4];
            Mix.PosteriorMean(before[b], path.Alpha(t), path.Sigma(t), expected);
            for (int j = 0; j < 4; j++) Assert.Equal(expected[j], x.Row(b)[j], 10);
        }
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void ZeroLengthStepsAreTheIdentityAndRepeatedPointsStayFinite(int k)
    {
        var sampler = NewSamplers()[k];
        if (sampler is DpmSolver2Sampler { SChurn: > 0 }) return; // churn raises the noise by design: not an identity
        var path = new TestCosinePath();
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Velocity, ModelTimeMaps.Path(path));
        // A zero-length first step leaves x unchanged.
        using var x = Normals(3, 4, 7);
        using var before = x.Clone();
        var state = new SamplerState<double>(model, Schedule(path, [0.6, 0.6, 0.0]), x, new PhiloxNoise(3));
        state.BeginStep(0);
        sampler.Step(state, 0);
        for (int i = 0; i < x.Length; i++) Assert.Equal(before.Span[i], x.Span[i], 12);
        // A repeated point in the middle of a run (history with a zero-length step) lowers the order there but stays finite and
        // at least as accurate as first order: the error against a fine-step run is at most that of DDIM on the same plan.
        double[] times = [0.9, 0.7, 0.5, 0.5, 0.3, 0.1, 0.0];
        double Error(Sampler s)
        {
            using var y = Normals(3, 4, 7);
            using var fine = Normals(3, 4, 7);
            SamplingLoop.Run(model, y, Schedule(path, times), s, new PhiloxNoise(3));
            SamplingLoop.Run(model, fine, Schedule(path, Linspace(0.9, 0.0, 801)), new HeunSampler());
            Assert.True(TensorReductions.IsFinite<double>(y.Span));
            double e = 0;
            for (int i = 0; i < y.Length; i++) e = Math.Max(e, Math.Abs(y.Span[i] - fine.Span[i]));
            return e;
        }
        double ours = Error(sampler), ddim = Error(new DdimSampler());
        Assert.True(ours <= ddim, $"{sampler.Name}: error {ours:E3} with a repeated point, DDIM {ddim:E3}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LmsFinalStepToZero(bool denoisedFinalStep)
    {
        // Oracle on the VE path: the multistep rule integrates the cubic through the slopes d_j = (x_j - D_j) / s_j down to 0,
        // x' = x + sum_j c_j d_j, with c_j = integral_s^0 L_j; a plain float64 loop written here, with the weights from the closed
        // forms of the Lagrange integrals evaluated by Simpson's rule (exact for cubics). With denoisedFinalStep: x' = D(x; s).
        double[] sigmas = [4.0, 2.0, 1.0, 0.5, 0.0];
        using var init = Normals(2, 4, 9);
        var start = init.ToRows().Select(r => r.Select(v => v * 4.0).ToArray()).ToArray();
        var expected = start.Select(row =>
        {
            var x = (double[])row.Clone();
            var slopes = new List<double[]>();
            for (int i = 0; i < 4; i++)
            {
                var d = new double[4];
                Mix.PosteriorMean(x, 1, sigmas[i], d);
                if (i == 3 && denoisedFinalStep) return d;
                slopes.Add(x.Select((v, j) => (v - d[j]) / sigmas[i]).ToArray());
                int q = Math.Min(i + 1, 4);
                double a = sigmas[i], b = sigmas[i + 1];
                double L(int j, double tau)
                {
                    double p = 1;
                    for (int k = 0; k < q; k++) if (k != j) p *= (tau - sigmas[i - k]) / (sigmas[i - j] - sigmas[i - k]);
                    return p;
                }
                var next = (double[])x.Clone();
                for (int j = 0; j < q; j++)
                {
                    double c = (b - a) / 6 * (L(j, a) + 4 * L(j, 0.5 * (a + b)) + L(j, b));
                    for (int e = 0; e < 4; e++) next[e] += c * slopes[i - j][e];
                }
                x = next;
            }
            return x;
        }).ToArray();
        var schedule = new StepSchedule(new VarianceExplodingPath(0, 4), sigmas.Select(s => new SchedulePoint(1, s, s)));
        using var xs = BatchTensor<double>.FromRows(start);
        SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding()), xs, schedule, new LmsSampler(4, denoisedFinalStep));
        for (int b = 0; b < 2; b++) for (int j = 0; j < 4; j++) Assert.Equal(expected[b][j], xs.Row(b)[j], 11);
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void EveryPredictionTypeOnEveryKindOfPathBeatsEuler(int k)
    {
        // Flow velocity on a shifted rectified-flow path, epsilon and x0 on a discrete VP path, v on a cosine path: 12 steps of
        // the sampler land closer to a 600-step Heun run than 12 Euler steps do.
        var sampler = NewSamplers()[k];
        if (sampler is DpmSolver2Sampler { SChurn: > 0 }) return; // stochastic: a different target
        var vp = DiscreteVpPath.FromBetas(BetaSchedules.ScaledLinear(1000, 0.00085, 0.012));
        var cases = new (StepSchedule Coarse, StepSchedule Fine, IGenerativeModel<double> Model)[]
        {
            (StepSchedules.Flow(12, FlowTimeShift.Static(3.0)), StepSchedules.Flow(600, FlowTimeShift.Static(3.0)),
                new GaussianMixtureModel<double>(Mix, Prediction.FlowVelocity, ModelTimeMaps.RectifiedFlow())),
            (StepSchedules.FromSigmaOverAlpha(vp, SigmaArrays.Karras(12, 0.03, 14.6)), StepSchedules.FromSigmaOverAlpha(vp, SigmaArrays.Karras(600, 0.03, 14.6)),
                new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.DiscreteVariancePreserving(vp.AlphasCumprod))),
            (StepSchedules.FromSigmaOverAlpha(vp, SigmaArrays.Karras(12, 0.03, 14.6)), StepSchedules.FromSigmaOverAlpha(vp, SigmaArrays.Karras(600, 0.03, 14.6)),
                new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.DiscreteVariancePreserving(vp.AlphasCumprod))),
            // (Linspace may end at 1e-16 rather than 0: a final log-SNR jump of ~35, which a multistep method without lowerOrderFinal
            // extrapolates badly; the plan here ends at exactly 0, where every sampler returns the denoised estimate.)
            (Schedule(new TestCosinePath(), Linspace(0.95, 0, 13).Select(t => t < 1e-9 ? 0 : t)), Schedule(new TestCosinePath(), Linspace(0.95, 0, 601).Select(t => t < 1e-9 ? 0 : t)),
                new GaussianMixtureModel<double>(Mix, Prediction.Velocity, ModelTimeMaps.Path(new TestCosinePath()))),
        };
        foreach (var (coarse, fine, model) in cases)
        {
            void Run(StepSchedule schedule, Sampler s, BatchTensor<double> x)
            {
                using var start = Normals(3, 4, 17);
                for (int i = 0; i < x.Length; i++) x.Span[i] = start.Span[i] * schedule[0].Sigma;
                SamplingLoop.Run(model, x, schedule, s, new PhiloxNoise(5));
            }
            using var reference = BatchTensor<double>.Allocate(3, 4);
            using var ours = BatchTensor<double>.Allocate(3, 4);
            using var euler = BatchTensor<double>.Allocate(3, 4);
            Run(fine, new HeunSampler(), reference);
            Run(coarse, sampler, ours);
            Run(coarse, new EulerSampler(), euler);
            double Err(BatchTensor<double> a) { double e = 0; for (int i = 0; i < a.Length; i++) e = Math.Max(e, Math.Abs(a.Span[i] - reference.Span[i])); return e; }
            Assert.True(TensorReductions.IsFinite<double>(ours.Span));
            Assert.True(Err(ours) < Err(euler), $"{sampler.Name} with {model.Prediction} on {coarse.Path.GetType().Name}: error {Err(ours):E3}, Euler {Err(euler):E3}");
        }
    }

    private sealed class FreeModel : IGenerativeModel<float>
    {
        public Prediction Prediction => Prediction.Epsilon;
        public void Evaluate(BatchTensor<float> x, ReadOnlySpan<double> t, in GenerativePaths.Models.ModelCondition condition, BatchTensor<float> output) { }
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void ReusedStateRunAllocatesNothing(int k)
    {
        var sampler = NewSamplers()[k];
        var schedule = Schedule(new TestCosinePath(), Linspace(0.99, 0, 21));
        using var x = BatchTensor<float>.Allocate(2, 64);
        var state = new SamplerState<float>(new FreeModel(), schedule, x, new PhiloxNoise(1));
        SamplingLoop.Run(state, sampler);
        long before = GC.GetAllocatedBytesForCurrentThread();
        SamplingLoop.Run(state, sampler);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{sampler.Name}: a reused-state run of 20 steps allocated {allocated} bytes.");
    }
}
