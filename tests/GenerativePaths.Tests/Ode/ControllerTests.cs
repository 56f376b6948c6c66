using GenerativePaths.Ode;
using GenerativePaths.Ode.Problems;
using Xunit;
using static GenerativePaths.Tests.Ode.OdeTestProblems;

namespace GenerativePaths.Tests.Ode;

public class ControllerTests
{
    private static (double Error, long Evaluations) Run(IStepSizeController controller, double tol, StepSizeSharing control = StepSizeSharing.Shared)
    {
        using var y0 = State([1.0, 0.5]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(Harmonic(), y0, 0, 10), EmbeddedTableau.DormandPrince54,
            new OdeOptions { RelativeTolerance = tol, AbsoluteTolerance = tol, CustomController = controller, StepSizeSharing = control });
        Assert.Equal(OdeStatus.Success, r.Status);
        var (x, v) = HarmonicExact(1, 0.5, 1, 10);
        return (Math.Max(Math.Abs(r.FinalState.Span[0] - x), Math.Abs(r.FinalState.Span[1] - v)), r.Statistics.Evaluations);
    }

    [Theory]
    [InlineData(StepSizeSharing.Shared)]
    [InlineData(StepSizeSharing.PerSample)]
    public void PidControllerConvergesInTheAccuracyClassOfPi(StepSizeSharing control)
    {
        var pid = new PidController();
        double previous = double.PositiveInfinity;
        foreach (double tol in new[] { 1e-4, 1e-6, 1e-8, 1e-10 })
        {
            var (ePid, nPid) = Run(pid, tol, control);
            var (ePi, nPi) = Run(ProportionalIntegralController.Instance, tol, control);
            // Same accuracy class: within a factor 30 of PI's error at a comparable cost.
            Assert.True(ePid < 30 * ePi + 1e-13, $"tol {tol}: PID {ePid:E2}, PI {ePi:E2}");
            Assert.True(nPid < 2 * nPi && nPi < 2 * nPid, $"tol {tol}: PID {nPid} evaluations, PI {nPi}");
            // Converges: tightening the tolerance shrinks the error.
            Assert.True(ePid < previous, $"tol {tol}: {ePid:E2} after {previous:E2}");
            previous = ePid;
        }
        Assert.True(previous < 1e-8);
    }

    [Fact]
    public void BuiltInControllersGiveTheEnumResultsBitForBit()
    {
        using var y0 = State([1.0, 0.5]);
        var problem = new OdeProblem<double>(Harmonic(), y0, 0, 10);
        foreach (var (e, c) in new (StepSizeController, IStepSizeController)[]
                 { (StepSizeController.ProportionalIntegral, ProportionalIntegralController.Instance), (StepSizeController.Integral, IntegralController.Instance) })
        {
            using var a = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, new OdeOptions { Controller = e });
            using var b = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, new OdeOptions { CustomController = c });
            Assert.Equal(a.FinalState.Span.ToArray(), b.FinalState.Span.ToArray());
            Assert.Equal(a.Statistics, b.Statistics);
        }
        using var f1 = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, new OdeOptions { FixedStep = true, InitialStep = 0.1 });
        using var f2 = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, new OdeOptions { CustomController = ConstantStepController.Instance, InitialStep = 0.1 });
        Assert.Equal(f1.FinalState.Span.ToArray(), f2.FinalState.Span.ToArray());
        Assert.Equal(f1.Statistics, f2.Statistics);
        Assert.InRange(f1.Statistics.AcceptedSteps, 100, 101);
    }

    [Fact]
    public void PidGainsAreValidated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PidController(k1: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PidController(k2: double.NaN));
    }
}
