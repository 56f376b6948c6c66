using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Models;

/// <summary>
/// The exact model of a <see cref="GaussianMixture"/> behind the <see cref="IGenerativeModel{T}"/> contract, for any path
/// and any prediction type: the ideal denoiser a trained network approximates. Ground truth for tests, demos and benchmarks.
/// It is unconditional, or class-conditional with one mixture per class (<see cref="ClassConditional"/>).
/// </summary>
/// <remarks>
/// <para>At model time <c>t</c> the model looks up its point <c>(alpha, sigma) = timeMap(t)</c>, computes the posterior mean
/// <c>x0hat = E[x0 | x]</c> exactly (see <see cref="GaussianMixture"/>) and returns the requested prediction
/// <c>p = c_x x + c_p x0hat</c> through <see cref="PredictionConversion"/>; e.g. <c>eps = (x - alpha x0hat) / sigma</c>,
/// <c>v = alpha eps - sigma x0hat</c>, flow velocity <c>alpha' x0hat + sigma' eps</c>.</para>
/// <para>A class-conditional model uses, for a row with class <c>c</c>, the mixture of class <c>c</c> (the exact conditional
/// denoiser <c>E[x0 | x, c]</c>); the unconditional class, or <see cref="ModelCondition.None"/>, selects the unconditional mixture.
/// An unconditional model ignores the condition.</para>
/// <para>The model's own time map may differ slightly from the sampler's schedule (a discrete model at fractional
/// timesteps, say): that is how trained models behave, and the reference cases rely on it.</para>
/// <para>Arithmetic is in double. Thread safety: one instance is for one thread at a time (it owns scratch buffers).</para>
/// </remarks>
/// <typeparam name="T">Element type of the tensors.</typeparam>
public sealed class GaussianMixtureModel<T> : IGenerativeModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Func<double, NoiseLevel> _timeMap;
    private readonly GaussianMixture[] _classMixtures;
    private readonly double[] _x, _x0;

    /// <summary>The exact model of <paramref name="mixture"/> predicting <paramref name="prediction"/>.</summary>
    /// <param name="mixture">The data distribution.</param>
    /// <param name="prediction">What the model returns.</param>
    /// <param name="timeMap">The model's point on the path at each model time (see <see cref="ModelTimeMaps"/>).</param>
    public GaussianMixtureModel(GaussianMixture mixture, Prediction prediction, Func<double, NoiseLevel> timeMap)
        : this(mixture, [], -1, prediction, timeMap) { }

    private GaussianMixtureModel(GaussianMixture mixture, GaussianMixture[] classMixtures, int unconditionalClass, Prediction prediction, Func<double, NoiseLevel> timeMap)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        ArgumentNullException.ThrowIfNull(timeMap);
        if (!Enum.IsDefined(prediction)) throw new ArgumentOutOfRangeException(nameof(prediction), prediction, "Unknown prediction type.");
        Mixture = mixture;
        _classMixtures = classMixtures;
        UnconditionalClass = unconditionalClass;
        Prediction = prediction;
        _timeMap = timeMap;
        _x = new double[mixture.Dimension];
        _x0 = new double[mixture.Dimension];
    }

    /// <summary>
    /// A class-conditional exact model: class <c>c</c> in <c>[0, classMixtures.Count)</c> is distributed as <c>classMixtures[c]</c>;
    /// <paramref name="unconditionalClass"/> (and <see cref="ModelCondition.None"/>) selects <paramref name="unconditional"/>.
    /// </summary>
    /// <param name="classMixtures">One mixture per class, all of one dimension.</param>
    /// <param name="unconditional">The distribution of the unconditional class (for exact guidance tests: the mixture of the classes).</param>
    /// <param name="unconditionalClass">The label of the unconditional ("null") class; must not be a class index below <c>classMixtures.Count</c>.</param>
    /// <param name="prediction">What the model returns.</param>
    /// <param name="timeMap">The model's point on the path at each model time.</param>
    /// <exception cref="ArgumentException">No classes, dimensions differ, or the unconditional label collides with a class.</exception>
    public static GaussianMixtureModel<T> ClassConditional(IReadOnlyList<GaussianMixture> classMixtures, GaussianMixture unconditional, int unconditionalClass, Prediction prediction, Func<double, NoiseLevel> timeMap)
    {
        ArgumentNullException.ThrowIfNull(classMixtures);
        ArgumentNullException.ThrowIfNull(unconditional);
        if (classMixtures.Count == 0) throw new ArgumentException("A class-conditional model needs at least one class.", nameof(classMixtures));
        for (int c = 0; c < classMixtures.Count; c++)
        {
            ArgumentNullException.ThrowIfNull(classMixtures[c], $"{nameof(classMixtures)}[{c}]");
            if (classMixtures[c].Dimension != unconditional.Dimension)
                throw new ArgumentException($"Class {c} has dimension {classMixtures[c].Dimension}; the unconditional mixture has {unconditional.Dimension}.", nameof(classMixtures));
        }
        if (unconditionalClass >= 0 && unconditionalClass < classMixtures.Count)
            throw new ArgumentException($"The unconditional class {unconditionalClass} is also a class index (0..{classMixtures.Count - 1}).", nameof(unconditionalClass));
        return new GaussianMixtureModel<T>(unconditional, classMixtures.ToArray(), unconditionalClass, prediction, timeMap);
    }

    /// <summary>The data distribution (of the unconditional class, for a class-conditional model).</summary>
    public GaussianMixture Mixture { get; }

    /// <summary>Number of classes (0 for an unconditional model).</summary>
    public int ClassCount => _classMixtures.Length;

    /// <summary>The label of the unconditional class (-1 for an unconditional model).</summary>
    public int UnconditionalClass { get; }

    /// <inheritdoc/>
    public Prediction Prediction { get; }

    /// <summary>Number of <see cref="Evaluate"/> calls so far.</summary>
    public int Calls { get; private set; }

    /// <summary>The point on the path the model assigns to <paramref name="modelTime"/>.</summary>
    public NoiseLevel LevelAt(double modelTime) => _timeMap(modelTime);

    /// <summary>The distribution of class <paramref name="label"/> (the unconditional one for the unconditional class).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The label is neither a class nor the unconditional class.</exception>
    public GaussianMixture MixtureOf(int label)
    {
        if (_classMixtures.Length == 0 || label == UnconditionalClass) return Mixture;
        if ((uint)label >= (uint)_classMixtures.Length)
            throw new ArgumentOutOfRangeException(nameof(label), label, $"Class label must lie in [0, {_classMixtures.Length}) or be the unconditional class {UnconditionalClass}.");
        return _classMixtures[label];
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Shapes disagree, the prediction is undefined at the model time (e.g. epsilon at sigma = 0),
    /// or a class-conditional model gets a tensor condition or an unknown label.</exception>
    public void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<T> output)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(output);
        if (x.RowLength != Mixture.Dimension) throw new ArgumentException($"Input rows have {x.RowLength} elements; the mixture has dimension {Mixture.Dimension}.", nameof(x));
        if (!x.HasSameShape(output)) throw new ArgumentException($"Shape mismatch: output {output.ShapeString}, input {x.ShapeString}.", nameof(output));
        if (modelTime.Length != x.BatchSize) throw new ArgumentException($"{modelTime.Length} model times for a batch of {x.BatchSize}.", nameof(modelTime));
        bool byClass = _classMixtures.Length > 0 && condition.Kind != ConditionKind.None;
        if (byClass)
        {
            if (condition.Kind != ConditionKind.Class) throw new ArgumentException($"A class-conditional mixture takes class labels, not a {condition.Kind} condition.", nameof(condition));
            condition.EnsureRows(x.BatchSize, nameof(condition));
        }
        Calls++;
        for (int b = 0; b < x.BatchSize; b++)
        {
            var level = _timeMap(modelTime[b]);
            if (!PredictionConversion.TryGetCoefficients(Prediction.Data, Prediction, level, out double cx, out double cp))
                throw new ArgumentException($"Sample {b}: a {Prediction} prediction is undefined at model time {modelTime[b]} (alpha = {level.Alpha}, sigma = {level.Sigma}).", nameof(modelTime));
            var mixture = byClass ? MixtureOf(condition.Classes[b]) : Mixture;
            var row = x.Row(b);
            for (int d = 0; d < _x.Length; d++) _x[d] = double.CreateTruncating(row[d]);
            mixture.PosteriorMean(_x, level.Alpha, level.Sigma, _x0);
            var o = output.Row(b);
            for (int d = 0; d < _x.Length; d++) o[d] = T.CreateTruncating(cx * _x[d] + cp * _x0[d]);
        }
    }
}
