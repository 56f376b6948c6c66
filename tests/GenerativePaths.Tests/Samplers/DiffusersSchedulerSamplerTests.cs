using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>
/// The samplers behind the diffusers classes of the config split (PLMS, DEIS, DPM-Solver++ 3M and single-step, LCM, TCD, flow-matching
/// Heun, SA-Solver): the invariants every sampler keeps (a zero step is the identity, batch splitting and threads change nothing
/// bit for bit, finite from alpha = 0 to sigma = 0, a step to sigma = 0 returns the denoised estimate, no allocation in steady state),
/// closed forms, and convergence orders against a fine-step RK4 oracle.
/// </summary>
public class DiffusersSchedulerSamplerTests
{
    public static Sampler[] NewSamplers() =>
    [
        new PlmsSampler(), new PlmsSampler(rungeKuttaWarmUp: true), new DeisSampler(1), new DeisSampler(2), new DeisSampler(3), new DpmSolverPlusPlus3MSampler(),
        new DpmSolverPlusPlus3MSampler(DpmSolverSecondOrder.Heun), new DpmSolverPlusPlus3MSampler(thirdOrderWeight: DpmSolverThirdOrderWeight.Taylor), new DpmSolverPlusPlusSinglestepSampler(2), new DpmSolverPlusPlusSinglestepSampler(3),
        new DpmSolverPlusPlusSinglestepSampler(3, DpmSolverSecondOrder.Heun), new LcmSampler(), new TcdSampler(), new TcdSampler(0),
        new FlowMatchHeunSampler(), new SaSolverSampler(), new SaSolverSampler(3, 3), new SaSolverSampler(2, 2, _ => 1.0),
    ];

    public static TheoryData<int> Indices()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < NewSamplers().Length; i++) d.Add(i);
        return d;
    }

    private static Gen<double> Between(double lo, double hi) => Gen.Choose(0, 1_000_000).Select(i => lo + (hi - lo) * i / 1_000_000.0);

    // Consistency jumps (LCM) and re-noising (TCD with gamma > 0, SA-Solver with tau > 0) replace part of the state by design.
    private static bool Renoises(Sampler s) => s is LcmSampler or TcdSampler { Gamma: > 0 } || (s is SaSolverSampler sa && sa.Tau(0.5) > 0);

    [Property(MaxTest = 40)]
    public Property ZeroLengthStepIsTheIdentity() => Prop.ForAll(
        (from t in Between(0.05, 0.95) from k in Gen.Choose(0, NewSamplers().Length - 1) select (t, k)).ToArbitrary(),
        c =>
        {
            var sampler = NewSamplers()[c.k];
            if (Renoises(sampler)) return true;
            var path = new TestCosinePath();
            var schedule = Schedule(path, [c.t, c.t, 0.0]);
            var model = new GaussianMixtureModel<double>(Mix, Prediction.Velocity, ModelTimeMaps.Path(path));
            using var x = Normals(3, 4, 7);
            using var before = x.Clone();
            var state = new SamplerState<double>(model, schedule, x, new PhiloxNoise(3));
            state.BeginStep(0);
            sampler.Step(state, 0);
            double diff = 0;
            for (int i = 0; i < x.Length; i++) diff = Math.Max(diff, Math.Abs(x.Span[i] - before.Span[i]));
            return diff <= 1e-12;
        });

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
    public void ZeroTerminalSnrStartAndFinalStepToZeroAreFinite(int k)
    {
        // Cosine path from t = 1 (alpha = 0 exactly) to t = 0 (sigma = 0), v-prediction model.
        var points = Linspace(1, 0, 10).Select(t => new SchedulePoint(t == 1 ? 0 : Math.Cos(Math.PI * t / 2), t == 0 ? 0 : Math.Sin(Math.PI * t / 2), t)).ToList();
        var schedule = new StepSchedule(new TestCosinePath(), points);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Velocity, t => new NoiseLevel(t == 1 ? 0 : Math.Cos(Math.PI * t / 2), t == 0 ? 0 : Math.Sin(Math.PI * t / 2)));
        using var x = Normals(3, 4, 8);
        SamplingLoop.Run(model, x, schedule, NewSamplers()[k], new PhiloxNoise(1));
        Assert.True(TensorReductions.IsFinite<double>(x.Span));
    }

    [Theory]
    [MemberData(nameof(Indices))]
    public void FinalStepToZeroReturnsTheDenoisedEstimate(int k)
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, [0.3, 0.0]);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var x = Normals(2, 4, 4);
        var sampler = NewSamplers()[k];
        var expected = new double[2][];
        for (int b = 0; b < 2; b++)
        {
            expected[b] = new double[4];
            Mix.PosteriorMean(x.Row(b).ToArray(), path.Alpha(0.3), path.Sigma(0.3), expected[b]);
            if (sampler is LcmSampler lcm)
            {
                // The consistency function: c_skip x + c_out x0hat at the model time 0.3 (LCM's boundary condition).
                var (skip, cout) = lcm.BoundaryScalings(0.3);
                for (int j = 0; j < 4; j++) expected[b][j] = skip * x.Row(b)[j] + cout * expected[b][j];
            }
        }
        SamplingLoop.Run(model, x, schedule, sampler, new PhiloxNoise(1));
        for (int b = 0; b < 2; b++) for (int j = 0; j < 4; j++) Assert.Equal(expected[b][j], x.Row(b)[j], 10);
    }

    private sealed class FreeModel : IGenerativeModel<float>
    {
        public Prediction Prediction => Prediction.Epsilon;
        public void Evaluate(BatchTensor<float> x, ReadOnlySpan<double> t, in ModelCondition condition, BatchTensor<float> output) => output.Span.Fill(0.1f);
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

    [Fact]
    public void DeisOfOrderOneAndTcdWithoutNoiseAreDdim()
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.95, 0.0, 9));
        double[][] Run(Sampler s)
        {
            using var x = Normals(3, 4, 5);
            SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path)), x, schedule, s, new PhiloxNoise(2));
            return x.ToRows();
        }
        var ddim = Run(new DdimSampler());
        foreach (var s in new Sampler[] { new DeisSampler(1), new TcdSampler(0), new DpmSolverPlusPlusSinglestepSampler(1) })
        {
            var r = Run(s);
            for (int b = 0; b < 3; b++) for (int j = 0; j < 4; j++) Assert.Equal(ddim[b][j], r[b][j], 11);
        }
    }

    [Fact]
    public void TcdWithFullStochasticityIsConsistencySamplingWithoutBoundaryTerm()
    {
        // gamma = 1: s = 0 (the clean end of the path), so x' = alpha' x0hat + sigma' z (Zheng et al. 2024, gamma = 1).
        var path = new VarianceExplodingPath(0, 10);
        var schedule = new StepSchedule(path, [new SchedulePoint(1, 4, 4), new SchedulePoint(1, 1, 1), new SchedulePoint(1, 0, 0)]);
        using var x = Normals(2, 4, 6);
        var start = x.ToRows();
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        var state = new SamplerState<double>(model, schedule, x, new PhiloxNoise(7));
        state.BeginStep(0);
        new TcdSampler(1).Step(state, 0);
        using var z = BatchTensor<double>.Allocate(2, 4);
        new PhiloxNoise(7).Fill(z, 0);
        for (int b = 0; b < 2; b++)
        {
            var d = new double[4];
            Mix.PosteriorMean(start[b], 1, 4, d);
            for (int j = 0; j < 4; j++) Assert.Equal(d[j] + z.Row(b)[j], x.Row(b)[j], 11);
        }
    }

    /// <summary>A classical RK4 oracle on dx/ds = (x - D(x; s)) / s with many steps (VE path).</summary>
    private static double[][] Rk4Oracle(double[][] start, double s0, double s1, int n)
    {
        double[] F(double[] x, double s)
        {
            var d = new double[x.Length];
            Mix.PosteriorMean(x, 1, s, d);
            return x.Select((v, j) => (v - d[j]) / s).ToArray();
        }
        return start.Select(row =>
        {
            var x = (double[])row.Clone();
            for (int i = 0; i < n; i++)
            {
                double sa = s0 * Math.Pow(s1 / s0, (double)i / n), sb = s0 * Math.Pow(s1 / s0, (double)(i + 1) / n), h = sb - sa, sm = 0.5 * (sa + sb);
                var k1 = F(x, sa);
                var k2 = F(x.Select((v, j) => v + 0.5 * h * k1[j]).ToArray(), sm);
                var k3 = F(x.Select((v, j) => v + 0.5 * h * k2[j]).ToArray(), sm);
                var k4 = F(x.Select((v, j) => v + h * k3[j]).ToArray(), sb);
                for (int j = 0; j < x.Length; j++) x[j] += h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
            }
            return x;
        }).ToArray();
    }

    public static TheoryData<int, double> OrderCases() => new()
    {
        { 0, 2.0 }, // DEIS 2
        { 1, 3.0 }, // DEIS 3
        { 2, 2.0 }, // DPM-Solver++(3M) with the peers' D2 weight: second order (see DpmSolverThirdOrderWeight)
        { 5, 3.0 }, // DPM-Solver++(3M) with the exact D2 weight
        { 3, 2.0 }, // DPM-Solver++ 2S
        { 4, 3.0 }, // DPM-Solver++ 3S (Heun form)
    };

    [Theory]
    [MemberData(nameof(OrderCases))]
    public void ConvergenceOrderAgainstAFineStepReference(int which, double order)
    {
        const double s0 = 5.0, s1 = 0.2;
        using var init = Normals(3, 4, 21);
        var start = init.ToRows().Select(r => r.Select(v => v * s0).ToArray()).ToArray();
        var reference = Rk4Oracle(start, s0, s1, 6000);
        Sampler sampler = which switch
        {
            0 => new DeisSampler(2, lowerOrderFinal: false),
            1 => new DeisSampler(3, lowerOrderFinal: false),
            2 => new DpmSolverPlusPlus3MSampler(lowerOrderFinal: false),
            3 => new DpmSolverPlusPlusSinglestepSampler(2, lowerOrderFinal: false),
            5 => new DpmSolverPlusPlus3MSampler(lowerOrderFinal: false, thirdOrderWeight: DpmSolverThirdOrderWeight.Taylor),
            _ => new DpmSolverPlusPlusSinglestepSampler(3, DpmSolverSecondOrder.Heun, lowerOrderFinal: false),
        };
        // A multistep method starts at lower order: its first steps have local errors of lower order, which would cap the global order
        // at 2. Two warm-up steps of a fixed tiny length (1e-4 in log sigma) make that start error negligible, so the measured order is
        // the method's own.
        bool multistep = which is <= 2 or 5;
        double Error(int n)
        {
            const double delta = 1e-4;
            double a = multistep ? s0 * Math.Exp(-2 * delta) : s0;
            var sigmas = (multistep ? new[] { s0, s0 * Math.Exp(-delta) } : [])
                .Concat(Enumerable.Range(0, n + 1).Select(i => a * Math.Pow(s1 / a, (double)i / n)));
            var schedule = new StepSchedule(new VarianceExplodingPath(0, s0), sigmas.Select(s => new SchedulePoint(1, s, s)));
            using var x = BatchTensor<double>.FromRows(start);
            SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding()), x, schedule, sampler);
            return x.ToRows().Zip(reference, (a, b) => a.Zip(b, (u, v) => Math.Abs(u - v)).Max()).Max();
        }
        double e1 = Error(48), e2 = Error(96);
        Assert.InRange(Math.Log2(e1 / e2), order - 0.2, order + 0.4);
    }

    /// <summary>RK4 on the rectified-flow ODE dx/ds = (x - x0hat(x; s)) / s (x = (1 - s) x0 + s eps), uniform in s.</summary>
    private static double[][] FlowRk4Oracle(double[][] start, double s0, double s1, int n)
    {
        double[] F(double[] x, double s)
        {
            var d = new double[x.Length];
            Mix.PosteriorMean(x, 1 - s, s, d);
            return x.Select((v, j) => (v - d[j]) / s).ToArray();
        }
        return start.Select(row =>
        {
            var x = (double[])row.Clone();
            double h = (s1 - s0) / n;
            for (int i = 0; i < n; i++)
            {
                double sa = s0 + i * h, sm = sa + h / 2, sb = sa + h;
                var k1 = F(x, sa);
                var k2 = F(x.Select((v, j) => v + 0.5 * h * k1[j]).ToArray(), sm);
                var k3 = F(x.Select((v, j) => v + 0.5 * h * k2[j]).ToArray(), sm);
                var k4 = F(x.Select((v, j) => v + h * k3[j]).ToArray(), sb);
                for (int j = 0; j < x.Length; j++) x[j] += h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
            }
            return x;
        }).ToArray();
    }

    [Fact]
    public void FlowMatchHeunIsSecondOrderOnTheRectifiedFlow()
    {
        const double s0 = 0.95, s1 = 0.1;
        using var init = Normals(3, 4, 31);
        var start = init.ToRows();
        var reference = FlowRk4Oracle(start, s0, s1, 4000);
        var path = new RectifiedFlowPath();
        double Error(int n)
        {
            var points = Enumerable.Range(0, n + 1).Select(i => s0 + (s1 - s0) * i / n).Select(s => new SchedulePoint(1 - s, s, s));
            var schedule = new StepSchedule(path, points);
            using var x = BatchTensor<double>.FromRows(start);
            SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.FlowVelocity, ModelTimeMaps.RectifiedFlow(1.0)), x, schedule, new FlowMatchHeunSampler());
            return x.ToRows().Zip(reference, (a, b) => a.Zip(b, (u, v) => Math.Abs(u - v)).Max()).Max();
        }
        double e1 = Error(40), e2 = Error(80);
        Assert.InRange(Math.Log2(e1 / e2), 1.8, 2.3);
    }

    [Theory]
    [InlineData(1, 1, 1.0)]
    [InlineData(2, 2, 2.0)]
    public void SaSolverWithoutNoiseConvergesAtItsOrder(int predictor, int corrector, double order)
    {
        // tau = 0: the probability-flow ODE; the predictor-corrector pair converges at the predictor's order (diffusers' order-2
        // modifications do not change it, as Xue et al. state). Warm-up steps of a fixed tiny length, as for the multistep methods above.
        const double s0 = 5.0, s1 = 0.2, delta = 1e-4;
        using var init = Normals(3, 4, 21);
        var start = init.ToRows().Select(r => r.Select(v => v * s0).ToArray()).ToArray();
        var reference = Rk4Oracle(start, s0, s1, 6000);
        double Error(int n)
        {
            double a = s0 * Math.Exp(-2 * delta);
            var sigmas = new[] { s0, s0 * Math.Exp(-delta) }.Concat(Enumerable.Range(0, n + 1).Select(i => a * Math.Pow(s1 / a, (double)i / n)));
            var schedule = new StepSchedule(new VarianceExplodingPath(0, s0), sigmas.Select(s => new SchedulePoint(1, s, s)));
            using var x = BatchTensor<double>.FromRows(start);
            SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding()), x, schedule,
                new SaSolverSampler(predictor, corrector, _ => 0.0, lowerOrderFinal: false), new PhiloxNoise(5));
            return x.ToRows().Zip(reference, (p, q) => p.Zip(q, (u, v) => Math.Abs(u - v)).Max()).Max();
        }
        double e1 = Error(48), e2 = Error(96);
        Assert.InRange(Math.Log2(e1 / e2), order - 0.25, order + 0.4); // measured: 0.87 (1, 1) and 1.85 (2, 2)
    }
}
