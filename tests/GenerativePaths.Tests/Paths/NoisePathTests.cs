using FsCheck;
using FsCheck.Xunit;
using GenerativePaths.Paths;
using Xunit;

namespace GenerativePaths.Tests.Paths;

/// <summary>Every path against closed forms, finite differences and its own inverse.</summary>
public class NoisePathTests
{
    private static readonly DiscreteVpPath Sd = DiscreteVpPath.FromBetas(BetaSchedules.ScaledLinear(1000, 0.00085, 0.012));
    private static readonly DiscreteVpPath Ztsnr = DiscreteVpPath.FromBetas(BetaSchedules.RescaleZeroTerminalSnr(BetaSchedules.ScaledLinear(1000, 0.00085, 0.012)));

    public static IEnumerable<(string Name, NoisePath Path)> AllPaths()
    {
        yield return ("discrete", Sd);
        yield return ("discrete-cosine", DiscreteVpPath.FromBetas(BetaSchedules.SquaredCosCapV2(1000)));
        yield return ("linear-vp", new LinearVpPath());
        yield return ("cosine-vp", new CosineVpPath());
        yield return ("trig", new TrigonometricPath());
        yield return ("flow", new RectifiedFlowPath());
        yield return ("flow-shift3", new RectifiedFlowPath(FlowTimeShift.Static(3.0), 1000));
        yield return ("flow-mu", new RectifiedFlowPath(FlowTimeShift.Exponential(1.15, 1.3)));
        yield return ("ve", new VarianceExplodingPath(0.002, 80));
    }

    private static double Unit(NormalFloat x) => PathMath.Sigmoid(x.Get);

    // A time well inside the path (discrete: strictly between two integers so a finite difference does not cross a knot).
    private static double InteriorTime(NoisePath p, double u)
    {
        double lo = p.TimeMin, hi = p.TimeMax;
        double t = lo + (hi - lo) * (0.02 + 0.96 * u);
        if (p is DiscreteVpPath) t = Math.Floor(t) + 0.25 + 0.5 * (t - Math.Floor(t));
        return t;
    }

    [Property(MaxTest = 300)]
    public void DerivativesAgreeWithFiniteDifferences(NormalFloat x)
    {
        foreach (var (name, p) in AllPaths())
        {
            double t = InteriorTime(p, Unit(x));
            double h = (p is DiscreteVpPath ? 1e-4 : 1e-6) * Math.Max(1, Math.Abs(t));
            double da = (p.Alpha(t + h) - p.Alpha(t - h)) / (2 * h);
            double ds = (p.Sigma(t + h) - p.Sigma(t - h)) / (2 * h);
            Assert.True(Math.Abs(da - p.AlphaDerivative(t)) <= 1e-5 * (1 + Math.Abs(da)), $"{name}: alpha' at {t}: fd {da} vs {p.AlphaDerivative(t)}");
            Assert.True(Math.Abs(ds - p.SigmaDerivative(t)) <= 1e-5 * (1 + Math.Abs(ds)), $"{name}: sigma' at {t}: fd {ds} vs {p.SigmaDerivative(t)}");
        }
    }

    [Property(MaxTest = 300)]
    public void LogSnrInverseRoundTrips(NormalFloat x)
    {
        foreach (var (name, p) in AllPaths())
        {
            double t = InteriorTime(p, Unit(x));
            double lambda = p.LogSnr(t);
            Assert.Equal(Math.Log(p.Alpha(t) / p.Sigma(t)), lambda, 9);
            double back = p.TimeFromLogSnr(lambda);
            Assert.True(Math.Abs(back - t) <= 1e-9 * Math.Max(1, Math.Abs(t)), $"{name}: t {t} -> lambda {lambda} -> {back}");
        }
    }

    [Property(MaxTest = 200)]
    public void LogSnrDecreasesAndVpPathsPreserveVariance(NormalFloat x, NormalFloat y)
    {
        foreach (var (name, p) in AllPaths())
        {
            double t1 = InteriorTime(p, Unit(x)), t2 = InteriorTime(p, Unit(y));
            if (t1 == t2) continue;
            if (t1 > t2) (t1, t2) = (t2, t1);
            Assert.True(p.LogSnr(t2) <= p.LogSnr(t1), $"{name}: log-SNR increases between {t1} and {t2}");
            if (p is VariancePreservingPath)
                Assert.Equal(1.0, p.Alpha(t1) * p.Alpha(t1) + p.Sigma(t1) * p.Sigma(t1), 12);
        }
    }

    [Property(MaxTest = 200)]
    public void CoefficientsAtSigmaOverAlphaAreThePathPoint(NormalFloat x)
    {
        foreach (var (name, p) in AllPaths())
        {
            double t = InteriorTime(p, Unit(x));
            double s = p.Sigma(t) / p.Alpha(t);
            var (a, sg) = p.CoefficientsAtSigmaOverAlpha(s);
            Assert.True(Math.Abs(a - p.Alpha(t)) <= 1e-9 && Math.Abs(sg - p.Sigma(t)) <= 1e-9 * Math.Max(1, p.Sigma(t)), $"{name} at {t}: ({a}, {sg}) vs ({p.Alpha(t)}, {p.Sigma(t)})");
        }
    }

    // ---------------------------------------------------------------- closed forms

    [Fact]
    public void DiscretePathAtIntegersIsTheTable()
    {
        var betas = BetaSchedules.Linear(1000);
        double prod = 1;
        for (int t = 0; t < 1000; t++)
        {
            prod *= 1 - (0.0001 + t * (0.02 - 0.0001) / 999);
            if (t % 97 != 0) continue;
            var p = DiscreteVpPath.FromBetas(betas);
            Assert.Equal(Math.Sqrt(prod), p.Alpha(t), 12);
            Assert.Equal(Math.Sqrt(1 - prod), p.Sigma(t), 12);
        }
    }

    [Fact]
    public void DiscretePathInterpolatesLogSigmaLinearly()
    {
        double s(int t) => Math.Sqrt((1 - Sd.AlphasCumprod[t]) / Sd.AlphasCumprod[t]);
        foreach (double t in new[] { 0.3, 17.75, 500.5, 998.9 })
        {
            int i = (int)Math.Floor(t);
            double f = t - i;
            double expected = Math.Exp((1 - f) * Math.Log(s(i)) + f * Math.Log(s(i + 1)));
            Assert.Equal(expected, Sd.Sigma(t) / Sd.Alpha(t), 10);
            Assert.Equal(1 / Math.Sqrt(1 + expected * expected), Sd.Alpha(t), 12);
        }
        Assert.Equal(Sd.DiscreteSigma(250), Sd.Sigma(250) / Sd.Alpha(250), 12);
        Assert.Equal(250.0, Sd.TimeFromSigmaOverAlpha(Sd.DiscreteSigma(250)), 9);
        Assert.Equal(0.0, Sd.TimeFromSigmaOverAlpha(1e-9));   // below the table: clipped
        Assert.Equal(999.0, Sd.TimeFromSigmaOverAlpha(1e9));  // above: clipped
    }

    [Fact]
    public void BetaTablesMatchTheirFormulas()
    {
        var lin = BetaSchedules.Linear(11, 0.001, 0.011);
        for (int i = 0; i < 11; i++) Assert.Equal(0.001 + 0.001 * i, lin[i], 15);
        var sl = BetaSchedules.ScaledLinear(5, 0.0001, 0.0009); // sqrt: 0.01 .. 0.03
        for (int i = 0; i < 5; i++) Assert.Equal(Math.Pow(0.01 + 0.005 * i, 2), sl[i], 15);
        var cos = BetaSchedules.SquaredCosCapV2(10);
        static double ab(double u) => Math.Pow(Math.Cos((u + 0.008) / 1.008 * Math.PI / 2), 2);
        for (int i = 0; i < 10; i++) Assert.Equal(Math.Min(1 - ab((i + 1) / 10.0) / ab(i / 10.0), 0.999), cos[i], 14);
        Assert.Equal(0.999, cos[9]); // capped
    }

    [Fact]
    public void ZeroTerminalSnrRescale()
    {
        var betas = BetaSchedules.ScaledLinear(1000, 0.00085, 0.012);
        var ac = BetaSchedules.AlphasCumprod(betas);
        var resc = BetaSchedules.AlphasCumprod(BetaSchedules.RescaleZeroTerminalSnr(betas));
        double r0 = Math.Sqrt(ac[0]), rT = Math.Sqrt(ac[999]);
        for (int t = 0; t < 1000; t += 37)
            Assert.Equal((Math.Sqrt(ac[t]) - rT) * r0 / (r0 - rT), Math.Sqrt(resc[t]), 10);
        Assert.Equal(0.0, resc[999]);
        Assert.Equal(ac[0], resc[0], 12);

        Assert.True(Ztsnr.HasZeroTerminalSnr);
        Assert.Equal(0.0, Ztsnr.Alpha(999));
        Assert.Equal(1.0, Ztsnr.Sigma(999));
        Assert.Equal(double.NegativeInfinity, Ztsnr.LogSnr(999));
        Assert.Equal(999.0, Ztsnr.TimeFromLogSnr(double.NegativeInfinity));
        Assert.Equal(0.0, Ztsnr.AlphaDerivative(999));
        Assert.Equal(0.0, Ztsnr.Alpha(998.5));
        Assert.True(double.IsFinite(Ztsnr.LogSnr(998)));
        Assert.Equal(Ztsnr.LogSnr(997.5), Ztsnr.LogSnr(Ztsnr.TimeFromLogSnr(Ztsnr.LogSnr(997.5))), 10);
        Assert.Equal(double.PositiveInfinity, Ztsnr.DiscreteSigma(999));
        Assert.Equal((0.0, 1.0), Ztsnr.CoefficientsAtSigmaOverAlpha(double.PositiveInfinity));
    }

    [Fact]
    public void LinearVpMatchesTheIntegralOfBeta()
    {
        var p = new LinearVpPath(0.1, 20);
        foreach (double t in new[] { 0.001, 0.2, 0.5, 0.93, 1.0 })
        {
            // alpha = exp(-1/2 int_0^t beta(s) ds), integral by Simpson's rule (exact for a linear beta, independent of the closed form)
            int n = 100;
            double h = t / n, sum = 0;
            for (int i = 0; i <= n; i++)
            {
                double w = i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2;
                sum += w * (0.1 + i * h * 19.9);
            }
            double alpha = Math.Exp(-0.5 * sum * h / 3);
            Assert.Equal(alpha, p.Alpha(t), 12);
            Assert.Equal(Math.Sqrt(1 - alpha * alpha), p.Sigma(t), 10);
        }
        Assert.Equal(2.5, new LinearVpPath(modelTimeScale: 1000).ModelTime(0.0025), 12);
    }

    [Fact]
    public void CosineVpMatchesTheCosineAlphaBar()
    {
        var p = new CosineVpPath();
        foreach (double t in new[] { 0.0, 0.1, 0.5, 0.9, 0.999 })
            Assert.Equal(Math.Sqrt(BetaSchedules.CosineAlphaBar(t) / BetaSchedules.CosineAlphaBar(0)), p.Alpha(t), 12);
        Assert.Equal(0.0, p.Alpha(1.0));
        Assert.Equal(0.0, p.Sigma(0.0));
        Assert.Equal(1.0, p.Sigma(1.0), 14);
    }

    [Fact]
    public void TrigonometricPathEnds()
    {
        var p = new TrigonometricPath();
        Assert.Equal(0.0, p.Alpha(1.0));
        Assert.Equal(1.0, p.Sigma(1.0));
        Assert.Equal(double.NegativeInfinity, p.LogSnr(1.0));
        Assert.Equal(double.PositiveInfinity, p.LogSnr(0.0));
        Assert.Equal(1.0, p.TimeFromLogSnr(double.NegativeInfinity));
        Assert.Equal(0.0, p.TimeFromLogSnr(double.PositiveInfinity));
        Assert.Equal(Math.Cos(Math.PI * 0.3 / 2), p.Alpha(0.3), 15);
        Assert.Equal(Math.Sin(Math.PI * 0.3 / 2), p.Sigma(0.3), 15);
    }

    [Fact]
    public void RectifiedFlowEndsAndModelTime()
    {
        var p = new RectifiedFlowPath(FlowTimeShift.Static(3), 1000);
        Assert.Equal(0.0, p.Alpha(1.0));
        Assert.Equal(double.NegativeInfinity, p.LogSnr(1.0));
        Assert.Equal(1.0, p.TimeFromLogSnr(double.NegativeInfinity));
        double t = 0.4, u = 3 * t / (1 + 2 * t);
        Assert.Equal(u, p.Sigma(t), 15);
        Assert.Equal(1 - u, p.Alpha(t), 15);
        Assert.Equal(1000 * u, p.ModelTime(t), 12);
        var plain = new RectifiedFlowPath();
        Assert.Equal(0.25, plain.Sigma(0.25));
        Assert.Equal(0.75, plain.Alpha(0.25));
    }

    [Fact]
    public void InfiniteLogSnrMapsToTheEnds()
    {
        foreach (var (name, p) in AllPaths())
        {
            double clean = p.TimeFromLogSnr(double.PositiveInfinity), noise = p.TimeFromLogSnr(double.NegativeInfinity);
            Assert.False(double.IsNaN(clean) || double.IsNaN(noise), name);
            if (p is VarianceExplodingPath) continue; // sigma = exp(-lambda) is unbounded
            Assert.Equal(p.TimeMax, noise, 12);
            Assert.True(clean <= p.TimeMin + 1e-12, $"{name}: +inf log-SNR gives {clean}");
        }
    }

    [Fact]
    public void OutOfRangeTimesThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Sd.Alpha(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sd.Alpha(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrigonometricPath().Alpha(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RectifiedFlowPath().Sigma(-0.1));
    }

    [Theory]
    // (An increase is accepted: diffusers' rescaled tables end with one; see ZeroSnrDiffusersTableTests.)
    [InlineData(new[] { 0.9, 0.0, 0.0 }, 1)] // zero before the end
    [InlineData(new[] { 0.9, 1.0 }, 1)]      // not below one
    [InlineData(new[] { double.NaN, 0.5 }, 0)]
    public void BadTablesNameTheIndex(double[] ac, int index)
    {
        var e = Assert.Throws<ArgumentException>(() => new DiscreteVpPath(ac));
        Assert.Contains($"alphas_cumprod[{index}]", e.Message);
    }

    [Fact]
    public void BadBetasNameTheIndex()
    {
        var e = Assert.Throws<ArgumentException>(() => BetaSchedules.AlphasCumprod([0.1, -0.2, 0.3]));
        Assert.Contains("beta[1]", e.Message);
    }
}
