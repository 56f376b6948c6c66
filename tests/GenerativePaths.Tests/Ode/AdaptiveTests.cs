using GenerativePaths.Ode;
using GenerativePaths.Ode.Problems;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Ode.OdeTestProblems;

namespace GenerativePaths.Tests.Ode;

public class AdaptiveTests
{
    public static TheoryData<string> AdaptiveNames => new(EmbeddedTableau.AdaptiveMethods.Select(m => m.Name));
    private static EmbeddedTableau Method(string name) => EmbeddedTableau.AdaptiveMethods.Single(m => m.Name == name);

    [Theory]
    [InlineData("HeunEuler", 1.0 / 64)]
    [InlineData("BS3", 1.0 / 32)]
    [InlineData("DP5", 1.0 / 16)]
    [InlineData("Tsit5", 1.0 / 32)]
    [InlineData("Vern6", 1.0 / 8)]
    public void PairsConvergeAtTheirOrderWithFixedSteps(string name, double h)
    {
        // y1' = -2 t y1^2, y2' = y2 cos t: y1 = 1/(1 + t^2), y2 = exp(sin t). Nonlinear and non-autonomous. The steps are
        // chosen where the error is asymptotic yet far above rounding (Tsit5 and Vern6 have small leading error terms).
        var m = Method(name);
        OdeFunction<double> f = (t, y, d) => { d.Span[0] = -2 * t[0] * y.Span[0] * y.Span[0]; d.Span[1] = y.Span[1] * Math.Cos(t[0]); };
        double Err(double step)
        {
            using var y0 = State([1.0, 1.0]);
            using var r = OdeSolver.Solve(new OdeProblem<double>(f, y0, 0, 4), m, new OdeOptions { FixedStep = true, InitialStep = step });
            return Math.Max(Math.Abs(r.FinalState.Span[0] - 1.0 / 17), Math.Abs(r.FinalState.Span[1] - Math.Exp(Math.Sin(4))));
        }
        double observed = Math.Log2(Err(h) / Err(h / 2));
        Assert.True(Math.Abs(observed - m.Order) < 0.3, $"{name}: observed order {observed:F3}");
    }

    [Theory]
    [MemberData(nameof(AdaptiveNames))]
    public void DenseOutputMatchesNodesAndHasItsOrderInBetween(string name)
    {
        var m = Method(name);
        (double Err, OdeResult<double> R) Run(double h)
        {
            var y0 = State([1.0, 0.5]);
            var r = OdeSolver.Solve(new OdeProblem<double>(Harmonic(), y0, 0, 2), m, new OdeOptions { FixedStep = true, InitialStep = h, DenseOutput = true });
            var sol = r.Solution!;
            var dest = new double[2];
            double worst = 0;
            for (int j = 0; j < sol.StepCount(0); j++)
            {
                var (t0, hs) = sol.StepOf(0, j);
                foreach (double th in new[] { 0.25, 0.5, 0.75 })
                {
                    sol.EvaluateRow(0, t0 + th * hs, dest);
                    var (x, v) = HarmonicExact(1, 0.5, 1, t0 + th * hs);
                    worst = Math.Max(worst, Math.Max(Math.Abs(dest[0] - x), Math.Abs(dest[1] - v)));
                }
            }
            return (worst, r);
        }
        double h = m.Order >= 5 ? 0.25 : m.Order >= 3 ? 1.0 / 32 : 1.0 / 256;
        var (e1, r1) = Run(h);
        var (e2, _) = Run(h / 2);
        double expected = Math.Min(m.Order, m.DenseOrder + 1);
        double observed = Math.Log2(e1 / e2);
        Assert.True(Math.Abs(observed - expected) < 0.3, $"{name}: dense output observed order {observed:F3}, expected {expected}");

        // At the nodes: the end of the solution equals the final state, and each step's end equals the next step's start.
        var sol = r1.Solution!;
        var a = new double[2];
        sol.EvaluateRow(0, 2, a);
        Assert.True(Math.Abs(a[0] - r1.FinalState.Span[0]) < 1e-14 && Math.Abs(a[1] - r1.FinalState.Span[1]) < 1e-14);
        for (int j = 0; j + 1 < sol.StepCount(0); j++)
        {
            // Step j's interpolant just before its end meets the stored value at the node (the start of step j + 1).
            var (t0, hs) = sol.StepOf(0, j);
            var inside = new double[2];
            var node = new double[2];
            sol.EvaluateRow(0, t0 + hs * (1 - 1e-12), inside);
            sol.EvaluateRow(0, t0 + hs, node);
            Assert.True(Math.Abs(inside[0] - node[0]) < 1e-11 && Math.Abs(inside[1] - node[1]) < 1e-11, $"node {j + 1}");
            Assert.Equal(sol.StepOf(0, j + 1).Start, t0 + hs, 12);
        }
        r1.Dispose();
    }

    [Theory]
    [InlineData("DP5")]
    [InlineData("Tsit5")]
    [InlineData("Vern6")]
    [InlineData("BS3")]
    public void SavedStatesComeFromTheDenseOutputWithoutShorteningSteps(string name)
    {
        var m = Method(name);
        var times = Enumerable.Range(0, 21).Select(i => i * 0.25).ToArray();
        using var y0 = State([1.0, 0.0]);
        var problem = new OdeProblem<double>(Harmonic(), y0, 0, 5);
        var opts = new OdeOptions { RelativeTolerance = 1e-9, AbsoluteTolerance = 1e-9 };
        using var plain = OdeSolver.Solve(problem, m, opts);
        using var saved = OdeSolver.Solve(problem, m, opts with { SaveTimes = times });
        Assert.Equal(plain.Statistics, saved.Statistics);
        Assert.Equal(plain.FinalState.Span.ToArray(), saved.FinalState.Span.ToArray());
        double tol = m.DenseOrder >= 4 ? 1e-7 : 1e-5;
        for (int i = 0; i < times.Length; i++)
        {
            var (x, v) = HarmonicExact(1, 0, 1, times[i]);
            Assert.True(Math.Abs(saved.SavedStates[i].Span[0] - x) < tol && Math.Abs(saved.SavedStates[i].Span[1] - v) < tol, $"save time {times[i]}");
        }
        Assert.Equal(y0.Span.ToArray(), saved.SavedStates[0].Span.ToArray());
        Assert.Equal(saved.FinalState.Span.ToArray(), saved.SavedStates[^1].Span.ToArray());
    }

    [Theory]
    [MemberData(nameof(AdaptiveNames))]
    public void BackwardSolveReachesTheSolutionAtAnEarlierTime(string name)
    {
        using var y0 = State([1.0, 0.5]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(Harmonic(), y0, 1, -2), Method(name), new OdeOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-8 });
        Assert.Equal(OdeStatus.Success, r.Status);
        Assert.Equal(-2, r.Time);
        var (x, v) = HarmonicExact(1, 0.5, 1, -3);
        double tol = name == "HeunEuler" ? 1e-6 : 1e-7;
        Assert.True(Math.Abs(r.FinalState.Span[0] - x) < tol && Math.Abs(r.FinalState.Span[1] - v) < tol);
    }

    [Fact]
    public void EqualStartAndEndReturnsTheInitialState()
    {
        using var y0 = State([1.0, 2.0]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(Harmonic(), y0, 3, 3), EmbeddedTableau.DormandPrince54, new OdeOptions { SaveTimes = [3] });
        Assert.Equal(OdeStatus.Success, r.Status);
        Assert.Equal(0, r.Statistics.Evaluations);
        Assert.Equal([1.0, 2.0], r.FinalState.Span.ToArray());
        Assert.Equal([1.0, 2.0], r.SavedStates[0].Span.ToArray());
    }

    [Fact]
    public void BlowUpEndsWithStepSizeUnderflowNearTheSingularity()
    {
        // y' = y^2, y(0) = 1: y = 1/(1 - t) blows up at t = 1.
        OdeFunction<double> f = (t, y, d) => { var r = y.Span; var o = d.Span; for (int i = 0; i < r.Length; i++) o[i] = r[i] * r[i]; };
        using var y0 = State([1.0]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(f, y0, 0, 2), EmbeddedTableau.DormandPrince54, new OdeOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-8 });
        Assert.True(r.Status is OdeStatus.StepSizeUnderflow or OdeStatus.NonFiniteState, r.Status.ToString());
        Assert.False(r.Succeeded);
        Assert.Equal(0, r.FailedSample);
        Assert.InRange(r.FailedTime, 0.999, 1.001);
        Assert.InRange(r.Time, 0.999, 1.001);
    }

    [Fact]
    public void EvaluationBudgetReturnsThePartialStateAndTime()
    {
        using var y0 = State([1.0, 1.0]);
        var problem = new OdeProblem<double>(ClassicProblems.LotkaVolterra<double>(), y0, 0, 10);
        using var r = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, new OdeOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-8, MaxEvaluations = 100 });
        Assert.Equal(OdeStatus.EvaluationBudgetExhausted, r.Status);
        Assert.InRange(r.Statistics.Evaluations, 95, 100);
        Assert.InRange(r.Time, 0.01, 9.99);
        // The partial state is the solution at the time reached: continue from it and compare with one uninterrupted solve.
        using var rest = OdeSolver.Solve(new OdeProblem<double>(problem.Function, r.FinalState, r.Time, 10), EmbeddedTableau.Tsitouras54,
            new OdeOptions { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-10 });
        Assert.True(Math.Abs(rest.FinalState.Span[0] - 1.0263447675750317) < 1e-5);
    }

    [Fact]
    public void MaxStepsIsReported()
    {
        using var y0 = State([1.0, 1.0]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(ClassicProblems.LotkaVolterra<double>(), y0, 0, 10), EmbeddedTableau.DormandPrince54, new OdeOptions { MaxSteps = 5 });
        Assert.Equal(OdeStatus.MaxStepsReached, r.Status);
        Assert.Equal(5, r.Statistics.AcceptedSteps + r.Statistics.RejectedSteps);
    }

    [Theory]
    [InlineData(StepSizeSharing.Shared)]
    [InlineData(StepSizeSharing.PerSample)]
    public void NaNFromTheFunctionIsReportedWithTimeAndSample(StepSizeSharing control)
    {
        OdeFunction<double> f = (t, y, d) =>
        {
            for (int b = 0; b < y.BatchSize; b++) d.Row(b)[0] = b == 2 && t[b] > 0.5 ? double.NaN : -y.Row(b)[0];
        };
        using var y0 = State([1.0], [1.0], [1.0], [1.0]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(f, y0, 0, 1), EmbeddedTableau.DormandPrince54, new OdeOptions { StepSizeSharing = control });
        Assert.Equal(OdeStatus.NonFiniteState, r.Status);
        Assert.Equal(2, r.FailedSample);
        Assert.InRange(r.FailedTime, 0.45, 0.5);
        Assert.True(TensorReductions.IsFinite<double>(r.FinalState.Span));
        if (control == StepSizeSharing.PerSample)
        {
            Assert.Equal(OdeStatus.Success, r.SampleStatuses[0]);
            Assert.Equal(OdeStatus.NonFiniteState, r.SampleStatuses[2]);
            Assert.True(Math.Abs(r.FinalState.Span[0] - Math.Exp(-1)) < 1e-5);
        }
    }

    [Fact]
    public void TerminalEventIsLocatedOnTheDenseOutput()
    {
        // x = cos(w t): the first zero is at pi / (2 w); each sample has its own w under per-sample stepping.
        double[] w = [1, 2, 3];
        using var y0 = State([1.0, 0.0], [1.0, 0.0], [1.0, 0.0]);
        var problem = new OdeProblem<double>(Harmonic(w), y0, 0, 10);
        var opts = new OdeOptions { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-10 };
        using var per = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, opts with { StepSizeSharing = StepSizeSharing.PerSample }, (t, y) => y[0]);
        Assert.Equal(OdeStatus.TerminatedByEvent, per.Status);
        for (int b = 0; b < 3; b++)
        {
            Assert.True(Math.Abs(per.EventTimes[b] - Math.PI / (2 * w[b])) < 1e-8, $"sample {b}: {per.EventTimes[b]}");
            Assert.True(Math.Abs(per.FinalState.Row(b)[0]) < 1e-8);
            Assert.Equal(per.EventTimes[b], per.Times[b]);
        }
        using var shared = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, opts, (t, y) => y[0]);
        Assert.Equal(OdeStatus.TerminatedByEvent, shared.Status);
        Assert.True(Math.Abs(shared.Time - Math.PI / 6) < 1e-8);
        Assert.True(Math.Abs(shared.FinalState.Row(0)[0] - Math.Cos(Math.PI / 6)) < 1e-8);
        // Only the sample whose event fired first records a time; the others stopped with it.
        Assert.True(double.IsNaN(shared.EventTimes[0]) && double.IsNaN(shared.EventTimes[1]));
        Assert.True(Math.Abs(shared.EventTimes[2] - Math.PI / 6) < 1e-8);
    }

    [Fact]
    public void PerSampleStepsCostFewerEvaluationsPerSampleOnMixedStiffness()
    {
        double[] lambda = [0.5, 2, 20, 200];
        var problemRows = lambda.Select(_ => new[] { 2.0 }).ToArray();
        using var y0 = State(problemRows);
        var problem = new OdeProblem<double>(Relaxation(lambda), y0, 0, 5);
        var opts = new OdeOptions { RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-6 };
        using var shared = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, opts);
        using var per = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, opts with { StepSizeSharing = StepSizeSharing.PerSample });
        double sharedPerSample = shared.SampleStatistics.Average(s => s.Evaluations);
        double perSample = per.SampleStatistics.Average(s => s.Evaluations);
        Assert.True(perSample < 0.75 * sharedPerSample, $"per-sample {perSample} vs shared {sharedPerSample}");
        for (int b = 0; b < lambda.Length; b++)
        {
            double exact = Math.Cos(5) + Math.Exp(-lambda[b] * 5);
            Assert.True(Math.Abs(per.FinalState.Row(b)[0] - exact) < 1e-5, $"sample {b}");
            Assert.True(Math.Abs(shared.FinalState.Row(b)[0] - exact) < 1e-5, $"sample {b}");
        }
        // The mildest sample alone costs what it costs inside the batch.
        using var alone = OdeSolver.Solve(new OdeProblem<double>(Relaxation([lambda[0]]), State([2.0]), 0, 5), EmbeddedTableau.Tsitouras54, opts);
        Assert.Equal(alone.Statistics.Evaluations, per.SampleStatistics[0].Evaluations);
    }

    [Fact]
    public void PerComponentAbsoluteToleranceIsUsed()
    {
        using var y0 = State([1.0, 1.0]);
        var problem = new OdeProblem<double>(ClassicProblems.LotkaVolterra<double>(), y0, 0, 10);
        using var loose = OdeSolver.Solve(problem, EmbeddedTableau.DormandPrince54, new OdeOptions { RelativeTolerance = 0, AbsoluteTolerances = [1e-4, 1e-4] });
        using var tightOne = OdeSolver.Solve(problem, EmbeddedTableau.DormandPrince54, new OdeOptions { RelativeTolerance = 0, AbsoluteTolerances = [1e-4, 1e-10] });
        using var tightBoth = OdeSolver.Solve(problem, EmbeddedTableau.DormandPrince54, new OdeOptions { RelativeTolerance = 0, AbsoluteTolerance = 1e-10 });
        Assert.True(tightOne.Statistics.Evaluations > 2 * loose.Statistics.Evaluations);
        Assert.True(tightOne.Statistics.Evaluations < tightBoth.Statistics.Evaluations);
        using var perSample = OdeSolver.Solve(problem, EmbeddedTableau.DormandPrince54, new OdeOptions { RelativeTolerance = 0, AbsoluteTolerances = [1e-4, 1e-10], StepSizeSharing = StepSizeSharing.PerSample });
        Assert.Equal(tightOne.FinalState.Span.ToArray(), perSample.FinalState.Span.ToArray());
    }

    [Fact]
    public void ProgrammerErrorsThrow()
    {
        using var y0 = State([1.0, 1.0]);
        var problem = new OdeProblem<double>(ClassicProblems.LotkaVolterra<double>(), y0, 0, 1);
        var m = EmbeddedTableau.DormandPrince54;
        Assert.Throws<ArgumentOutOfRangeException>(() => OdeSolver.Solve(problem, m, new OdeOptions { RelativeTolerance = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OdeSolver.Solve(problem, m, new OdeOptions { AbsoluteTolerance = -1e-3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OdeSolver.Solve(problem, m, new OdeOptions { AbsoluteTolerance = 0, RelativeTolerance = 0 }));
        Assert.Throws<ArgumentException>(() => OdeSolver.Solve(problem, m, new OdeOptions { AbsoluteTolerances = [1e-6] }));
        Assert.Throws<ArgumentException>(() => OdeSolver.Solve(problem, m, new OdeOptions { SaveTimes = [0.5, 0.2] }));
        Assert.Throws<ArgumentException>(() => OdeSolver.Solve(problem, m, new OdeOptions { SaveTimes = [2] }));
        Assert.Throws<ArgumentException>(() => OdeSolver.Solve(problem, m, new OdeOptions { FixedStep = true }));
        Assert.Throws<ArgumentOutOfRangeException>(() => OdeSolver.Solve(problem, m, new OdeOptions { InitialStep = -0.1 }));
        var integrator = new AdaptiveIntegrator<double>(m, 2, 2);
        Assert.Throws<ArgumentException>(() => integrator.Solve(problem));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OdeProblem<double>(problem.Function, y0, 0, double.NaN));
    }

    [Fact]
    public void SteadyStateAllocatesNothingPerStep()
    {
        using var y0 = State([1.0, 1.0]);
        var f = ClassicProblems.LotkaVolterra<double>();
        var integrator = new AdaptiveIntegrator<double>(EmbeddedTableau.Tsitouras54, 1, 2);
        var opts = new OdeOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-8 };
        var perSampleOpts = opts with { StepSizeSharing = StepSizeSharing.PerSample };
        long Bytes(double t1, OdeOptions o)
        {
            var problem = new OdeProblem<double>(f, y0, 0, t1);
            for (int i = 0; i < 3; i++) integrator.Solve(problem, o).Dispose();
            // The least of three solves: an allocation per step shows in every solve, a one-off one (a runtime cache filled on
            // this thread during one of them) does not.
            long least = long.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                using var r = integrator.Solve(problem, o);
                least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            return least;
        }
        foreach (var o in new[] { opts, perSampleOpts })
        {
            long shortRun = Bytes(1, o), longRun = Bytes(20, o);
            Assert.Equal(shortRun, longRun);
        }
    }

    [Fact]
    public void SinglePrecisionStatesWork()
    {
        using var y0 = BatchTensor<float>.FromRows([[1f, 1f]]);
        using var r = OdeSolver.Solve(new OdeProblem<float>(ClassicProblems.LotkaVolterra<float>(), y0, 0, 10), EmbeddedTableau.Tsitouras54,
            new OdeOptions { RelativeTolerance = 1e-5, AbsoluteTolerance = 1e-5 });
        Assert.Equal(OdeStatus.Success, r.Status);
        Assert.True(Math.Abs(r.FinalState.Span[0] - 1.0263447675750317) < 1e-3);
    }

    [Fact]
    public void IntegralControllerAlsoMeetsTheTolerance()
    {
        using var y0 = State([2.0, 0.0]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(ClassicProblems.VanDerPol<double>(), y0, 0, 20), EmbeddedTableau.DormandPrince54,
            new OdeOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-8, Controller = StepSizeController.Integral });
        Assert.True(Math.Abs(r.FinalState.Span[0] - 2.0081497621749387) < 1e-7);
    }
}
