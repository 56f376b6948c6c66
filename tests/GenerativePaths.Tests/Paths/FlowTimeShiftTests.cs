using FsCheck;
using FsCheck.Xunit;
using GenerativePaths.Paths;
using Xunit;

namespace GenerativePaths.Tests.Paths;

/// <summary>The flow time shifts: closed forms, [0,1] onto itself, monotone, invertible.</summary>
public class FlowTimeShiftTests
{
    private static double Unit(NormalFloat x) => PathMath.Sigmoid(x.Get);

    private static IEnumerable<FlowTimeShift> Shifts(NormalFloat a, NormalFloat b)
    {
        double s = Math.Exp(3 * Math.Tanh(a.Get));     // shift in (e^-3, e^3)
        double e = 0.3 + 2.5 * Unit(b);                 // exponent
        yield return FlowTimeShift.Static(s);
        yield return FlowTimeShift.Exponential(Math.Log(s), e);
        yield return FlowTimeShift.LinearMu(s, e);
    }

    [Property(MaxTest = 300)]
    public void MapsTheUnitIntervalOntoItselfMonotonically(NormalFloat a, NormalFloat b, NormalFloat x, NormalFloat y)
    {
        double t1 = Unit(x), t2 = Unit(y);
        if (t1 > t2) (t1, t2) = (t2, t1);
        foreach (var sh in Shifts(a, b))
        {
            Assert.Equal(0.0, sh.Apply(0.0));
            Assert.Equal(1.0, sh.Apply(1.0), 15);
            double u1 = sh.Apply(t1), u2 = sh.Apply(t2);
            Assert.InRange(u1, 0, 1);
            Assert.True(u1 <= u2, $"{sh}: not monotone between {t1} and {t2}");
            Assert.True(sh.Derivative(t1) > 0);
            // u carries ~1e-16 of absolute rounding, so t is recoverable to about 1e-16 / u'(t)
            double tol = 1e-9 + 1e-15 / sh.Derivative(t1);
            Assert.True(Math.Abs(sh.Inverse(u1) - t1) <= tol, $"{sh}: inverse of {u1} is {sh.Inverse(u1)}, not {t1}");
            Assert.Equal(u1, sh.Apply(sh.Inverse(u1)), 12);
        }
    }

    [Property(MaxTest = 200)]
    public void DerivativeAgreesWithFiniteDifference(NormalFloat a, NormalFloat b, NormalFloat x)
    {
        double t = 0.02 + 0.96 * Unit(x), h = 1e-6;
        foreach (var sh in Shifts(a, b))
        {
            double fd = (sh.Apply(t + h) - sh.Apply(t - h)) / (2 * h);
            Assert.True(Math.Abs(fd - sh.Derivative(t)) <= 1e-5 * (1 + Math.Abs(fd)), $"{sh} at {t}: {fd} vs {sh.Derivative(t)}");
        }
    }

    [Fact]
    public void ClosedForms()
    {
        double t = 0.37;
        Assert.Equal(3 * t / (1 + 2 * t), FlowTimeShift.Static(3).Apply(t), 15);
        double mu = 1.15;
        Assert.Equal(Math.Exp(mu) / (Math.Exp(mu) + (1 / t - 1)), FlowTimeShift.Exponential(mu).Apply(t), 14);
        Assert.Equal(Math.Exp(mu) / (Math.Exp(mu) + Math.Pow(1 / t - 1, 1.7)), FlowTimeShift.Exponential(mu, 1.7).Apply(t), 14);
        Assert.Equal(2.0 / (2.0 + (1 / t - 1)), FlowTimeShift.LinearMu(2.0).Apply(t), 15);
        Assert.Equal(t, FlowTimeShift.None.Apply(t), 15);
    }

    [Fact]
    public void ResolutionMuIsLinearBetweenTheEnds()
    {
        Assert.Equal(0.5, FlowTimeShift.ResolutionMu(256), 15);
        Assert.Equal(1.15, FlowTimeShift.ResolutionMu(4096), 15);
        Assert.Equal(0.5 + (1024.0 - 256) * 0.65 / 3840, FlowTimeShift.ResolutionMu(1024), 15);
    }

    [Fact]
    public void BadArgumentsThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowTimeShift.Static(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowTimeShift.Static(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowTimeShift.Static(2).Apply(1.5));
    }
}
