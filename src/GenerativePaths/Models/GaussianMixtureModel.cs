using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Models;

/// <summary>
/// The exact model of a <see cref="GaussianMixture"/> behind the <see cref="IGenerativeModel{T}"/> contract, for any path
/// and any prediction type: the ideal denoiser a trained network approximates. Ground truth for tests, demos and benchmarks.
/// </summary>
/// <remarks>
/// <para>At model time <c>t</c> the model looks up its point <c>(alpha, sigma) = timeMap(t)</c>, computes the posterior mean
/// <c>x0hat = E[x0 | x]</c> exactly (see <see cref="GaussianMixture"/>) and returns the requested prediction
/// <c>p = c_x x + c_p x0hat</c> through <see cref="PredictionConversion"/>; e.g. <c>eps = (x - alpha x0hat) / sigma</c>,
/// <c>v = alpha eps - sigma x0hat</c>, flow velocity <c>alpha' x0hat + sigma' eps</c>.</para>
/// <para>The model's own time map may differ slightly from the sampler's schedule (a discrete model at fractional
/// timesteps, say): that is how trained models behave, and the reference cases rely on it.</para>
/// <para>Arithmetic is in double. One instance is for one thread at a time (it owns scratch buffers).</para>
/// </remarks>
/// <typeparam name="T">Element type of the tensors.</typeparam>
public sealed class GaussianMixtureModel<T> : IGenerativeModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Func<double, NoiseLevel> _timeMap;
    private readonly double[] _x, _x0;

    /// <summary>The exact model of <paramref name="mixture"/> predicting <paramref name="prediction"/>.</summary>
    /// <param name="mixture">The data distribution.</param>
    /// <param name="prediction">What the model returns.</param>
    /// <param name="timeMap">The model's point on the path at each model time (see <see cref="ModelTimeMaps"/>).</param>
    public GaussianMixtureModel(GaussianMixture mixture, Prediction prediction, Func<double, NoiseLevel> timeMap)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        ArgumentNullException.ThrowIfNull(timeMap);
        if (!Enum.IsDefined(prediction)) throw new ArgumentOutOfRangeException(nameof(prediction), prediction, "Unknown prediction type.");
        Mixture = mixture;
        Prediction = prediction;
        _timeMap = timeMap;
        _x = new double[mixture.Dimension];
        _x0 = new double[mixture.Dimension];
    }

    /// <summary>The data distribution.</summary>
    public GaussianMixture Mixture { get; }

    /// <inheritdoc/>
    public Prediction Prediction { get; }

    /// <summary>Number of <see cref="Evaluate"/> calls so far.</summary>
    public int Calls { get; private set; }

    /// <summary>The point on the path the model assigns to <paramref name="modelTime"/>.</summary>
    public NoiseLevel LevelAt(double modelTime) => _timeMap(modelTime);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Shapes disagree, or the prediction is undefined at the model time (e.g. epsilon at sigma = 0).</exception>
    public void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, BatchTensor<T> output)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(output);
        if (x.RowLength != Mixture.Dimension) throw new ArgumentException($"Input rows have {x.RowLength} elements; the mixture has dimension {Mixture.Dimension}.", nameof(x));
        if (!x.HasSameShape(output)) throw new ArgumentException($"Shape mismatch: output {output.ShapeString}, input {x.ShapeString}.", nameof(output));
        if (modelTime.Length != x.BatchSize) throw new ArgumentException($"{modelTime.Length} model times for a batch of {x.BatchSize}.", nameof(modelTime));
        Calls++;
        for (int b = 0; b < x.BatchSize; b++)
        {
            var level = _timeMap(modelTime[b]);
            if (!PredictionConversion.TryGetCoefficients(Prediction.Sample, Prediction, level, out double cx, out double cp))
                throw new ArgumentException($"Sample {b}: a {Prediction} prediction is undefined at model time {modelTime[b]} (alpha = {level.Alpha}, sigma = {level.Sigma}).", nameof(modelTime));
            var row = x.Row(b);
            for (int d = 0; d < _x.Length; d++) _x[d] = double.CreateTruncating(row[d]);
            Mixture.PosteriorMean(_x, level.Alpha, level.Sigma, _x0);
            var o = output.Row(b);
            for (int d = 0; d < _x.Length; d++) o[d] = T.CreateTruncating(cx * _x[d] + cp * _x0[d]);
        }
    }
}
