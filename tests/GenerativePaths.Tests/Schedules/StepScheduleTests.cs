using FsCheck;
using FsCheck.Xunit;
using GenerativePaths.Paths;
using GenerativePaths.Schedules;
using Xunit;

namespace GenerativePaths.Tests.Schedules;

/// <summary>Spacings, custom lists, strength, and the invariants of every plan the library builds.</summary>
public class StepScheduleTests
{
    // ---------------------------------------------------------------- spacings (closed forms written out here)

    [Fact]
    public void LeadingWithOffset()
    {
        var t = DiscreteTimesteps.Integer(1000, 10, TimestepSpacing.Leading, stepsOffset: 1);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 901.0 - 100 * i), t);
    }

    [Fact]
    public void TrailingStartsAtTheLastTrainingStep()
    {
        var t = DiscreteTimesteps.Integer(1000, 3, TimestepSpacing.Trailing);
        // 1000, 666.67, 333.33 rounded, minus one
        Assert.Equal([999.0, 666.0, 332.0], t);
    }

    [Fact]
    public void LinspaceRoundsHalfToEven()
    {
        var t = DiscreteTimesteps.Integer(1000, 3, TimestepSpacing.Linspace);
        Assert.Equal([999.0, 500.0, 0.0], t); // 499.5 -> 500 (even)
        var f = DiscreteTimesteps.Fractional(1000, 3, TimestepSpacing.Linspace);
        Assert.Equal([999.0, 499.5, 0.0], f);
    }

    [Fact]
    public void DropLastSpacingOfMultistepSolvers()
    {
        var t = DiscreteTimesteps.IntegerDropLast(1000, 4, TimestepSpacing.Linspace);
        // round(linspace(0, 999, 5)) = 0, 250 (249.75), 500 (499.5), 749 (749.25), 999; reversed without the 0
        Assert.Equal([999.0, 749.0, 500.0, 250.0], t);
        var lead = DiscreteTimesteps.IntegerDropLast(1000, 4, TimestepSpacing.Leading, stepsOffset: 1);
        Assert.Equal([801.0, 601.0, 401.0, 201.0], lead);
    }

    [Fact]
    public void OffsetBeyondTheTableIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => DiscreteTimesteps.Integer(1000, 1, TimestepSpacing.Leading, stepsOffset: 1000));
        Assert.Contains("Timestep 0", e.Message);
    }

    [Fact]
    public void TooManyStepsAreRejected()
        => Assert.Throws<ArgumentOutOfRangeException>(() => DiscreteTimesteps.Integer(100, 101, TimestepSpacing.Linspace));

    // ---------------------------------------------------------------- custom lists

    [Theory]
    [InlineData(new[] { 10.0, 5.0, 6.0, 1.0 }, 2)]
    [InlineData(new[] { 10.0, 5.0, 5.0, 7.0 }, 3)]
    [InlineData(new[] { 10.0, double.NaN, 1.0 }, 1)]
    [InlineData(new[] { double.PositiveInfinity, 1.0 }, 0)]
    [InlineData(new[] { 3.0, 2.0, -1.0 }, 2)]
    public void BadCustomSigmasNameTheFirstBadIndex(double[] sigmas, int badIndex)
    {
        var e = Assert.Throws<ArgumentException>(() => StepSchedules.FromVeSigmas(sigmas));
        Assert.Contains($"igma {badIndex}", e.Message);
        Assert.Equal("sigmas", e.ParamName);
    }

    [Fact]
    public void BadCustomTimestepsNameTheFirstBadIndex()
    {
        var path = DiscreteVpPath.FromBetas(BetaSchedules.Linear(1000));
        var e = Assert.Throws<ArgumentException>(() => StepSchedules.FromTimesteps(path, [999, 500, 501, 0]));
        Assert.Contains("imestep 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => StepSchedules.FromTimesteps(path, [999, 1000.5]));
        Assert.Contains("imestep 1", e.Message);
        e = Assert.Throws<ArgumentException>(() => StepSchedules.FromFlowSigmas([1.0, 0.5, 0.7]));
        Assert.Contains("igma 2", e.Message);
    }

    [Fact]
    public void RepeatedValuesAreAllowed()
    {
        var s = StepSchedules.FromVeSigmas([5.0, 5.0, 2.0, 2.0, 0.0]);
        Assert.Equal(4, s.StepCount);
    }

    [Fact]
    public void CustomTimestepsOnADiscretePathUseTheTableAtIntegers()
    {
        var betas = BetaSchedules.ScaledLinear(1000);
        var path = DiscreteVpPath.FromBetas(betas);
        var s = StepSchedules.FromTimesteps(path, [999, 500.5, 3]);
        Assert.Equal(Math.Sqrt(path.AlphasCumprod[999]), s[0].Alpha);
        Assert.Equal(Math.Sqrt(1 - path.AlphasCumprod[3]), s[2].Sigma);
        // fractional: log(sigma/alpha) halfway between its integer neighbours
        double l500 = Math.Log(Math.Sqrt((1 - path.AlphasCumprod[500]) / path.AlphasCumprod[500]));
        double l501 = Math.Log(Math.Sqrt((1 - path.AlphasCumprod[501]) / path.AlphasCumprod[501]));
        Assert.Equal(0.5 * (l500 + l501), Math.Log(s[1].Sigma / s[1].Alpha), 12);
        Assert.Equal(500.5, s[1].ModelTime);
        Assert.Equal((1.0, 0.0), (s[3].Alpha, s[3].Sigma));
    }

    // ---------------------------------------------------------------- image-to-image strength

    [Theory]
    [InlineData(50, 1.0, 0)]
    [InlineData(50, 0.75, 13)]   // floor(37.5) = 37 steps kept
    [InlineData(50, 0.0, 50)]
    [InlineData(10, 0.31, 7)]
    public void StrengthStartIndex(int steps, double strength, int expected)
        => Assert.Equal(expected, StepSchedules.StartIndexForStrength(steps, strength));

    [Fact]
    public void WithStrengthKeepsTheTail()
    {
        var s = StepSchedules.Karras(20, 0.03, 14.6);
        var t = s.WithStrength(0.5);
        Assert.Equal(10, t.StepCount);
        Assert.Equal(s[10], t[0]);
        Assert.Equal(s[20], t[^1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.WithStrength(0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.StartingAt(20));
    }

    // ---------------------------------------------------------------- properties of every plan

    private static void AssertMonotoneToClean(StepSchedule s)
    {
        for (int i = 1; i < s.Points.Length; i++)
        {
            double prev = s[i - 1].Alpha == 0 ? double.PositiveInfinity : s[i - 1].SigmaOverAlpha;
            Assert.True(s[i].SigmaOverAlpha <= prev, $"point {i} increases the noise level");
        }
        Assert.Equal(0.0, s[^1].Sigma);
        Assert.Equal(1.0, s[^1].Alpha);
    }

    private static double Unit(NormalFloat x) => PathMath.Sigmoid(x.Get); // (0, 1)

    [Property(MaxTest = 200)]
    public void KDiffusionPlansAreMonotoneAndEndAtZero(PositiveInt n, NormalFloat a, NormalFloat b, NormalFloat r)
    {
        int steps = 1 + n.Get % 200;
        double lo = Math.Exp(-5 + 3 * Unit(a)), hi = lo * Math.Exp(0.01 + 8 * Unit(b));
        double rho = 0.5 + 10 * Unit(r);
        foreach (var plan in new[]
        {
            StepSchedules.Karras(steps, lo, hi, rho), StepSchedules.Exponential(steps, lo, hi),
            StepSchedules.PolyExponential(steps, lo, hi, rho), StepSchedules.Vp(steps),
            StepSchedules.Flow(steps, FlowTimeShift.Static(0.2 + 5 * Unit(r))),
            StepSchedules.Flow(steps, FlowTimeShift.Exponential(3 * a.Get / (1 + Math.Abs(a.Get)))),
        })
        {
            Assert.Equal(steps, plan.StepCount);
            AssertMonotoneToClean(plan);
        }
        var karras = SigmaArrays.Karras(steps, lo, hi, rho);
        Assert.Equal(hi, karras[0], 12);
        if (steps > 1) Assert.Equal(lo, karras[steps - 1], 12);
    }

    [Property(MaxTest = 100)]
    public void SpacingsAreStrictlyDecreasingIntegersInRange(PositiveInt n, PositiveInt offset)
    {
        int steps = 1 + n.Get % 100;
        foreach (var sp in new[] { TimestepSpacing.Leading, TimestepSpacing.Trailing, TimestepSpacing.Linspace })
        {
            int off = sp == TimestepSpacing.Leading ? offset.Get % 2 : 0;
            var t = DiscreteTimesteps.Integer(1000, steps, sp, off);
            Assert.Equal(steps, t.Length);
            for (int i = 0; i < t.Length; i++)
            {
                Assert.Equal(Math.Round(t[i]), t[i]);
                Assert.InRange(t[i], 0, 999);
                if (i > 0) Assert.True(t[i] < t[i - 1]);
            }
            var d = DiscreteTimesteps.IntegerDropLast(1000, steps, sp, off);
            for (int i = 1; i < d.Length; i++) Assert.True(d[i] <= d[i - 1]);
        }
    }
}
