using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using GenerativePaths.Models;
using Xunit;

namespace GenerativePaths.Tests.Models;

/// <summary>Conversions between prediction types against the defining formulas, written out here independently.</summary>
public class PredictionConversionTests
{
    private static readonly Prediction[] All = Enum.GetValues<Prediction>();

    /// <summary>The prediction of type <paramref name="p"/> for a known (x0, eps), from the definitions.</summary>
    private static double Truth(Prediction p, double x0, double eps, NoiseLevel l) => p switch
    {
        Prediction.Epsilon => eps,
        Prediction.Data => x0,
        Prediction.Velocity => l.Alpha * eps - l.Sigma * x0,
        Prediction.FlowVelocity => l.AlphaRate * x0 + l.SigmaRate * eps,
        Prediction.Score => -eps / l.Sigma,
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    private static Gen<double> Between(double lo, double hi) => Gen.Choose(0, 1_000_000).Select(i => lo + (hi - lo) * i / 1_000_000.0);

    private static Arbitrary<(NoiseLevel, double, double, int, int)> Cases() =>
        (from a in Between(0.05, 2)
         from s in Between(0.05, 2)
         from ar in Between(-2, 2)
         from sr in Between(0.1, 3)
         from x0 in Between(-3, 3)
         from eps in Between(-3, 3)
         from i in Gen.Choose(0, All.Length - 1)
         from j in Gen.Choose(0, All.Length - 1)
         select (new NoiseLevel(a, s, ar, sr), x0, eps, i, j)).ToArbitrary();

    [Property(MaxTest = 500)]
    public Property EveryPairMapsTheTruePredictionToTheTruePrediction() => Prop.ForAll(Cases(), c =>
    {
        var (level, x0, eps, i, j) = c;
        // Keep the flow determinant alpha sigma' - sigma alpha' away from zero, where the flow velocity does not determine x0.
        if (Math.Abs(level.Alpha * level.SigmaRate - level.Sigma * level.AlphaRate) < 0.05) return true;
        var (from, to) = (All[i], All[j]);
        double x = level.Alpha * x0 + level.Sigma * eps;
        var (cx, cp) = PredictionConversion.GetCoefficients(from, to, level);
        double got = cx * x + cp * Truth(from, x0, eps, level);
        double want = Truth(to, x0, eps, level);
        return Math.Abs(got - want) <= 1e-9 * (1 + Math.Abs(want));
    });

    [Property(MaxTest = 300)]
    public Property RoundTripIsTheIdentity() => Prop.ForAll(Cases(), c =>
    {
        var (level, x0, eps, i, j) = c;
        if (Math.Abs(level.Alpha * level.SigmaRate - level.Sigma * level.AlphaRate) < 0.05) return true;
        double x = level.Alpha * x0 + level.Sigma * eps;
        double p = Truth(All[i], x0, eps, level);
        var (c1x, c1p) = PredictionConversion.GetCoefficients(All[i], All[j], level);
        double q = c1x * x + c1p * p;
        var (c2x, c2p) = PredictionConversion.GetCoefficients(All[j], All[i], level);
        double back = c2x * x + c2p * q;
        return Math.Abs(back - p) <= 1e-9 * (1 + Math.Abs(p));
    });

    [Theory]
    [InlineData(Prediction.Epsilon, Prediction.Data, 0.0, 1.0)]
    [InlineData(Prediction.Score, Prediction.Data, 0.0, 1.0)]
    [InlineData(Prediction.Data, Prediction.Epsilon, 1.0, 0.0)]
    [InlineData(Prediction.Data, Prediction.Velocity, 1.0, 0.0)]
    [InlineData(Prediction.Score, Prediction.Data, 1.0, 0.0)]
    [InlineData(Prediction.Epsilon, Prediction.Score, 1.0, 0.0)]
    public void UndefinedEndpointsAreReportedNotComputed(Prediction from, Prediction to, double alpha, double sigma)
    {
        var level = new NoiseLevel(alpha, sigma, -1, 1);
        Assert.False(PredictionConversion.TryGetCoefficients(from, to, level, out double cx, out double cp));
        Assert.True(double.IsNaN(cx) && double.IsNaN(cp));
        var e = Assert.Throws<ArgumentException>(() => PredictionConversion.GetCoefficients(from, to, level));
        Assert.Contains(from.ToString(), e.Message);
    }

    [Theory]
    [InlineData(Prediction.Epsilon)]
    [InlineData(Prediction.Velocity)]
    [InlineData(Prediction.FlowVelocity)]
    public void AtSigmaZeroTheDenoisedEstimateIsXOverAlpha(Prediction from)
    {
        var (cx, cp) = PredictionConversion.GetCoefficients(from, Prediction.Data, new NoiseLevel(0.8, 0, -1, 1));
        Assert.Equal(1 / 0.8, cx, 14);
        Assert.Equal(0.0, cp, 14);
    }

    [Fact]
    public void VelocityGivesTheDenoisedEstimateAtAlphaZero()
    {
        // Zero terminal SNR: x = eps, v = eps * 0 - 1 * x0 = -x0.
        var (cx, cp) = PredictionConversion.GetCoefficients(Prediction.Velocity, Prediction.Data, new NoiseLevel(0, 1));
        Assert.Equal(0.0, cx, 15);
        Assert.Equal(-1.0, cp, 15);
    }

    [Fact]
    public void FlowVelocityWithoutRatesIsRejectedWithAMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => PredictionConversion.GetCoefficients(Prediction.FlowVelocity, Prediction.Data, new NoiseLevel(0.5, 0.5)));
        Assert.Contains("d alpha/dt", e.Message);
    }
}
