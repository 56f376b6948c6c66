using GenerativePaths.Ode;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Ode.OdeTestProblems;

namespace GenerativePaths.Tests.Ode;

public class ObserverTests
{
    private sealed class Recorder : IProgress<double>
    {
        public readonly List<double> Values = [];
        public void Report(double value) => Values.Add(value);
    }

    [Theory]
    [InlineData(StepSizeSharing.Shared)]
    [InlineData(StepSizeSharing.PerSample)]
    public void StepCallbackSeesEveryAcceptedStepAndProgressReachesTheEnd(StepSizeSharing control)
    {
        using var y0 = State([1.0, 0.0], [0.5, 0.5]);
        var steps = new List<(double T, double H, double X)>();
        var progress = new Recorder();
        var observer = new OdeObserver<double>
        {
            Progress = progress,
            OnStep = (t, h, y) => { if (h[0] != 0) steps.Add((t[0], h[0], y.Row(0)[0])); },
        };
        using var r = OdeSolver.Solve(new OdeProblem<double>(Harmonic(), y0, 0, 3), EmbeddedTableau.DormandPrince54,
            new OdeOptions { StepSizeSharing = control }, observer: observer);
        Assert.Equal(OdeStatus.Success, r.Status);
        Assert.Equal(r.SampleStatistics[0].AcceptedSteps, steps.Count);
        double tPrev = 0;
        foreach (var (t, h, x) in steps)
        {
            Assert.Equal(tPrev + h, t, 1e-12);
            Assert.Equal(Math.Cos(t), x, 1e-5);
            tPrev = t;
        }
        Assert.Equal(3, tPrev);
        Assert.Equal(3, progress.Values[^1]);
        for (int i = 1; i < progress.Values.Count; i++) Assert.True(progress.Values[i] >= progress.Values[i - 1]);
    }

    [Fact]
    public void CancellationStopsTheSolveAndTheIntegratorStaysUsable()
    {
        using var y0 = State([1.0, 0.0]);
        using var cts = new CancellationTokenSource();
        int calls = 0;
        var observer = new OdeObserver<double> { CancellationToken = cts.Token, OnStep = (t, h, y) => { if (++calls == 5) cts.Cancel(); } };
        var integrator = new AdaptiveIntegrator<double>(EmbeddedTableau.DormandPrince54, 1, 2);
        var problem = new OdeProblem<double>(Harmonic(), y0, 0, 100);
        Assert.ThrowsAny<OperationCanceledException>(() => integrator.Solve(problem, null, null, observer));
        Assert.Equal(5, calls);
        using var r = integrator.Solve(problem);
        Assert.Equal(OdeStatus.Success, r.Status);
    }

    private sealed class LastValue : IProgress<double>
    {
        public double Value;
        public void Report(double value) => Value = value;
    }

    [Theory]
    [InlineData(StepSizeSharing.Shared)]
    [InlineData(StepSizeSharing.PerSample)]
    public void ObserverPidControllerAndProbabilityFlowAllocateNothingPerStep(StepSizeSharing control)
    {
        var gmm = new GenerativePaths.Ode.Problems.GaussianMixtureFlow([0.4, 0.6], [[-1.0, 0.5], [1.0, -0.5]], [0.3, 0.5]);
        using var y0 = State([0.3, -0.2], [1.2, 0.4]);
        var f = gmm.ProbabilityFlow<double>();
        var integrator = new AdaptiveIntegrator<double>(EmbeddedTableau.Tsitouras54, 2, 2);
        var options = new OdeOptions { RelativeTolerance = 1e-9, AbsoluteTolerance = 1e-9, StepSizeSharing = control, CustomController = new PidController() };
        var progress = new LastValue();
        double sum = 0;
        var observer = new OdeObserver<double> { Progress = progress, OnStep = (t, h, y) => sum += h[0] };
        long Bytes(double t1, out long steps)
        {
            var problem = new OdeProblem<double>(f, y0, 40, t1);
            for (int i = 0; i < 3; i++) integrator.Solve(problem, options, null, observer).Dispose();
            // The least of three measured solves: a solve's own allocation is the same each time, while the runtime may add bytes
            // to one measurement (tiered recompilation finishing mid-run under a loaded machine).
            long bytes = long.MaxValue;
            steps = 0;
            for (int k = 0; k < 3; k++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                using var r = integrator.Solve(problem, options, null, observer);
                bytes = Math.Min(bytes, GC.GetAllocatedBytesForCurrentThread() - before);
                Assert.Equal(OdeStatus.Success, r.Status);
                Assert.Equal(t1, progress.Value);
                steps = r.Statistics.AcceptedSteps;
            }
            return bytes;
        }
        long shortRun = Bytes(10, out long fewSteps), longRun = Bytes(0.05, out long manySteps);
        Assert.True(manySteps > fewSteps + 10, $"{fewSteps} vs {manySteps} steps");
        Assert.Equal(shortRun, longRun);
    }
}
