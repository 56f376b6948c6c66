using GenerativePaths.Ode;
using GenerativePaths.Ode.Problems;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Ode;

/// <summary>One problem, one likelihood, solved from several threads: bit-identical to sequential solves.</summary>
public class ThreadSafetyTests
{
    private static readonly GaussianMixtureFlow Gmm = new([0.2, 0.5, 0.3], [[-1, 0.5, 2, 0], [1.5, -1, 0, 0.5], [0, 2, -1.5, -1]], [0.3, 0.6, 0.45]);
    private static readonly double[][] Points = [[-1.1, 0.4, 2.2, 0.1], [1.0, -0.5, 0.3, 0.2], [0.5, 1.5, -1.0, -0.8]];

    private static double[][] Parallel64(Func<double[]> solve)
    {
        var sequential = solve();
        var results = new double[64][];
        var threads = new Thread[8];
        using var start = new ManualResetEventSlim(false);
        for (int th = 0; th < 8; th++)
        {
            int id = th;
            threads[th] = new Thread(() => { start.Wait(); for (int j = id; j < 64; j += 8) results[j] = solve(); });
            threads[th].Start();
        }
        start.Set();
        foreach (var t in threads) t.Join();
        foreach (var r in results) Assert.Equal(sequential, r);
        return results;
    }

    [Theory]
    [InlineData(StepSizeSharing.Shared)]
    [InlineData(StepSizeSharing.PerSample)]
    public void OneProbabilityFlowProblemSolvedFromEightThreadsMatchesTheSequentialSolve(StepSizeSharing control)
    {
        using var x = BatchTensor<double>.FromRows(Points);
        var problem = new OdeProblem<double>(Gmm.ProbabilityFlow<double>(), x, 40, 0.2);
        var options = new OdeOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-8, StepSizeSharing = control };
        Parallel64(() =>
        {
            using var r = OdeSolver.Solve(problem, EmbeddedTableau.DormandPrince54, options);
            Assert.Equal(OdeStatus.Success, r.Status);
            return r.FinalState.Span.ToArray();
        });
    }

    [Theory]
    [InlineData(DivergenceEstimator.FiniteDifference)]
    [InlineData(DivergenceEstimator.Hutchinson)]
    [InlineData(DivergenceEstimator.Provided)]
    public void OneLikelihoodSharedByEightThreadsMatchesTheSequentialSolve(DivergenceEstimator estimator)
    {
        using var x = BatchTensor<double>.FromRows(Points);
        var lik = new ProbabilityFlowLikelihood<double>(Gmm.ProbabilityFlow<double>(), 3, 4, estimator, Gmm.ProbabilityFlowDivergence<double>(), seed: 7);
        var options = new OdeOptions { RelativeTolerance = 1e-7, AbsoluteTolerance = 1e-7 };
        Parallel64(() =>
        {
            var (r, delta) = lik.Solve(x, 0.2, 40, EmbeddedTableau.Tsitouras54, options);
            using (r) return [.. delta, .. r.FinalState.Span.ToArray()];
        });
    }

    [Fact]
    public void ConcurrentSolvesOnOneIntegratorThrowAClearError()
    {
        using var entered = new ManualResetEventSlim(false);
        using var release = new ManualResetEventSlim(false);
        OdeFunction<double> blocking = (t, y, d) =>
        {
            entered.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            d.Span[0] = -y.Span[0];
        };
        using var y0 = BatchTensor<double>.FromRows([[1.0]]);
        var integrator = new AdaptiveIntegrator<double>(EmbeddedTableau.DormandPrince54, 1, 1);
        OdeResult<double>? first = null;
        var worker = new Thread(() => first = integrator.Solve(new OdeProblem<double>(blocking, y0, 0, 1)));
        worker.Start();
        Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));
        OdeFunction<double> decay = (t, y, d) => d.Span[0] = -y.Span[0];
        var ex = Assert.Throws<InvalidOperationException>(() => integrator.Solve(new OdeProblem<double>(decay, y0, 0, 1)));
        Assert.Contains("already solving", ex.Message);
        release.Set();
        worker.Join();
        Assert.Equal(OdeStatus.Success, first!.Status);
        first.Dispose();
        // Once the first solve has ended the integrator serves the next one.
        using var again = integrator.Solve(new OdeProblem<double>(decay, y0, 0, 1));
        Assert.Equal(Math.Exp(-1), again.FinalState.Span[0], 1e-6);
    }
}
