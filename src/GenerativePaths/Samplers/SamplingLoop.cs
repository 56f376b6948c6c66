using System.Numerics;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

/// <summary>Called after each step with the step index, the model time of the step's starting point, the sample after the step and the step's denoised estimate.</summary>
/// <remarks>The tensors belong to the run: read them during the call, do not keep them. Thread safety: invoked on the thread that runs the sampler, once per step, never concurrently within one run; a callback shared by concurrent runs must be thread-safe itself.</remarks>
public delegate void SamplingStepCallback<T>(int stepIndex, double modelTime, BatchTensor<T> x, BatchTensor<T> denoised)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>What a run did.</summary>
/// <param name="Steps">Steps taken.</param>
/// <param name="ModelEvaluations">Batched model calls.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public readonly record struct SamplingStatistics(int Steps, long ModelEvaluations);

/// <summary>The result of a run: the sample (the state tensor the run advanced in place) and its statistics.</summary>
/// <param name="Sample">The final sample.</param>
/// <param name="Statistics">Steps and model evaluations.</param>
/// <remarks>Thread safety: an immutable value, but its Sample is the run's mutable tensor: share it across threads only for reading.</remarks>
public readonly record struct SamplingResult<T>(BatchTensor<T> Sample, SamplingStatistics Statistics) where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Optional parts of a run.</summary>
/// <remarks>Thread safety: immutable after initialisation; may be shared by runs that may share its callback.</remarks>
public sealed class SamplingOptions<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Called after each step (the denoised estimate is then also materialised, one extra pass per step).</summary>
    public SamplingStepCallback<T>? OnStep { get; init; }

    /// <summary>Receives the number of completed steps.</summary>
    public IProgress<int>? Progress { get; init; }

    /// <summary>Checked before each step.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Each row's condition (class labels or a conditioning tensor, one row per sample); default none.</summary>
    public ModelCondition Condition { get; init; }

    /// <summary>Each row's identity for the noise source (default <c>0 .. B-1</c>): give the rows' global indices when running part of a
    /// larger batch, so that the part draws the same noise as in the whole run. Empty means the default.</summary>
    public ReadOnlyMemory<long> SampleIds { get; init; }
}

/// <summary>
/// The driver: runs a sampler over a schedule, from the given initial state to the sample, with a per-step callback, progress
/// and cancellation. It advances by index, so repeated model times in a schedule are harmless.
/// </summary>
/// <remarks>
/// <para>The initial state is in the path's coordinates at the first point, e.g. <c>sigma_0 z</c> (or <c>alpha_0 x0 + sigma_0 z</c> for
/// image-to-image); it is overwritten with the sample. Steps after the first allocate nothing; reuse a
/// <see cref="SamplerState{T}"/> with <see cref="Run{T}(SamplerState{T}, Sampler, SamplingOptions{T}?)"/> for runs that allocate nothing at all.</para>
/// <para>Thread safety: stateless; concurrent runs are safe when they share no SamplerState and no state tensor (they may share the model if it is thread-safe, the sampler and the schedule).</para>
/// </remarks>
public static class SamplingLoop
{
    /// <summary>Samples: advances <paramref name="x"/> in place through <paramref name="schedule"/> with <paramref name="sampler"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="x">The initial state; overwritten with the sample.</param>
    /// <param name="schedule">The points to visit.</param>
    /// <param name="sampler">The step rule.</param>
    /// <param name="noise">The noise of stochastic samplers (stream = step index).</param>
    /// <param name="options">Callback, progress, cancellation.</param>
    /// <exception cref="NonFiniteModelOutputException">The model returned NaN or infinity.</exception>
    /// <exception cref="NonFiniteStateException">The initial state is not finite, or a step's update wrote NaN or infinity from a finite model output.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static SamplingResult<T> Run<T>(IGenerativeModel<T> model, BatchTensor<T> x, StepSchedule schedule, Sampler sampler, NoiseSource? noise = null, SamplingOptions<T>? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Run(new SamplerState<T>(model, schedule, x, noise, options is null ? default : options.SampleIds.Span, condition: options?.Condition ?? default), sampler, options);

    /// <summary>Samples with options and no noise source (deterministic samplers); see the overload with a noise source.</summary>
    public static SamplingResult<T> Run<T>(IGenerativeModel<T> model, BatchTensor<T> x, StepSchedule schedule, Sampler sampler, SamplingOptions<T> options)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Run(model, x, schedule, sampler, null, options);

    /// <summary>Samples with a caller-owned <paramref name="state"/>, from the current contents of its <see cref="SamplerState{T}.X"/>.</summary>
    public static SamplingResult<T> Run<T>(SamplerState<T> state, Sampler sampler, SamplingOptions<T>? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(sampler);
        state.Reset();
        state.TrackDenoised = options?.OnStep is not null;
        int steps = state.Schedule.StepCount;
        state.CheckInitialState();
        for (int i = 0; i < steps; i++)
        {
            options?.CancellationToken.ThrowIfCancellationRequested();
            state.BeginStep(i);
            sampler.Step(state, i);
            state.CheckStateAfterStep();
            options?.OnStep?.Invoke(i, state.Schedule[i].ModelTime, state.X, state.Denoised);
            options?.Progress?.Report(i + 1);
        }
        return new SamplingResult<T>(state.X, new SamplingStatistics(steps, state.ModelEvaluations));
    }
}
