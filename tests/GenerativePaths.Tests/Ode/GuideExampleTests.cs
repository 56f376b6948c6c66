using GenerativePaths.Ode;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Ode;

/// <summary>The worked example of docs/ode-guide.md, as written there.</summary>
public class GuideExampleTests
{
    [Fact]
    public void LotkaVolterraExampleGivesTheReferenceEndState()
    {
        OdeFunction<double> f = (t, y, dydt) =>
        {
            var s = y.Span; var d = dydt.Span;
            d[0] = 1.5 * s[0] - s[0] * s[1];
            d[1] = -3 * s[1] + s[0] * s[1];
        };
        using var y0 = BatchTensor<double>.FromRows([[1.0, 1.0]]);
        var problem = new OdeProblem<double>(f, y0, t0: 0, t1: 10);
        var options = new OdeOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-8, SaveTimes = [2.5, 5, 7.5, 10] };
        using var result = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, options);
        Assert.Equal(OdeStatus.Success, result.Status);
        // y_end_reference of ode_lotka_volterra.json
        Assert.True(Math.Abs(result.FinalState.Span[0] - 1.0263447675750317) < 1e-7);
        Assert.True(Math.Abs(result.FinalState.Span[1] - 0.9096910781362723) < 1e-7);
        Assert.Equal(result.FinalState.Span.ToArray(), result.SavedStates[3].Span.ToArray());

        using var hit = OdeSolver.Solve(problem, EmbeddedTableau.Tsitouras54, options, terminalEvent: (t, y) => y[0] - 3);
        Assert.Equal(OdeStatus.TerminatedByEvent, hit.Status);
        Assert.True(Math.Abs(hit.FinalState.Span[0] - 3) < 1e-9);
        Assert.True(hit.EventTimes[0] > 0 && hit.EventTimes[0] < 10);
    }
}
