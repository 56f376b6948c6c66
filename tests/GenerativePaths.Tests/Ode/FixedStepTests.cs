using GenerativePaths.Ode;
using GenerativePaths.Tensors;
using MathNet.Numerics.LinearAlgebra;
using Xunit;
using static GenerativePaths.Tests.Ode.OdeTestProblems;

namespace GenerativePaths.Tests.Ode;

public class FixedStepTests
{
    public static TheoryData<string> FixedNames => new(ButcherTableau.FixedStepMethods.Select(m => m.Name));

    private static double HarmonicError(ButcherTableau m, int steps)
    {
        using var y0 = State([1.0, 0.5]);
        using var r = OdeSolver.SolveFixed(new OdeProblem<double>(Harmonic(), y0, 0, 2), m, steps);
        Assert.Equal(OdeStatus.Success, r.Status);
        var (x, v) = HarmonicExact(1, 0.5, 1, 2);
        return Math.Max(Math.Abs(r.FinalState.Span[0] - x), Math.Abs(r.FinalState.Span[1] - v));
    }

    [Theory]
    [MemberData(nameof(FixedNames))]
    public void ObservedOrderMatchesTheMethod(string name)
    {
        var m = ButcherTableau.FixedStepMethods.Single(x => x.Name == name);
        int n = m.Order >= 4 ? 64 : 1024;
        double e1 = HarmonicError(m, n), e2 = HarmonicError(m, 2 * n);
        double observed = Math.Log2(e1 / e2);
        Assert.True(Math.Abs(observed - m.Order) < 0.1, $"{name}: observed order {observed:F3}, expected {m.Order}");
    }

    [Fact]
    public void ObservedOrderOnALinearSystemWithTimeDependence()
    {
        // y' = -2 (y - cos t) - sin t; y = cos t + (y0 - 1) e^(-2t): non-autonomous, checks the stage times c_i.
        foreach (var m in ButcherTableau.FixedStepMethods)
        {
            double Err(int n)
            {
                using var y0 = State([3.0]);
                using var r = OdeSolver.SolveFixed(new OdeProblem<double>(Relaxation([2.0]), y0, 0, 1.5), m, n);
                return Math.Abs(r.FinalState.Span[0] - (Math.Cos(1.5) + 2 * Math.Exp(-3)));
            }
            int n = m.Order >= 4 ? 40 : 800;
            double observed = Math.Log2(Err(n) / Err(2 * n));
            Assert.True(Math.Abs(observed - m.Order) < 0.1, $"{m.Name}: observed order {observed:F3}");
        }
    }

    [Fact]
    public void RungeKutta4MatchesMathNetOnTheSameGrid()
    {
        // MathNet's FourthOrder returns N points from start to end inclusive: N - 1 steps.
        const int n = 51;
        Func<double, Vector<double>, Vector<double>> f = (t, y) => Vector<double>.Build.Dense([y[1] - 0.1 * t * y[0], -y[0] + Math.Sin(t)]);
        var mathnet = MathNet.Numerics.OdeSolvers.RungeKutta.FourthOrder(Vector<double>.Build.Dense([1.0, 0.0]), 0, 5, n, f);
        using var y0 = State([1.0, 0.0]);
        OdeFunction<double> g = (t, y, d) =>
        {
            var r = y.Span; var o = d.Span;
            o[0] = r[1] - 0.1 * t[0] * r[0];
            o[1] = -r[0] + Math.Sin(t[0]);
        };
        using var res = OdeSolver.SolveFixed(new OdeProblem<double>(g, y0, 0, 5), ButcherTableau.RungeKutta4, n - 1, saveSteps: true);
        Assert.Equal(n - 1, res.SavedStates.Count);
        for (int k = 1; k < n; k++)
            for (int i = 0; i < 2; i++)
                Assert.True(Math.Abs(res.SavedStates[k - 1].Span[i] - mathnet[k][i]) < 1e-12, $"point {k}, component {i}");
    }

    [Fact]
    public void NonFiniteStateIsReportedWithSampleAndTime()
    {
        OdeFunction<double> f = (t, y, d) =>
        {
            for (int b = 0; b < y.BatchSize; b++) d.Row(b)[0] = b == 1 && t[b] > 0.5 ? double.NaN : -y.Row(b)[0];
        };
        using var y0 = State([1.0], [1.0], [1.0]);
        using var r = OdeSolver.SolveFixed(new OdeProblem<double>(f, y0, 0, 1), ButcherTableau.RungeKutta4, 10);
        Assert.Equal(OdeStatus.NonFiniteState, r.Status);
        Assert.Equal(1, r.FailedSample);
        Assert.Equal(0.5, r.FailedTime, 12); // the step from 0.5 evaluates at 0.55
        Assert.True(TensorReductions.IsFinite<double>(r.FinalState.Span));
    }

    [Fact]
    public void EvaluationBudgetStopsBeforeTheStepThatWouldExceedIt()
    {
        using var y0 = State([1.0, 0.0]);
        using var r = OdeSolver.SolveFixed(new OdeProblem<double>(Harmonic(), y0, 0, 1), ButcherTableau.RungeKutta4, 10, maxEvaluations: 10);
        Assert.Equal(OdeStatus.EvaluationBudgetExhausted, r.Status);
        Assert.Equal(8, r.Statistics.Evaluations);
        Assert.Equal(2, r.Statistics.AcceptedSteps);
        Assert.Equal(0.2, r.Time, 12);
    }
}
