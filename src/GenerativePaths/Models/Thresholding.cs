using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Models;

/// <summary>How <see cref="ThresholdingModel{T}"/> limits the denoised estimate.</summary>
public enum ThresholdingKind
{
    /// <summary><c>clip_sample</c>: clamp every element of <c>x0hat</c> to <c>[-range, range]</c>.</summary>
    Clip,

    /// <summary>Dynamic thresholding (Saharia et al. 2022, "Photorealistic text-to-image diffusion models with deep language understanding", section 2.3).</summary>
    Dynamic,
}

/// <summary>
/// Wraps a model so that its denoised estimate <c>x0hat</c> is clipped or dynamically thresholded; the wrapper predicts
/// <see cref="Prediction.Data"/>, so every sampler re-derives its noise estimate from the limited <c>x0hat</c>, as diffusers' schedulers do.
/// </summary>
/// <remarks>
/// <para>The inner prediction is converted to <c>x0hat</c> at the model's own point <c>timeMap(t)</c> (<see cref="PredictionConversion"/>).</para>
/// <para>Clip: <c>x0hat = clamp(x0hat, -r, r)</c>.</para>
/// <para>Dynamic, per sample: <c>s = quantile(|x0hat|, ratio)</c> (linear interpolation between order statistics, as <c>torch.quantile</c>),
/// <c>s = clamp(s, 1, maxValue)</c>, <c>x0hat = clamp(x0hat, -s, s) / s</c>.</para>
/// <para>The condition is passed to the inner model unchanged. Thread safety: not thread-safe (a sort buffer); one instance per run at a time.</para>
/// </remarks>
public sealed class ThresholdingModel<T> : IGenerativeModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Func<double, NoiseLevel> _timeMap;
    private double[] _sorted = [];

    /// <summary>Limits the denoised estimate of <paramref name="inner"/>.</summary>
    /// <param name="inner">The model.</param>
    /// <param name="timeMap">The inner model's point on the path at each model time (see <see cref="ModelTimeMaps"/>).</param>
    /// <param name="kind">Clip or dynamic thresholding.</param>
    /// <param name="clipRange">The clip range <c>r</c> (diffusers <c>clip_sample_range</c>); used by <see cref="ThresholdingKind.Clip"/>.</param>
    /// <param name="ratio">The quantile of dynamic thresholding (diffusers <c>dynamic_thresholding_ratio</c>, default 0.995).</param>
    /// <param name="maxValue">The largest threshold of dynamic thresholding (diffusers <c>sample_max_value</c>).</param>
    public ThresholdingModel(IGenerativeModel<T> inner, Func<double, NoiseLevel> timeMap, ThresholdingKind kind, double clipRange = 1.0, double ratio = 0.995, double maxValue = 1.0)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(timeMap);
        if (!(clipRange > 0) || double.IsInfinity(clipRange)) throw new ArgumentOutOfRangeException(nameof(clipRange), clipRange, "The clip range must be positive and finite.");
        if (!(ratio > 0 && ratio <= 1)) throw new ArgumentOutOfRangeException(nameof(ratio), ratio, "The thresholding ratio must lie in (0, 1].");
        if (!(maxValue >= 1) || double.IsInfinity(maxValue)) throw new ArgumentOutOfRangeException(nameof(maxValue), maxValue, "The maximum threshold must be finite and at least 1.");
        Inner = inner; _timeMap = timeMap; Kind = kind; ClipRange = clipRange; Ratio = ratio; MaxValue = maxValue;
    }

    /// <summary>The wrapped model.</summary>
    public IGenerativeModel<T> Inner { get; }

    /// <summary>Clip or dynamic.</summary>
    public ThresholdingKind Kind { get; }

    /// <summary>The clip range.</summary>
    public double ClipRange { get; }

    /// <summary>The dynamic-thresholding quantile.</summary>
    public double Ratio { get; }

    /// <summary>The largest dynamic threshold.</summary>
    public double MaxValue { get; }

    /// <inheritdoc/>
    public Prediction Prediction => Prediction.Data;

    /// <inheritdoc/>
    public void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<T> output)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(output);
        Inner.Evaluate(x, modelTime, condition, output);
        for (int b = 0; b < x.BatchSize; b++)
        {
            var level = _timeMap(modelTime[b]);
            if (!PredictionConversion.TryGetCoefficients(Inner.Prediction, Prediction.Data, level, out double cx, out double cp))
                throw new ArgumentException($"Sample {b}: the denoised estimate of a {Inner.Prediction} model is undefined at model time {modelTime[b]} (alpha = {level.Alpha}, sigma = {level.Sigma}).", nameof(modelTime));
            var row = output.Row(b);
            TensorKernels.LinearCombination(row, T.CreateTruncating(cx), x.Row(b), T.CreateTruncating(cp), row);
            if (Kind == ThresholdingKind.Clip) Clamp(row, ClipRange, 1.0);
            else
            {
                double s = Math.Clamp(AbsQuantile(row, Ratio), 1.0, MaxValue);
                Clamp(row, s, s);
            }
        }
    }

    private static void Clamp(Span<T> row, double limit, double divisor)
    {
        T hi = T.CreateTruncating(limit), lo = -hi, inv = T.CreateTruncating(1.0 / divisor);
        for (int i = 0; i < row.Length; i++) row[i] = T.Clamp(row[i], lo, hi) * inv;
    }

    private double AbsQuantile(ReadOnlySpan<T> row, double q)
    {
        if (_sorted.Length != row.Length) _sorted = new double[row.Length];
        for (int i = 0; i < row.Length; i++) _sorted[i] = Math.Abs(double.CreateTruncating(row[i]));
        Array.Sort(_sorted);
        double pos = q * (row.Length - 1);
        int lo = (int)Math.Floor(pos);
        int hi = Math.Min(lo + 1, row.Length - 1);
        return _sorted[lo] + (pos - lo) * (_sorted[hi] - _sorted[lo]);
    }
}
