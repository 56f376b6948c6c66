using GenerativePaths.Models;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Models;

public class GaussianMixtureModelTests
{
    private static readonly GaussianMixture Mix = GaussianMixture.Isotropic([0.4, 0.6], [[-1.0, 0.5, 2.0], [1.5, -0.5, 0.0]], [0.3, 0.8]);

    [Theory]
    [InlineData(Prediction.Epsilon)]
    [InlineData(Prediction.Data)]
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
                    Prediction.Data => x0[d],
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
    /// <summary>Writes row r as (label + 1) * (x + t) + label * i (class conditions) or x + t + sum(embedding row) (tensor conditions); records the rows' labels.</summary>
    private sealed class LabelModel : IGenerativeModel<double>
    {
        public int Calls, LastBatch;
        public int[] LastLabels = [];
        public Prediction Prediction => Prediction.Epsilon;
        public void Evaluate(BatchTensor<double> x, ReadOnlySpan<double> t, in ModelCondition condition, BatchTensor<double> output)
        {
            Calls++; LastBatch = x.BatchSize;
            condition.EnsureRows(x.BatchSize);
            LastLabels = condition.Kind == ConditionKind.Class ? condition.Classes.ToArray() : [];
            for (int r = 0; r < x.BatchSize; r++)
                for (int i = 0; i < x.RowLength; i++)
                    output.Row(r)[i] = condition.Kind == ConditionKind.Class
                        ? (condition.Classes[r] + 1) * (x.Row(r)[i] + t[r]) + condition.Classes[r] * i
                        : x.Row(r)[i] + t[r] + condition.TensorRow(r).ToArray().Sum() * (i + 1);
        }
    }

    private static double Want(double x, double t, int label, int i) => (label + 1) * (x + t) + label * i;

    [Theory]
    [InlineData(GuidanceBatchOrder.UnconditionalFirst)]
    [InlineData(GuidanceBatchOrder.ConditionalFirst)]
    public void OneBatchedCallGivesUncondPlusScaleTimesDifferenceInEitherOrder(GuidanceBatchOrder order)
    {
        var inner = new LabelModel();
        var cfg = new ClassifierFreeGuidance<double>(inner, 7.5, ModelCondition.FromClasses(10), order);
        using var x = BatchTensor<double>.FromRows([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]);
        using var o = BatchTensor<double>.AllocateLike(x);
        double[] t = [0.5, 0.25];
        int[] labels = [3, 7];
        cfg.Evaluate(x, t, ModelCondition.FromClasses(labels), o);
        Assert.Equal(1, inner.Calls);
        Assert.Equal(4, inner.LastBatch);
        Assert.Equal(order == GuidanceBatchOrder.UnconditionalFirst ? [10, 10, 3, 7] : new[] { 3, 7, 10, 10 }, inner.LastLabels);
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 3; i++)
            {
                double c = Want(x.Row(b)[i], t[b], labels[b], i), u = Want(x.Row(b)[i], t[b], 10, i);
                Assert.Equal(u + 7.5 * (c - u), o.Row(b)[i], 12);
            }
    }

    [Fact]
    public void PerSampleUnconditionalRowsAndTensorConditions()
    {
        var inner = new LabelModel();
        // A per-sample "negative prompt": two unconditional embeddings of shape [2, 1].
        var negative = ModelCondition.FromTensor(new float[] { 1, 2, 3, 4 }, 2, 2, 1);
        var cfg = new ClassifierFreeGuidance<double>(inner, 2.0, negative);
        using var x = BatchTensor<double>.FromRows([[1.0, 2.0], [0.0, -1.0]]);
        using var o = BatchTensor<double>.AllocateLike(x);
        var cond = ModelCondition.FromTensor(new float[] { 10, 20, 30, 40 }, 2, 2, 1);
        cfg.Evaluate(x, [0.0, 1.0], cond, o);
        double[] uSum = [3, 7], cSum = [30, 70];
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 2; i++)
            {
                double baseV = x.Row(b)[i] + b;
                double u = baseV + uSum[b] * (i + 1), c = baseV + cSum[b] * (i + 1);
                Assert.Equal(u + 2 * (c - u), o.Row(b)[i], 12);
            }
    }

    [Fact]
    public void ScaleOneAndZeroCallTheModelOnceOnTheSingleBatch()
    {
        var inner = new LabelModel();
        using var x = BatchTensor<double>.FromRows([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        using var o = BatchTensor<double>.AllocateLike(x);
        new ClassifierFreeGuidance<double>(inner, 1.0, ModelCondition.FromClasses(9)).Evaluate(x, [0.1, 0.2, 0.3], ModelCondition.FromClasses(1, 2, 3), o);
        Assert.Equal(3, inner.LastBatch);
        Assert.Equal([1, 2, 3], inner.LastLabels);
        Assert.Equal(Want(3.0, 0.2, 2, 0), o.Row(1)[0], 12);
        new ClassifierFreeGuidance<double>(inner, 0.0, ModelCondition.FromClasses(9)).Evaluate(x, [0.1, 0.2, 0.3], ModelCondition.FromClasses(1, 2, 3), o);
        Assert.Equal(3, inner.LastBatch);
        Assert.Equal([9, 9, 9], inner.LastLabels);
        Assert.Equal(Want(6.0, 0.3, 9, 1), o.Row(2)[1], 12);
    }

    [Fact]
    public void RescaleMatchesLinEtAlEquations()
    {
        var inner = new LabelModel();
        var cfg = new ClassifierFreeGuidance<double>(inner, 5.0, ModelCondition.FromClasses(1), guidanceRescale: 0.7);
        using var x = BatchTensor<double>.FromRows([[1.0, 2.0, 3.0, -2.0]]);
        using var o = BatchTensor<double>.AllocateLike(x);
        cfg.Evaluate(x, [0.1], ModelCondition.FromClasses(0), o);
        double[] c = new double[4], u = new double[4], g = new double[4];
        for (int i = 0; i < 4; i++)
        {
            c[i] = Want(x.Row(0)[i], 0.1, 0, i);
            u[i] = Want(x.Row(0)[i], 0.1, 1, i);
            g[i] = u[i] + 5 * (c[i] - u[i]);
        }
        static double Std(double[] v) { double m = v.Average(); return Math.Sqrt(v.Sum(e => (e - m) * (e - m)) / (v.Length - 1)); }
        double factor = 0.7 * Std(c) / Std(g) + 0.3;
        for (int i = 0; i < 4; i++) Assert.Equal(g[i] * factor, o.Row(0)[i], 12);
    }

    [Fact]
    public void BadConditionsAreNamed()
    {
        var inner = new LabelModel();
        Assert.Throws<ArgumentException>(() => new ClassifierFreeGuidance<double>(inner, 2.0, ModelCondition.None));
        var cfg = new ClassifierFreeGuidance<double>(inner, 2.0, ModelCondition.FromClasses(10));
        using var x = BatchTensor<double>.FromRows([[1.0], [2.0]]);
        using var o = BatchTensor<double>.AllocateLike(x);
        var none = Assert.Throws<ArgumentException>(() => cfg.Evaluate(x, [0.0, 0.0], ModelCondition.None, o));
        Assert.Contains("condition", none.Message);
        var rows = Assert.Throws<ArgumentException>(() => cfg.Evaluate(x, [0.0, 0.0], ModelCondition.FromClasses(1, 2, 3), o));
        Assert.Contains("3 rows for a batch of 2", rows.Message);
        var kind = Assert.Throws<ArgumentException>(() => cfg.Evaluate(x, [0.0, 0.0], ModelCondition.FromTensor(new float[2], 2, 1), o));
        Assert.Contains("Tensor", kind.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelCondition.FromClasses(1, -2));
    }

    [Fact]
    public void GuidanceOverTheExactClassConditionalMixtureInterpolatesTheClassAndUnconditionalDenoisers()
    {
        var mix = GaussianMixture.Isotropic([0.3, 0.7], [[-1.0, 0.5], [1.5, -0.5]], [0.3, 0.6]);
        var model = GaussianMixtureModel<double>.ClassConditional([mix.Component(0), mix.Component(1)], mix, 2, Prediction.Data, ModelTimeMaps.VarianceExploding());
        using var x = BatchTensor<double>.FromRows([[0.2, -0.1], [1.0, 2.0]]);
        using var o = BatchTensor<double>.AllocateLike(x);
        double w = 3.0, sigma = 0.8;
        new ClassifierFreeGuidance<double>(model, w, ModelCondition.FromClasses(2)).Evaluate(x, [sigma, sigma], ModelCondition.FromClasses(1, 0), o);
        int[] labels = [1, 0];
        for (int b = 0; b < 2; b++)
        {
            double[] c = new double[2], u = new double[2];
            mix.Component(labels[b]).PosteriorMean(x.Row(b).ToArray(), 1, sigma, c);
            mix.PosteriorMean(x.Row(b).ToArray(), 1, sigma, u);
            for (int i = 0; i < 2; i++) Assert.Equal(u[i] + w * (c[i] - u[i]), o.Row(b)[i], 12);
        }
    }
}

public class ThresholdingTests
{
    private sealed class Constant(double[][] rows) : IGenerativeModel<double>
    {
        public Prediction Prediction => Prediction.Data;
        public void Evaluate(BatchTensor<double> x, ReadOnlySpan<double> t, in GenerativePaths.Models.ModelCondition condition, BatchTensor<double> output)
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
