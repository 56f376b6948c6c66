using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Models;

/// <summary>
/// Exact conversions between every pair of prediction types (<see cref="Prediction"/>) at any point of any
/// Gaussian path: the one place where epsilon, x0, v, flow velocity and score are related.
/// </summary>
/// <remarks>
/// <para>Every prediction is a linear function of the clean sample and the noise,
/// <c>p = a_P x0 + b_P eps</c>, while the state is <c>x = alpha x0 + sigma eps</c>:</para>
/// <list type="bullet">
/// <item><c>Epsilon: (a, b) = (0, 1)</c>; <c>Sample: (1, 0)</c>; <c>Velocity: (-sigma, alpha)</c> (Salimans and Ho 2022);</item>
/// <item><c>FlowVelocity: (alpha', sigma')</c> (the time derivative of the path, Lipman et al. 2023);</item>
/// <item><c>Score: (0, -1/sigma)</c> (Tweedie: <c>grad log p_t(x) = -E[eps | x] / sigma</c>).</item>
/// </list>
/// <para>Solving the 2x2 system <c>[alpha sigma; a_P b_P] [x0; eps] = [x; p]</c> with determinant
/// <c>det = alpha b_P - sigma a_P</c> gives <c>x0 = (b_P x - sigma p) / det</c> and
/// <c>eps = (alpha p - a_P x) / det</c>, hence for a target <c>Q</c>:</para>
/// <para><c>q = c_x x + c_p p</c>, <c>c_x = (a_Q b_P - b_Q a_P) / det</c>, <c>c_p = (alpha b_Q - sigma a_Q) / det</c>.</para>
/// <para>A conversion is undefined where <c>det = 0</c> or a coefficient is not finite: epsilon or score to
/// anything else where <c>alpha = 0</c>, sample to anything else where <c>sigma = 0</c>, score where <c>sigma = 0</c>.
/// <see cref="TryGetCoefficients"/> reports this; samplers handle those end points themselves.
/// The identity (same type) is always defined.</para>
/// <para>Thread safety: stateless static methods; safe from any thread.</para>
/// </remarks>
public static class PredictionConversion
{
    /// <summary>The coefficients <c>(a, b)</c> with <c>p = a x0 + b eps</c> for prediction type <paramref name="prediction"/> at <paramref name="level"/>.</summary>
    /// <exception cref="ArgumentException">Flow velocity without finite rates in <paramref name="level"/>, or an unknown type.</exception>
    public static (double OfSample, double OfNoise) Basis(Prediction prediction, NoiseLevel level) => prediction switch
    {
        Prediction.Epsilon => (0.0, 1.0),
        Prediction.Data => (1.0, 0.0),
        Prediction.Velocity => (-level.Sigma, level.Alpha),
        Prediction.FlowVelocity => double.IsFinite(level.AlphaRate) && double.IsFinite(level.SigmaRate)
            ? (level.AlphaRate, level.SigmaRate)
            : throw new ArgumentException($"Converting a flow velocity needs the path's rates d alpha/dt and d sigma/dt; got ({level.AlphaRate}, {level.SigmaRate}) at alpha = {level.Alpha}, sigma = {level.Sigma}.", nameof(level)),
        Prediction.Score => (0.0, -1.0 / level.Sigma),
        _ => throw new ArgumentException($"Unknown prediction type {prediction}.", nameof(prediction)),
    };

    /// <summary>
    /// The coefficients of <c>q = ofState * x + ofPrediction * p</c> converting prediction <paramref name="from"/> to <paramref name="to"/>
    /// at <paramref name="level"/>; false where the conversion is undefined (see the class remarks).
    /// </summary>
    public static bool TryGetCoefficients(Prediction from, Prediction to, NoiseLevel level, out double ofState, out double ofPrediction)
    {
        if (from == to) { ofState = 0; ofPrediction = 1; return true; }
        var (ap, bp) = Basis(from, level);
        var (aq, bq) = Basis(to, level);
        double det = level.Alpha * bp - level.Sigma * ap;
        ofState = (aq * bp - bq * ap) / det;
        ofPrediction = (level.Alpha * bq - level.Sigma * aq) / det;
        if (det != 0 && double.IsFinite(det) && double.IsFinite(ofState) && double.IsFinite(ofPrediction)) return true;
        ofState = ofPrediction = double.NaN;
        return false;
    }

    /// <summary>As <see cref="TryGetCoefficients"/>, throwing where the conversion is undefined.</summary>
    /// <exception cref="ArgumentException">The conversion is undefined at <paramref name="level"/>; the message names both types and the point.</exception>
    public static (double OfState, double OfPrediction) GetCoefficients(Prediction from, Prediction to, NoiseLevel level)
    {
        if (!TryGetCoefficients(from, to, level, out double cx, out double cp))
            throw new ArgumentException($"Converting a {from} prediction to {to} is undefined at alpha = {level.Alpha}, sigma = {level.Sigma}.", nameof(level));
        return (cx, cp);
    }

    /// <summary>
    /// Converts a batch of predictions: row <c>b</c> of <paramref name="destination"/> becomes
    /// <c>c_x x[b] + c_p prediction[b]</c> at <c>levels[b]</c>. <paramref name="destination"/> may be <paramref name="prediction"/> or <paramref name="x"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes or counts disagree, or a conversion is undefined (the message names the sample).</exception>
    public static void Convert<T>(BatchTensor<T> x, BatchTensor<T> prediction, Prediction from, Prediction to, ReadOnlySpan<NoiseLevel> levels, BatchTensor<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(destination);
        if (levels.Length != x.BatchSize) throw new ArgumentException($"{levels.Length} noise levels for a batch of {x.BatchSize}.", nameof(levels));
        if (!x.HasSameShape(prediction)) throw new ArgumentException($"Shape mismatch: prediction {prediction.ShapeString}, x {x.ShapeString}.", nameof(prediction));
        if (!x.HasSameShape(destination)) throw new ArgumentException($"Shape mismatch: destination {destination.ShapeString}, x {x.ShapeString}.", nameof(destination));
        for (int b = 0; b < x.BatchSize; b++)
        {
            if (!TryGetCoefficients(from, to, levels[b], out double cx, out double cp))
                throw new ArgumentException($"Sample {b}: converting a {from} prediction to {to} is undefined at alpha = {levels[b].Alpha}, sigma = {levels[b].Sigma}.", nameof(levels));
            TensorKernels.LinearCombination(destination.Row(b), T.CreateTruncating(cx), x.Row(b), T.CreateTruncating(cp), prediction.Row(b));
        }
    }
}
