using GenerativePaths.Ode;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Ode.OdeTestProblems;

namespace GenerativePaths.Tests.Ode;

/// <summary>Degenerate inputs end a solve at once with a status that says what and where.</summary>
public class ReliabilityTests
{
    private static readonly OdeFunction<double> Cosine = (t, y, d) => { for (int b = 0; b < y.BatchSize; b++) d.Row(b)[0] = Math.Cos(t[b]); };

    [Theory]
    [InlineData(StepSizeSharing.Shared)]
    [InlineData(StepSizeSharing.PerSample)]
    public void ZeroAbsoluteToleranceAtAZeroComponentStillSolves(StepSizeSharing control)
    {
        // y' = cos t, y0 = 0, atol = 0: the scale of the first-step heuristic is 0 at t0.
        using var y0 = State([0.0], [0.0]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(Cosine, y0, 0, 2), EmbeddedTableau.DormandPrince54,
            new OdeOptions { RelativeTolerance = 1e-6, AbsoluteTolerance = 0, StepSizeSharing = control });
        Assert.Equal(OdeStatus.Success, r.Status);
        Assert.Equal(Math.Sin(2), r.FinalState.Span[0], 1e-5);
        Assert.True(r.Statistics.AcceptedSteps < 1000, $"{r.Statistics}");
    }

    [Fact]
    public void ZeroEntryInAbsoluteTolerancesStillSolves()
    {
        OdeFunction<double> f = (t, y, d) => { d.Span[0] = Math.Cos(t[0]); d.Span[1] = -y.Span[1]; };
        using var y0 = State([0.0, 1.0]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(f, y0, 0, 2), EmbeddedTableau.DormandPrince54,
            new OdeOptions { RelativeTolerance = 1e-6, AbsoluteTolerances = [0, 1e-9] });
        Assert.Equal(OdeStatus.Success, r.Status);
        Assert.Equal(Math.Sin(2), r.FinalState.Span[0], 1e-5);
    }

    [Fact]
    public void NaNStepSizeEndsTheSolveAtOnceWithItsOwnStatus()
    {
        // A controller that returns NaN: the next step size is NaN, and the solve must stop there rather than spin.
        using var y0 = State([0.0]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(Cosine, y0, 0, 2), EmbeddedTableau.DormandPrince54,
            new OdeOptions { CustomController = new NaNController() });
        Assert.Equal(OdeStatus.NonFiniteStepSize, r.Status);
        Assert.Equal(0, r.FailedSample);
        Assert.True(double.IsFinite(r.FailedTime) && r.FailedTime > 0);
        Assert.Equal(1, r.Statistics.AcceptedSteps);
    }

    private sealed class NaNController : IStepSizeController
    {
        public bool IsAdaptive => true;
        public int MemoryLength => 0;
        public void Reset(Span<double> memory) { }
        public double AcceptFactor(double errorNorm, double order, Span<double> memory, in StepSizeLimits limits) => double.NaN;
        public double RejectFactor(double errorNorm, double order, ReadOnlySpan<double> memory, in StepSizeLimits limits) => double.NaN;
    }

    [Theory]
    [InlineData(StepSizeSharing.Shared, true)]
    [InlineData(StepSizeSharing.PerSample, true)]
    [InlineData(StepSizeSharing.Shared, false)]
    [InlineData(StepSizeSharing.PerSample, false)]
    public void StepsThatCannotAdvanceTimeEndWithStepSizeUnderflow(StepSizeSharing control, bool adaptive)
    {
        using var y0 = State([0.0]);
        var o = adaptive
            ? new OdeOptions { MaxStep = 1e-300, StepSizeSharing = control }
            : new OdeOptions { FixedStep = true, InitialStep = 1e-300, StepSizeSharing = control };
        using var r = OdeSolver.Solve(new OdeProblem<double>(Cosine, y0, 1, 2), EmbeddedTableau.DormandPrince54, o);
        Assert.Equal(OdeStatus.StepSizeUnderflow, r.Status);
        Assert.Equal(0, r.FailedSample);
        Assert.Equal(1, r.FailedTime);
        Assert.Contains("could not advance t at t = 1", r.Message);
        Assert.True(r.Statistics.Evaluations < 20, $"{r.Statistics}");
    }

    [Theory]
    [InlineData(StepSizeSharing.Shared)]
    [InlineData(StepSizeSharing.PerSample)]
    public void EventThatIsNaNEverywhereEndsTheSolve(StepSizeSharing control)
    {
        using var y0 = State([1.0, 0.0], [1.0, 0.0]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(Harmonic(), y0, 0, 4), EmbeddedTableau.DormandPrince54,
            new OdeOptions { StepSizeSharing = control }, (t, y) => double.NaN);
        Assert.Equal(OdeStatus.NonFiniteEvent, r.Status);
        Assert.Equal(0, r.FailedSample);
        Assert.Equal(0, r.FailedTime);
        Assert.Equal("NonFiniteEvent: the terminal event function returned NaN for sample 0 at t = 0.", r.Message);
    }

    [Theory]
    [InlineData(StepSizeSharing.Shared)]
    [InlineData(StepSizeSharing.PerSample)]
    public void EventThatIsNaNAroundItsCrossingEndsTheSolve(StepSizeSharing control)
    {
        // x = cos t crosses zero at pi/2; the event function is NaN on (1.3, 1.9), so the crossing cannot be located.
        using var y0 = State([1.0, 0.0], [1.0, 0.0]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(Harmonic(), y0, 0, 4), EmbeddedTableau.DormandPrince54,
            new OdeOptions { StepSizeSharing = control, MaxStep = 0.5 }, (t, y) => t > 1.3 && t < 1.9 ? double.NaN : y[0]);
        Assert.Equal(OdeStatus.NonFiniteEvent, r.Status);
        Assert.Equal(0, r.FailedSample);
        Assert.True(r.FailedTime > 0.7 && r.FailedTime < 1.9, $"{r.FailedTime}");
        Assert.True(r.Times[0] <= 1.3, $"the state is the last one before the failure: {r.Times[0]}");
        Assert.True(double.IsNaN(r.EventTimes[0]));
    }
}
