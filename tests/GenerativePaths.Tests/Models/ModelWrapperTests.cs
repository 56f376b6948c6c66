using GenerativePaths.Models;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Models;

public class GaussianMixtureModelTests
{
    private static readonly GaussianMixture Mix = GaussianMixture.Isotropic([0.4, 0.6], [[-1.0, 0.5, 2.0], [1.5, -0.5, 0.0]], [0.3, 0.8]);

    [Theory]
    [InlineData(Prediction.Epsilon)]
    [InlineData(Prediction.Sample)]
    [InlineData(Prediction.Velocity)]
    [InlineData(Prediction.Score)]
    [InlineData(Prediction.FlowVelocity)]
    public void PredictionsFollowFromThePosteriorMeanAndScore(Prediction prediction)
    {
        double s = 0.35; // rectified-flow time, model called with 1000 s
        var level = NoiseLevel.RectifiedFlow(s);
        var model = new GaussianMixtureModel<double>(Mix, prediction, ModelTimeMaps.RectifiedFlow());
        using var x = BatchTensor<double>.FromRows([[0.2, -0.4, 1.1], [1.0, 0.3, -0.7]]);
        using var output = BatchTensor<double>.AllocateLike(x);
        model.Evaluate(x, [1000 * s, 1000 * s], output);
        for (int b = 0; b < 2; b++)
        {
            var row = x.Row(b).ToArray();
            var x0 = new double[3];
            var score = new double[3];
            Mix.PosteriorMean(row, level.Alpha, level.Sigma, x0);
            Mix.Score(row, level.Alpha, level.Sigma, score); // the mixture's own score: an independent route to eps
            for (int d = 0; d < 3; d++)
            {
                double eps = -level.Sigma * score[d];
                Assert.Equal((row[d] - level.Alpha * x0[d]) / level.Sigma, eps, 10); // Tweedie: the two routes agree
                double want = prediction switch
                {
                    Prediction.Epsilon => eps,
                    Prediction.Sample => x0[d],
                    Prediction.Velocity => level.Alpha * eps - level.Sigma * x0[d],
                    Prediction.Score => score[d],
                    _ => eps - x0[d],
                };
                Assert.Equal(want, output.Row(b)[d], 10);
            }
        }
    }

    [Fact]
    public void DiscreteMapInterpolatesLogSigmaOverAlpha()
    {
        double[] acp = [0.99, 0.9, 0.5];
        var map = ModelTimeMaps.DiscreteVariancePreserving(acp);
        var at1 = map(1);
        Assert.Equal(Math.Sqrt(0.9), at1.Alpha, 14);
        Assert.Equal(Math.Sqrt(0.1), at1.Sigma, 14);
        var mid = map(1.25);
        double s1 = Math.Sqrt(0.1 / 0.9), s2 = Math.Sqrt(0.5 / 0.5);
        double s = Math.Exp(0.75 * Math.Log(s1) + 0.25 * Math.Log(s2));
        Assert.Equal(s, mid.Sigma / mid.Alpha, 12);
        Assert.Equal(1.0, mid.Alpha * mid.Alpha + mid.Sigma * mid.Sigma, 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => map(2.5));

        // Zero terminal SNR: alphas_cumprod = 0 at the end gives alpha = 0, sigma = 1 there and on the way to it.
        var zt = ModelTimeMaps.DiscreteVariancePreserving([0.99, 0.5, 0.0]);
        Assert.Equal(new NoiseLevel(0, 1), zt(2));
        Assert.Equal(new NoiseLevel(0, 1), zt(1.5));
        Assert.Throws<ArgumentException>(() => ModelTimeMaps.DiscreteVariancePreserving([0.5, -0.1]));
    }
}

public class ClassifierFreeGuidanceTests
{
    /// <summary>Writes row r of the doubled batch as (r + 1) * (x + t), and counts calls and batch sizes.</summary>
    private sealed class RowModel : IGenerativeModel<double>
    {
        public int Calls, LastBatch;
        public Prediction Prediction => Prediction.Epsilon;
        public void Evaluate(BatchTensor<double> x, ReadOnlySpan<double> t, BatchTensor<double> output)
        {
            Calls++; LastBatch = x.BatchSize;
            for (int r = 0; r < x.BatchSize; r++)
                for (int i = 0; i < x.RowLength; i++) output.Row(r)[i] = (r + 1) * (x.Row(r)[i] + t[r]) + (r % 2 == 0 ? i * i : 0);
        }
    }

    [Fact]
    public void OneBatchedCallGivesUncondPlusScaleTimesDifference()
    {
        var inner = new RowModel();
        var cfg = new ClassifierFreeGuidance<double>(inner, 7.5);
        using var x = BatchTensor<double>.FromRows([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]);
        using var o = BatchTensor<double>.AllocateLike(x);
        cfg.Evaluate(x, [0.5, 0.25], o);
        Assert.Equal(1, inner.Calls);
        Assert.Equal(4, inner.LastBatch);
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 3; i++)
            {
                double c = (b + 1) * (x.Row(b)[i] + (b == 0 ? 0.5 : 0.25)) + (b % 2 == 0 ? i * i : 0);
                double u = (b + 3) * (x.Row(b)[i] + (b == 0 ? 0.5 : 0.25)) + (b % 2 == 0 ? i * i : 0);
                Assert.Equal(u + 7.5 * (c - u), o.Row(b)[i], 12);
            }
    }

    [Fact]
    public void RescaleMatchesLinEtAlEquations()
    {
        var inner = new RowModel();
        var cfg = new ClassifierFreeGuidance<double>(inner, 5.0, guidanceRescale: 0.7);
        using var x = BatchTensor<double>.FromRows([[1.0, 2.0, 3.0, -2.0]]);
        using var o = BatchTensor<double>.AllocateLike(x);
        cfg.Evaluate(x, [0.1], o);
        double[] c = new double[4], u = new double[4], g = new double[4];
        for (int i = 0; i < 4; i++)
        {
            c[i] = 1 * (x.Row(0)[i] + 0.1) + i * i;
            u[i] = 2 * (x.Row(0)[i] + 0.1);
            g[i] = u[i] + 5 * (c[i] - u[i]);
        }
        static double Std(double[] v) { double m = v.Average(); return Math.Sqrt(v.Sum(e => (e - m) * (e - m)) / (v.Length - 1)); }
        double factor = 0.7 * Std(c) / Std(g) + 0.3;
        for (int i = 0; i < 4; i++) Assert.Equal(g[i] * factor, o.Row(0)[i], 12);
    }
}

public class ThresholdingTests
{
    private sealed class Constant(double[][] rows) : IGenerativeModel<double>
    {
        public Prediction Prediction => Prediction.Sample;
        public void Evaluate(BatchTensor<double> x, ReadOnlySpan<double> t, BatchTensor<double> output)
        {
            for (int b = 0; b < rows.Length; b++) rows[b].CopyTo(output.Row(b));
        }
    }

    [Fact]
    public void ClipClampsTheDenoisedEstimate()
    {
        var m = new ThresholdingModel<double>(new Constant([[-3, 0.5, 2]]), ModelTimeMaps.VarianceExploding(), ThresholdingKind.Clip, clipRange: 1.5);
        using var x = BatchTensor<double>.Allocate(1, 3);
        using var o = BatchTensor<double>.Allocate(1, 3);
        m.Evaluate(x, [1.0], o);
        Assert.Equal([-1.5, 0.5, 1.5], o.Row(0).ToArray());
    }

    [Fact]
    public void DynamicThresholdUsesTheQuantileOfAbsoluteValues()
    {
        // |x0| = 0..10 (11 values); the 0.9 quantile (linear, as torch.quantile) is position 9 -> 9; s = clamp(9, 1, 4) = 4.
        var row = Enumerable.Range(0, 11).Select(i => i % 2 == 0 ? (double)i : -i).ToArray();
        var m = new ThresholdingModel<double>(new Constant([row]), ModelTimeMaps.VarianceExploding(), ThresholdingKind.Dynamic, ratio: 0.9, maxValue: 4);
        using var x = BatchTensor<double>.Allocate(1, 11);
        using var o = BatchTensor<double>.Allocate(1, 11);
        m.Evaluate(x, [1.0], o);
        for (int i = 0; i < 11; i++) Assert.Equal(Math.Clamp(row[i], -4, 4) / 4, o.Row(0)[i], 15);
        // Below 1 the threshold is 1: nothing changes for small values.
        var small = new ThresholdingModel<double>(new Constant([[0.2, -0.5, 0.1]]), ModelTimeMaps.VarianceExploding(), ThresholdingKind.Dynamic, ratio: 0.995, maxValue: 2);
        using var x3 = BatchTensor<double>.Allocate(1, 3);
        using var o3 = BatchTensor<double>.Allocate(1, 3);
        small.Evaluate(x3, [1.0], o3);
        Assert.Equal([0.2, -0.5, 0.1], o3.Row(0).ToArray());
    }
}
