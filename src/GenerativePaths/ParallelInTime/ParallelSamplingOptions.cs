using System.Numerics;
using GenerativePaths.Models;
using GenerativePaths.Tensors;

namespace GenerativePaths.ParallelInTime;

/// <summary>How the parallel-in-time driver updates the points at which it evaluates the model between rounds.</summary>
/// <remarks>Thread safety: an enum; immutable.</remarks>
public enum ParallelAcceleration
{
    /// <summary>Picard iteration (ParaDiGMS, Shih et al., NeurIPS 2023): the next round evaluates the model where the last sweep went.</summary>
    Picard = 0,

    /// <summary>Triangular Anderson acceleration (ParaTAA, Tang et al., ICML 2024): the next round evaluates the model at an
    /// extrapolation of the last <see cref="ParallelSamplingOptions{T}.AndersonMemory"/> rounds, each step's extrapolation fitted to the
    /// residuals of that step and the steps before it only.</summary>
    Anderson = 1,
}

/// <summary>Settings of a parallel-in-time run (<see cref="ParallelSampling"/>).</summary>
/// <remarks>
/// <para>The defaults (window 16, tolerance 0, Picard) reproduce the sequential run to float rounding; a positive
/// <see cref="Tolerance"/> trades exactness for fewer rounds.</para>
/// <para>Thread safety: immutable after initialisation; may be shared by concurrent runs (which may then share its progress sink).</para>
/// </remarks>
public sealed class ParallelSamplingOptions<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Steps evaluated together in one round (the sliding window; at least 1). Each round calls the model once on up to
    /// <c>Window x calls-per-step x B</c> rows. Default 16.</summary>
    public int Window { get; init; } = 16;

    /// <summary>
    /// The per-step convergence tolerance <c>tol</c> (ParaDiGMS' test): a step whose model evaluations have all been made is accepted when,
    /// for every sample, <c>||x_new - x_old||^2 / (sigma^2 D) &lt;= tol^2</c> between two successive sweeps (<c>sigma</c> of the step's target
    /// point, or of its start when the target is clean; <c>D</c> the sample size). 0 (the default) accepts a step only when it is exactly the
    /// sequential step: every model call it makes was evaluated at the very input the sweep handed it.
    /// </summary>
    public double Tolerance { get; init; }

    /// <summary>The most rounds (batched model calls) to make; 0 (the default) for no limit. A run that reaches it returns the last sweep
    /// carried to the end of the schedule, and reports <see cref="ParallelSamplingStatistics.Converged"/> false.</summary>
    public int MaxRounds { get; init; }

    /// <summary>Picard (default) or Anderson.</summary>
    public ParallelAcceleration Acceleration { get; init; } = ParallelAcceleration.Picard;

    /// <summary>The number of earlier rounds an Anderson extrapolation uses (<c>m</c>, 1 to 8; default 3).</summary>
    public int AndersonMemory { get; init; } = 3;

    /// <summary>Each row's condition (class labels or a conditioning tensor, one row per sample), replicated for every step of a round; default none.</summary>
    public ModelCondition Condition { get; init; }

    /// <summary>Each row's identity for the noise source (default <c>0 .. B-1</c>), as in <see cref="Samplers.SamplingOptions{T}.SampleIds"/>.</summary>
    public ReadOnlyMemory<long> SampleIds { get; init; }

    /// <summary>Receives the number of accepted steps after each round.</summary>
    public IProgress<int>? Progress { get; init; }

    /// <summary>Checked before each round.</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>What a parallel-in-time run did.</summary>
/// <remarks>Thread safety: immutable after the run; may be shared for reading.</remarks>
public sealed class ParallelSamplingStatistics
{
    internal ParallelSamplingStatistics(int steps, int rounds, long modelRows, long sequentialCalls, int[] roundOfStep, bool converged, double largestAcceptedError)
    {
        Steps = steps;
        Rounds = rounds;
        ModelRows = modelRows;
        SequentialModelCalls = sequentialCalls;
        _roundOfStep = roundOfStep;
        Converged = converged;
        LargestAcceptedError = largestAcceptedError;
    }

    private readonly int[] _roundOfStep;

    /// <summary>Steps of the schedule.</summary>
    public int Steps { get; }

    /// <summary>Sequential rounds: batched model calls, one after another (a sequential run makes one per model call).</summary>
    public int Rounds { get; }

    /// <summary>Rows handed to the model over all rounds (a sequential run hands it <c>calls x B</c>).</summary>
    public long ModelRows { get; }

    /// <summary>The model calls the sequential run of the same sampler makes (what <see cref="Rounds"/> is measured against).</summary>
    public long SequentialModelCalls { get; }

    /// <summary>For each step, the round after which it was accepted (1-based): the picture of many steps converging at once.</summary>
    public ReadOnlySpan<int> RoundOfStep => _roundOfStep;

    /// <summary>False when <see cref="ParallelSamplingOptions{T}.MaxRounds"/> stopped the run before every step was accepted.</summary>
    public bool Converged { get; }

    /// <summary>The largest per-step error ratio <c>||x_new - x_old||^2 / (sigma^2 D)</c> among steps accepted by the tolerance rather than
    /// exactly (0 when every step was exact).</summary>
    public double LargestAcceptedError { get; }
}

/// <summary>The result of a parallel-in-time run: the sample (the caller's tensor, advanced in place) and the statistics.</summary>
/// <param name="Sample">The final sample.</param>
/// <param name="Statistics">Rounds, rows and convergence.</param>
/// <remarks>Thread safety: an immutable value, but its Sample is the run's tensor: share it across threads only for reading.</remarks>
public readonly record struct ParallelSamplingResult<T>(BatchTensor<T> Sample, ParallelSamplingStatistics Statistics) where T : unmanaged, IFloatingPointIeee754<T>;
