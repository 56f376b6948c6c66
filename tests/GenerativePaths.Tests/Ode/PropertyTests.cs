using FsCheck.Xunit;
using GenerativePaths.Ode;
using GenerativePaths.Ode.Problems;
using GenerativePaths.Tensors;
using static GenerativePaths.Tests.Ode.OdeTestProblems;

namespace GenerativePaths.Tests.Ode;

public class PropertyTests
{
    private static double Unit(int seed, int k) => (new Random(seed * 7919 + k).NextDouble());

    [Property(MaxTest = 40)]
    public bool ForwardThenBackwardReturnsToTheStart(int seed, byte methodIndex)
    {
        // Lotka–Volterra from a random positive state over a random span, there and back.
        var m = EmbeddedTableau.AdaptiveMethods[1 + methodIndex % (EmbeddedTableau.AdaptiveMethods.Count - 1)];
        double x0 = 0.5 + 2 * Unit(seed, 0), p0 = 0.5 + 2 * Unit(seed, 1), t1 = 0.5 + 4 * Unit(seed, 2);
        using var y0 = State([x0, p0]);
        var f = ClassicProblems.LotkaVolterra<double>();
        var opts = new OdeOptions { RelativeTolerance = 1e-10, AbsoluteTolerance = 1e-10 };
        using var there = OdeSolver.Solve(new OdeProblem<double>(f, y0, 0, t1), m, opts);
        using var back = OdeSolver.Solve(new OdeProblem<double>(f, there.FinalState, t1, 0), m, opts);
        double err = Math.Max(Math.Abs(back.FinalState.Span[0] - x0), Math.Abs(back.FinalState.Span[1] - p0));
        return there.Status == OdeStatus.Success && back.Status == OdeStatus.Success && err < 1e-6;
    }

    [Property(MaxTest = 30)]
    public bool AnySplitOfABatchGivesTheSameResultsUnderPerSampleStepping(int seed, byte sizeByte, byte splitByte)
    {
        int n = 2 + sizeByte % 7;
        int split = 1 + splitByte % (n - 1);
        var lambda = Enumerable.Range(0, n).Select(i => Math.Pow(10, 2.5 * Unit(seed, i))).ToArray();
        var rows = Enumerable.Range(0, n).Select(i => new[] { 4 * Unit(seed, 100 + i) - 2, 4 * Unit(seed, 200 + i) - 2 }).ToArray();
        var opts = new OdeOptions { RelativeTolerance = 1e-7, AbsoluteTolerance = 1e-7, StepSizeSharing = StepSizeSharing.PerSample, SaveTimes = [0.3, 1.1, 2] };
        OdeResult<double> Run(int start, int count)
        {
            using var y0 = State(rows[start..(start + count)]);
            return OdeSolver.Solve(new OdeProblem<double>(Relaxation(lambda[start..(start + count)]), y0, 0, 2), EmbeddedTableau.Tsitouras54, opts);
        }
        using var whole = Run(0, n);
        using var left = Run(0, split);
        using var right = Run(split, n - split);
        for (int b = 0; b < n; b++)
        {
            var part = b < split ? left : right;
            int pb = b < split ? b : b - split;
            if (!whole.FinalState.Row(b).SequenceEqual(part.FinalState.Row(pb))) return false;
            if (whole.SampleStatistics[b] != part.SampleStatistics[pb]) return false;
            for (int k = 0; k < 3; k++)
                if (!whole.SavedStates[k].Row(b).SequenceEqual(part.SavedStates[k].Row(pb))) return false;
        }
        return true;
    }

    [Property(MaxTest = 30)]
    public bool AZeroLengthSpanIsTheIdentity(double a, double b)
    {
        if (!double.IsFinite(a) || !double.IsFinite(b)) return true;
        using var y0 = State([a, b]);
        using var r = OdeSolver.Solve(new OdeProblem<double>(Harmonic(), y0, 1.5, 1.5), EmbeddedTableau.DormandPrince54);
        return r.Status == OdeStatus.Success && r.FinalState.Span[0].Equals(a) && r.FinalState.Span[1].Equals(b);
    }
}
