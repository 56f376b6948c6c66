using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Models;

/// <summary>
/// The user's network behind one batched contract: given a batch <c>x</c>, one time value per sample and one condition per
/// sample, write the prediction for every sample.
/// </summary>
/// <remarks>
/// <para>The model receives the sample in the path's own coordinates <c>x = alpha x0 + sigma eps</c>, the time value of
/// <see cref="Schedules.SchedulePoint.ModelTime"/> and the rows' <see cref="ModelCondition"/> (a class label, a conditioning
/// tensor, or none); it writes <see cref="Prediction"/>. Row <c>b</c> of the condition belongs to row <c>b</c> of <c>x</c>.</para>
/// <para>Implementations must not keep references to the tensors or the condition after returning; results for a sample must not
/// depend on the other samples of the batch. An unconditional model ignores the condition; a conditional model given
/// <see cref="ModelCondition.None"/> either gives its unconditional prediction or throws, and says which.</para>
/// <para>Thread safety: each implementation states it; the library calls one model from one thread at a time.</para>
/// </remarks>
public interface IGenerativeModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>What <see cref="Evaluate"/> writes.</summary>
    Prediction Prediction { get; }

    /// <summary>Writes the model's prediction for every sample of <paramref name="x"/> into <paramref name="output"/>.</summary>
    /// <param name="x">The batch, shape <c>[B, ...]</c>.</param>
    /// <param name="modelTime">The time value of each sample, length <c>B</c>.</param>
    /// <param name="condition">The condition of each sample (<c>B</c> rows), or <see cref="ModelCondition.None"/>.</param>
    /// <param name="output">The prediction, same shape as <paramref name="x"/>.</param>
    void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<T> output);
}

/// <summary>Conveniences over <see cref="IGenerativeModel{T}"/>.</summary>
/// <remarks>Thread safety: stateless; as safe as the model called.</remarks>
public static class GenerativeModelExtensions
{
    /// <summary>Evaluates <paramref name="model"/> without a condition (<see cref="ModelCondition.None"/>).</summary>
    public static void Evaluate<T>(this IGenerativeModel<T> model, BatchTensor<T> x, ReadOnlySpan<double> modelTime, BatchTensor<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Evaluate(x, modelTime, ModelCondition.None, output);
    }
}
