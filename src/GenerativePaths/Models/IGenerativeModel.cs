using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Models;

/// <summary>
/// The user's network behind one batched contract: given a batch <c>x</c> and one time value per
/// sample, write the prediction for every sample.
/// </summary>
/// <remarks>
/// The model receives the sample in the path's own coordinates <c>x = alpha x0 + sigma eps</c> and the
/// time value of <see cref="Schedules.SchedulePoint.ModelTime"/>; it writes <see cref="Prediction"/>.
/// Implementations must not keep references to the tensors after returning and must be safe to call
/// from one thread at a time; results for a sample must not depend on the other samples of the batch.
/// </remarks>
public interface IGenerativeModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>What <see cref="Evaluate"/> writes.</summary>
    Prediction Prediction { get; }

    /// <summary>Writes the model's prediction for every sample of <paramref name="x"/> into <paramref name="output"/>.</summary>
    /// <param name="x">The batch, shape <c>[B, ...]</c>.</param>
    /// <param name="modelTime">The time value of each sample, length <c>B</c>.</param>
    /// <param name="output">The prediction, same shape as <paramref name="x"/>.</param>
    void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, BatchTensor<T> output);
}
