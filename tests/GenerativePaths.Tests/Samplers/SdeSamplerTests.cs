using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using Xunit.Abstractions;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>The SDE samplers on a Brownian path: strong convergence as the steps are refined on the same path, and closed forms.</summary>
public class SdeSamplerTests(ITestOutputHelper output)
{
    private const double SigmaMax = 10, SigmaMin = 0.05;

    /// <summary>Runs <paramref name="sampler"/> on the VE path with <paramref name="n"/> log-uniform steps from SigmaMax to SigmaMin
    /// (no final step to 0), driven by the Brownian path of <paramref name="noise"/>, with the denoiser of <paramref name="mixture"/>.</summary>
    private static double[][] RunVe(Sampler sampler, int n, BrownianNoise noise, int batch, GaussianMixture mixture)
    {
        var sigmas = Enumerable.Range(0, n + 1).Select(i => SigmaMax * Math.Pow(SigmaMin / SigmaMax, (double)i / n)).ToArray();
        var schedule = new StepSchedule(new VarianceExplodingPath(0, SigmaMax), sigmas.Select(s => new SchedulePoint(1, s, s)));
        using var x = Normals(batch, 4, 5);
        for (int i = 0; i < x.Length; i++) x.Span[i] *= SigmaMax;
        var model = new GaussianMixtureModel<double>(mixture, Prediction.Data, ModelTimeMaps.VarianceExploding());
        SamplingLoop.Run(model, x, schedule, sampler, noise);
        return x.ToRows();
    }

    private static double RmsDifference(double[][] a, double[][] b)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < a[i].Length; j++) { double d = a[i][j] - b[i][j]; sum += d * d; count++; }
        return Math.Sqrt(sum / count);
    }

    [Theory]
    [InlineData(DpmSolverSecondOrder.Midpoint)]
    [InlineData(DpmSolverSecondOrder.Heun)]
    public void DpmSolverPlusPlus2MSdeConvergesStronglyAtOrderOneOnTheSameBrownianPath(DpmSolverSecondOrder rule)
    {
        // The SDE dx = ... + sqrt(2 sigma) dW(sigma) has additive noise: an exponential integrator whose noise term is the increment
        // of the same path has strong order 1 (Kloeden and Platen 1992, section 10.2, order 1 for additive noise). The reference is a
        // run of 4096 steps on the same path (seed); the RMS error over the batch falls by 2 per halving of the step.
        // Data: a one-component Gaussian mixture (the SDE is then linear). On the three-component mixture of the other tests the observed
        // rate at these step counts is erratic (0.1 to 3 between refinements): a few samples end in another component at some step counts.
        var mixture = GaussianMixture.Isotropic([1.0], [[0.5, -1.0, 1.5, 0.0]], [0.5]);
        var noise = new BrownianNoise(7, SigmaMin, SigmaMax, depth: 24);
        var sampler = new DpmSolverPlusPlus2MSdeSampler(1.0, secondOrder: rule);
        const int batch = 32;
        var fine = RunVe(sampler, 4096, noise, batch, mixture);
        int[] ns = [16, 32, 64, 128, 256];
        var errors = ns.Select(n => RmsDifference(RunVe(sampler, n, noise, batch, mixture), fine)).ToArray();
        for (int k = 0; k + 1 < ns.Length; k++) output.WriteLine($"n = {ns[k]}: error {errors[k]:E3}, observed order {Math.Log2(errors[k] / errors[k + 1]):F3}");
        // The least-squares slope of log error against log step over the finest three refinements.
        var n3 = ns[^3..];
        var e3 = errors[^3..];
        double mx = n3.Average(n => Math.Log(1.0 / n)), my = e3.Average(Math.Log);
        double slope = n3.Zip(e3, (n, e) => (Math.Log(1.0 / n) - mx) * (Math.Log(e) - my)).Sum() / n3.Sum(n => Math.Pow(Math.Log(1.0 / n) - mx, 2));
        output.WriteLine($"slope {slope:F3}");
        Assert.True(Math.Abs(slope - 1) <= 0.25, $"strong order {slope:F3}, expected 1 (errors {string.Join(", ", errors.Select(e => e.ToString("E2")))})");
        // Not an artefact of noise that vanishes: another Brownian path gives a clearly different sample.
        var other = RunVe(sampler, 4096, new BrownianNoise(8, SigmaMin, SigmaMax, depth: 24), batch, mixture);
        Assert.True(RmsDifference(other, fine) > 20 * errors[^1]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task BrownianDrivenRunsDoNotDependOnBatchSplittingOrThreads(int k)
    {
        Sampler sampler = k switch
        {
            0 => new DpmSolverPlusPlus2MSdeSampler(), 1 => new DpmSolverPlusPlus3MSdeSampler(), 2 => new DpmSolverPlusPlusSdeSampler(),
            3 => new DpmSolverPlusPlus2SAncestralSampler(), 4 => new DpmSolver2AncestralSampler(), _ => new DpmSolverAdaptiveSampler(eta: 1.0, control: AdaptiveStepControl.PerSample),
        };
        var path = new TestCosinePath();
        var schedule = Schedule(path, [.. Linspace(0.95, 0.0, 10).SkipLast(1), 0.0]);
        var noise = BrownianNoise.ForSchedule(42, schedule);
        GaussianMixtureModel<double> Model() => new(Mix, Prediction.Velocity, ModelTimeMaps.Path(path));
        using var whole = Normals(5, 4, 21);
        using var left = BatchTensor<double>.FromRows(whole.ToRows()[..2]);
        using var right = BatchTensor<double>.FromRows(whole.ToRows()[2..]);
        SamplingLoop.Run(Model(), whole, schedule, sampler, noise);
        var t1 = Task.Run(() => SamplingLoop.Run(new SamplerState<double>(Model(), schedule, left, noise, [0, 1]), sampler));
        var t2 = Task.Run(() => SamplingLoop.Run(new SamplerState<double>(Model(), schedule, right, noise, [2, 3, 4]), sampler));
        await Task.WhenAll(t1, t2);
        var w = whole.ToRows();
        var parts = left.ToRows().Concat(right.ToRows()).ToArray();
        for (int b = 0; b < 5; b++) Assert.Equal(w[b], parts[b]); // bit-identical
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void OnAVpPathTheSamplersAreTheirVeFormsInScaledCoordinates(int k)
    {
        // The samplers are written for x = alpha x0 + sigma eps on any path; k-diffusion's (checked against the peer) are the alpha = 1 case.
        // The same run on the cosine VP path with an epsilon model and on the VE path of s = sigma/alpha with a denoiser must agree in the
        // coordinates x_ve = x / alpha at every point, with the same noise (the streams and the intervals in s are the same).
        Sampler sampler = k switch
        {
            0 => new DpmSolverPlusPlus2MSdeSampler(), 1 => new DpmSolverPlusPlus2MSdeSampler(0.5, secondOrder: DpmSolverSecondOrder.Heun),
            2 => new DpmSolverPlusPlus3MSdeSampler(), 3 => new DpmSolverPlusPlusSdeSampler(), 4 => new DpmSolverPlusPlus2SAncestralSampler(),
            5 => new DpmSolver2AncestralSampler(), 6 => new DpmSolverFastSampler(), _ => new DpmSolverFastSampler(eta: 0.7),
        };
        var vpPath = new TestCosinePath();
        double[] times = [0.93, 0.8, 0.66, 0.5, 0.37, 0.25, 0.15, 0.08, 0.0];
        var vp = Schedule(vpPath, times);
        var ve = new StepSchedule(new VarianceExplodingPath(0, vp[0].SigmaOverAlpha), vp.Points.Select(p => new SchedulePoint(1, p.SigmaOverAlpha, p.SigmaOverAlpha)));
        var vpModel = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(vpPath));
        var veModel = new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        foreach (bool brownian in new[] { false, true })
        {
            NoiseSource noise = brownian ? BrownianNoise.ForSchedule(5, ve) : new PhiloxNoise(5);
            using var x = Normals(3, 4, 31);
            using var y = BatchTensor<double>.Allocate(3, 4);
            for (int i = 0; i < x.Length; i++) y.Span[i] = x.Span[i] / vp[0].Alpha;
            var vpStates = new List<double[][]>();
            var veStates = new List<double[][]>();
            SamplingLoop.Run(vpModel, x, vp, sampler, noise, new SamplingOptions<double> { OnStep = (i, _, xs, _) => vpStates.Add(xs.ToRows().Select(r => r.Select(v => v / vp[i + 1].Alpha).ToArray()).ToArray()) });
            SamplingLoop.Run(veModel, y, ve, sampler, noise, new SamplingOptions<double> { OnStep = (_, _, xs, _) => veStates.Add(xs.ToRows()) });
            for (int i = 0; i < vpStates.Count; i++)
                for (int b = 0; b < 3; b++)
                    for (int j = 0; j < 4; j++)
                        Assert.True(Math.Abs(vpStates[i][b][j] - veStates[i][b][j]) <= 1e-9 * Math.Max(1, Math.Abs(veStates[i][b][j])),
                            $"{sampler.Name} ({(brownian ? "Brownian" : "Philox")}) state {i + 1}: {vpStates[i][b][j]} on the VP path, {veStates[i][b][j]} on the VE path");
        }
    }

    [Fact]
    public void WithEtaZeroTheSdeSamplersAreTheirOdeSolvers()
    {
        // eta = 0: 2M SDE is DPM-Solver++(2M) (the ODE step), and draws no noise (no source needed).
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.95, 0.0, 16));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var a = Normals(3, 4, 2);
        using var b = a.Clone();
        SamplingLoop.Run(model, a, schedule, new DpmSolverPlusPlus2MSdeSampler(eta: 0));
        SamplingLoop.Run(model, b, schedule, new DpmSolverPlusPlus2MSampler(lowerOrderFinal: false));
        for (int i = 0; i < a.Length; i++) Assert.Equal(b.Span[i], a.Span[i], 12);
        using var c = Normals(3, 4, 2);
        using var d = c.Clone();
        SamplingLoop.Run(model, c, schedule, new DpmSolverPlusPlus2SAncestralSampler(eta: 0));
        SamplingLoop.Run(model, d, schedule, new DpmSolver2AncestralSampler(eta: 0));
        Assert.True(TensorReductions.IsFinite<double>(c.Span) && TensorReductions.IsFinite<double>(d.Span));
    }

    [Fact]
    public void LowerOrderFinalFollowsDiffusersRule()
    {
        // eta = 0 and lowerOrderFinal: the ODE step of DPM-Solver++(2M) with diffusers' lower_order_final (an independent code path).
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.95, 0.05, 10));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var a = Normals(3, 4, 2);
        using var b = a.Clone();
        SamplingLoop.Run(model, a, schedule, new DpmSolverPlusPlus2MSdeSampler(eta: 0, lowerOrderFinal: true));
        SamplingLoop.Run(model, b, schedule, new DpmSolverPlusPlus2MSampler(lowerOrderFinal: true));
        for (int i = 0; i < a.Length; i++) Assert.Equal(b.Span[i], a.Span[i], 12);
        // 3M SDE: lowering the last two steps changes the result; on 15 steps or more it changes nothing.
        using var c = Normals(3, 4, 2);
        using var d = c.Clone();
        SamplingLoop.Run(model, c, schedule, new DpmSolverPlusPlus3MSdeSampler(eta: 0, lowerOrderFinal: true));
        SamplingLoop.Run(model, d, schedule, new DpmSolverPlusPlus3MSdeSampler(eta: 0));
        Assert.NotEqual(c.Span.ToArray(), d.Span.ToArray());
        var longer = Schedule(path, Linspace(0.95, 0.05, 16));
        using var e = Normals(3, 4, 2);
        using var f = e.Clone();
        SamplingLoop.Run(model, e, longer, new DpmSolverPlusPlus3MSdeSampler(eta: 0, lowerOrderFinal: true));
        SamplingLoop.Run(model, f, longer, new DpmSolverPlusPlus3MSdeSampler(eta: 0));
        Assert.Equal(f.Span.ToArray(), e.Span.ToArray());
    }

    /// <summary>A model that costs nothing, for the allocation check.</summary>
    private sealed class FreeModel : IGenerativeModel<float>
    {
        public Prediction Prediction => Prediction.Epsilon;
        public void Evaluate(BatchTensor<float> x, ReadOnlySpan<double> t, in ModelCondition condition, BatchTensor<float> output) { }
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(4, false)]
    [InlineData(5, false)]
    [InlineData(0, true)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    public void ReusedStateRunAllocatesNothing(int k, bool brownian)
    {
        Sampler sampler = k switch
        {
            0 => new DpmSolverPlusPlus2MSdeSampler(), 1 => new DpmSolverPlusPlus3MSdeSampler(), 2 => new DpmSolverPlusPlusSdeSampler(),
            3 => new DpmSolverPlusPlus2SAncestralSampler(), 4 => new DpmSolver2AncestralSampler(), _ => new DpmSolverFastSampler(eta: 1.0),
        };
        var path = new TestCosinePath();
        var schedule = Schedule(path, [.. Linspace(0.99, 0, 21).SkipLast(1), 0.0]);
        using var x = BatchTensor<float>.Allocate(2, 64);
        NoiseSource noise = brownian ? BrownianNoise.ForSchedule(1, schedule) : new PhiloxNoise(1);
        var state = new SamplerState<float>(new FreeModel(), schedule, x, noise);
        SamplingLoop.Run(state, sampler); // first run: buffers are allocated
        long before = GC.GetAllocatedBytesForCurrentThread();
        SamplingLoop.Run(state, sampler);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{sampler.Name}: a reused-state run of 20 steps allocated {allocated} bytes.");
    }

    [Fact]
    public void OneStepOf2MSdeHasTheClosedFormMeanAndVariance()
    {
        // From x at sigma with a model whose x0hat is a constant c (a point mass at c), one first-order step to sigma' gives
        // x' = (sigma'/sigma) e^{-h} x + (1 - e^{-2h}) c + sigma' sqrt(1 - e^{-2h}) z on the VE path (eta = 1), z the replayed noise.
        double s = 2.0, s1 = 0.5, h = Math.Log(s / s1);
        var schedule = new StepSchedule(new VarianceExplodingPath(0, s), [new SchedulePoint(1, s, s), new SchedulePoint(1, s1, s1)]);
        var model = new GaussianMixtureModel<double>(GaussianMixture.Isotropic([1.0], [[0.7, -0.3]], [0.0]), Prediction.Data, ModelTimeMaps.VarianceExploding());
        using var x = BatchTensor<double>.FromRows([[1.5, -2.0]]);
        var noise = new ReplayNoise([[[0.25, -1.0]]], [(s, s1)]);
        SamplingLoop.Run(model, x, schedule, new DpmSolverPlusPlus2MSdeSampler(), noise);
        double[] x0 = [1.5, -2.0], c = [0.7, -0.3], z = [0.25, -1.0];
        for (int j = 0; j < 2; j++)
        {
            double expected = s1 / s * Math.Exp(-h) * x0[j] + (1 - Math.Exp(-2 * h)) * c[j] + s1 * Math.Sqrt(1 - Math.Exp(-2 * h)) * z[j];
            Assert.Equal(expected, x.Span[j], 12);
        }
        Assert.Equal(1, noise.Consumed);
    }

    [Fact]
    public void DpmSolverPlusPlusSdeAsksForTheIntermediateIntervalThenTheStep()
    {
        // k-diffusion's draw order: (sigma, sigma_mid) then (sigma, sigma_next), sigma_mid = sqrt(sigma sigma_next); a tape keyed by interval
        // that lists them the other way round cannot be replayed in that order: the request names its interval.
        double s = 4.0, s1 = 1.0, mid = 2.0;
        var schedule = new StepSchedule(new VarianceExplodingPath(0, s), [new SchedulePoint(1, s, s), new SchedulePoint(1, s1, s1)]);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        using var x = Normals(1, 4, 1);
        var tape = new double[][][] { [[0.1, 0.2, 0.3, 0.4]], [[0.5, 0.6, 0.7, 0.8]] };
        var ok = new ReplayNoise(tape, [(s, mid), (s, s1)]);
        SamplingLoop.Run(model, x.Clone(), schedule, new DpmSolverPlusPlusSdeSampler(), ok);
        Assert.Equal(2, ok.Consumed);
        var swapped = new ReplayNoise(tape, [(s, s1), (s, mid)]);
        var e = Assert.Throws<InvalidOperationException>(() => SamplingLoop.Run(model, x.Clone(), schedule, new DpmSolverPlusPlusSdeSampler(), swapped));
        Assert.Contains("interval", e.Message);
    }

    [Theory]
    [InlineData(AdaptiveStepControl.SharedBatch)]
    [InlineData(AdaptiveStepControl.PerSample)]
    public void AdaptiveSolverMeetsItsToleranceOnTheProbabilityFlowOde(AdaptiveStepControl control)
    {
        // The oracle: DPM-Solver-3 with 2000 steps on the same ODE (eta = 0). Tighter tolerances give smaller errors and cost more.
        var path = new VarianceExplodingPath(0, SigmaMax);
        var schedule = DpmSolverAdaptiveSampler.CreateSchedule(path, SigmaMin, SigmaMax);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        using var start = Normals(6, 4, 9);
        for (int i = 0; i < start.Length; i++) start.Span[i] *= SigmaMax;
        using var oracle = start.Clone();
        SamplingLoop.Run(model, oracle, DpmSolverFastSampler.CreateSchedule(path, SigmaMin, SigmaMax, 6000), new DpmSolverFastSampler(6000));
        double last = double.PositiveInfinity;
        long lastNfe = 0;
        foreach (double tol in new[] { 1e-2, 1e-4, 1e-6 })
        {
            using var x = start.Clone();
            var r = SamplingLoop.Run(model, x, schedule, new DpmSolverAdaptiveSampler(rtol: tol, atol: tol, control: control));
            double err = 0;
            for (int i = 0; i < x.Length; i++) err = Math.Max(err, Math.Abs(x.Span[i] - oracle.Span[i]));
            output.WriteLine($"{control} tol {tol:E0}: error {err:E3}, {r.Statistics.ModelEvaluations} evaluations");
            Assert.True(err < last && r.Statistics.ModelEvaluations > lastNfe, $"tol {tol}: error {err:E3} (before {last:E3}), nfe {r.Statistics.ModelEvaluations}");
            Assert.True(err <= 100 * tol, $"tol {tol}: error {err:E3}");
            last = err;
            lastNfe = r.Statistics.ModelEvaluations;
        }
    }

    [Theory]
    [InlineData(AdaptiveStepControl.SharedBatch)]
    [InlineData(AdaptiveStepControl.PerSample)]
    public void AdaptiveStepShorterThanItsStopToleranceStillEndsAtTheNextPoint(AdaptiveStepControl control)
    {
        // A step of 1e-7 in time on a VP path (about 1e-7 in log-SNR, below the loop's 1e-5): one DPM-Solver-1 step, which to first
        // order in h is DDIM's; the state must be rescaled to the next point's alpha, not left at the first.
        var path = new TestCosinePath();
        var schedule = Schedule(path, [0.6, 0.6 - 1e-7]);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var a = Normals(3, 4, 6);
        using var b = a.Clone();
        var r = SamplingLoop.Run(model, a, schedule, new DpmSolverAdaptiveSampler(control: control));
        SamplingLoop.Run(model, b, schedule, new DdimSampler());
        Assert.Equal(1, r.Statistics.ModelEvaluations);
        for (int i = 0; i < a.Length; i++) Assert.Equal(b.Span[i], a.Span[i], 12);
    }

    [Theory]
    [InlineData(AdaptiveStepControl.SharedBatch)]
    [InlineData(AdaptiveStepControl.PerSample)]
    public void AdaptiveStepReportsTheDenoisedEstimateOfItsFirstEvaluation(AdaptiveStepControl control)
    {
        // The callback's denoised estimate is the posterior mean at the step's starting point (closed form of the mixture).
        var path = new TestCosinePath();
        var schedule = Schedule(path, [0.9, 0.5, 0.2]);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var x = Normals(3, 4, 6);
        var starts = new List<double[][]>();
        var denoised = new List<double[][]>();
        starts.Add(x.ToRows());
        SamplingLoop.Run(model, x, schedule, new DpmSolverAdaptiveSampler(control: control), new SamplingOptions<double>
        {
            OnStep = (i, _, xs, d) => { denoised.Add(d.ToRows()); starts.Add(xs.ToRows()); },
        });
        for (int i = 0; i < 2; i++)
            for (int b = 0; b < 3; b++)
            {
                var expected = new double[4];
                Mix.PosteriorMean(starts[i][b], path.Alpha(schedule[i].ModelTime), path.Sigma(schedule[i].ModelTime), expected);
                for (int j = 0; j < 4; j++) Assert.Equal(expected[j], denoised[i][b][j], 10);
            }
    }

    [Fact]
    public void PerSampleAdaptiveRowsDoNotDependOnTheirBatchButSharedOnesDo()
    {
        var path = new VarianceExplodingPath(0, SigmaMax);
        var schedule = DpmSolverAdaptiveSampler.CreateSchedule(path, SigmaMin, SigmaMax);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        using var whole = Normals(5, 4, 13);
        for (int i = 0; i < whole.Length; i++) whole.Span[i] *= SigmaMax;
        using var alone = BatchTensor<double>.FromRows([whole.ToRows()[2]]);
        using var shared = whole.Clone();
        SamplingLoop.Run(model, whole, schedule, new DpmSolverAdaptiveSampler(control: AdaptiveStepControl.PerSample));
        SamplingLoop.Run(model, alone, schedule, new DpmSolverAdaptiveSampler(control: AdaptiveStepControl.PerSample));
        Assert.Equal(alone.Row(0).ToArray(), whole.Row(2).ToArray());
        using var sharedAlone = BatchTensor<double>.FromRows([shared.ToRows()[2]]);
        SamplingLoop.Run(model, shared, schedule, new DpmSolverAdaptiveSampler());
        SamplingLoop.Run(model, sharedAlone, schedule, new DpmSolverAdaptiveSampler());
        Assert.NotEqual(sharedAlone.Row(0).ToArray(), shared.Row(2).ToArray());
    }

    [Fact]
    public void DpmFastPlanAndOrdersFollowKDiffusion()
    {
        Assert.Equal(4, DpmSolverFastSampler.StepsFor(10));
        var s10 = new DpmSolverFastSampler(10);
        Assert.Equal(new[] { 3, 3, 3, 1 }, Enumerable.Range(0, 4).Select(i => s10.OrderOf(i, 4)));
        var s9 = new DpmSolverFastSampler(9);
        Assert.Equal(new[] { 3, 3, 2, 1 }, Enumerable.Range(0, 4).Select(i => s9.OrderOf(i, 4)));
        var s11 = new DpmSolverFastSampler(11);
        Assert.Equal(new[] { 3, 3, 3, 2 }, Enumerable.Range(0, 4).Select(i => s11.OrderOf(i, 4)));
        Assert.Throws<InvalidOperationException>(() => s10.OrderOf(0, 5));
        var plan = DpmSolverFastSampler.CreateSchedule(new VarianceExplodingPath(0, 14.6146), 0.0292, 14.6146, 10);
        Assert.Equal(5, plan.Count);
        for (int i = 0; i < 5; i++) Assert.Equal(-Math.Log(14.6146) + (Math.Log(14.6146) - Math.Log(0.0292)) * i / 4, -Math.Log(plan[i].Sigma), 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpmSolverFastSampler(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpmSolverAdaptiveSampler(order: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpmSolverPlusPlus2MSdeSampler(eta: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DpmSolverPlusPlusSdeSampler(r: 0));
    }
}
