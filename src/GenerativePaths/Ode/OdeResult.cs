using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>How a solve ended.</summary>
/// <remarks>Thread safety: an enumeration; a value.</remarks>
public enum OdeStatus
{
    /// <summary>The end time was reached.</summary>
    Success,

    /// <summary>A terminal event fired; the state is the one at the event time.</summary>
    TerminatedByEvent,

    /// <summary>The step-attempt limit was reached; the state and time are those of the last accepted step.</summary>
    MaxStepsReached,

    /// <summary>The next step would exceed the evaluation budget; the state and time are those of the last accepted step.</summary>
    EvaluationBudgetExhausted,

    /// <summary>The step size fell below the minimum, or a step could not advance t at all (<c>t + h == t</c> in floating point,
    /// for example <see cref="OdeOptions.MaxStep"/> = 1e-300 at t = 1), typically near a singularity; see the failed sample and time.</summary>
    StepSizeUnderflow,

    /// <summary>The state or derivative became NaN or infinite and no smaller step helped; see the failed sample and time.</summary>
    NonFiniteState,

    /// <summary>The step size became NaN or infinite (from the step-size controller or its inputs); the solve ends at once
    /// at the last accepted state; see the failed sample and time.</summary>
    NonFiniteStepSize,

    /// <summary>The terminal event function returned NaN (at the start, at the end of a step or while its crossing was being
    /// located); the solve ends at the last accepted state; see the failed sample and the time at which the event was evaluated.</summary>
    NonFiniteEvent,
}

/// <summary>Counted work of a solve.</summary>
/// <param name="Evaluations">Function evaluations (calls of the batched right-hand side).</param>
/// <param name="AcceptedSteps">Accepted steps.</param>
/// <param name="RejectedSteps">Rejected step attempts.</param>
/// <remarks>Thread safety: an immutable value.</remarks>
public readonly record struct OdeStatistics(long Evaluations, long AcceptedSteps, long RejectedSteps);

/// <summary>The outcome of a solve: final state, saved states, status and counted work.</summary>
/// <remarks>The result owns its tensors; dispose it to release them. Thread safety: immutable after the solve returns (do not
/// write its tensors while other threads read them); several threads may read it at once; dispose it once.</remarks>
public sealed class OdeResult<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    internal OdeResult(OdeStatus status, BatchTensor<T> finalState, double[] times, OdeStatus[] sampleStatuses,
        OdeStatistics statistics, OdeStatistics[] sampleStatistics, int failedSample, double failedTime,
        double[]? saveTimes, BatchTensor<T>[] savedStates, double[] eventTimes, OdeSolution<T>? solution)
    {
        Status = status;
        FinalState = finalState;
        Times = times;
        SampleStatuses = sampleStatuses;
        Statistics = statistics;
        SampleStatistics = sampleStatistics;
        FailedSample = failedSample;
        FailedTime = failedTime;
        SaveTimes = saveTimes ?? [];
        SavedStates = savedStates;
        EventTimes = eventTimes;
        Solution = solution;
    }

    /// <summary>The overall status: <see cref="OdeStatus.Success"/> only when every sample succeeded; otherwise the status of <see cref="FailedSample"/>
    /// (or <see cref="OdeStatus.TerminatedByEvent"/> when events were the only reason to stop early).</summary>
    public OdeStatus Status { get; }

    /// <summary>True when the solve reached the end time or a terminal event for every sample.</summary>
    public bool Succeeded => Status is OdeStatus.Success or OdeStatus.TerminatedByEvent;

    /// <summary>The state reached by each sample (at <see cref="Times"/>).</summary>
    public BatchTensor<T> FinalState { get; }

    /// <summary>The time reached by each sample.</summary>
    public IReadOnlyList<double> Times { get; }

    /// <summary>The time reached (of sample 0; all equal under shared step control).</summary>
    public double Time => Times.Count > 0 ? Times[0] : double.NaN;

    /// <summary>The status of each sample.</summary>
    public IReadOnlyList<OdeStatus> SampleStatuses { get; }

    /// <summary>Total work: batched evaluations, accepted and rejected steps.</summary>
    public OdeStatistics Statistics { get; }

    /// <summary>The work of each sample: the evaluations and steps during which the sample was still being integrated.</summary>
    public IReadOnlyList<OdeStatistics> SampleStatistics { get; }

    /// <summary>The first sample that failed (non-finite state, underflow), or -1.</summary>
    public int FailedSample { get; }

    /// <summary>The time at which <see cref="FailedSample"/> failed (NaN when none did).</summary>
    public double FailedTime { get; }

    /// <summary>The requested save times.</summary>
    public IReadOnlyList<double> SaveTimes { get; }

    /// <summary>The state at each save time (rows of samples that stopped before a save time are NaN).</summary>
    public IReadOnlyList<BatchTensor<T>> SavedStates { get; }

    /// <summary>The time at which each sample's terminal event fired, NaN where none did.</summary>
    public IReadOnlyList<double> EventTimes { get; }

    /// <summary>A sentence saying how the solve ended: what happened, to which sample, at what time.</summary>
    /// <remarks>For example "NonFiniteEvent: the terminal event function returned NaN for sample 2 at t = 1.35".</remarks>
    public string Message => Status switch
    {
        OdeStatus.Success => "Success: every sample reached the end time.",
        OdeStatus.TerminatedByEvent => "TerminatedByEvent: a terminal event stopped the integration (see EventTimes).",
        OdeStatus.MaxStepsReached => $"MaxStepsReached: the step-attempt limit was reached; sample {FailedSample} stopped at t = {Times[Math.Max(FailedSample, 0)]:R}.",
        OdeStatus.EvaluationBudgetExhausted => $"EvaluationBudgetExhausted: the next step would exceed the evaluation budget; sample {FailedSample} stopped at t = {Times[Math.Max(FailedSample, 0)]:R}.",
        OdeStatus.StepSizeUnderflow => $"StepSizeUnderflow: the step size of sample {FailedSample} fell below the minimum or could not advance t at t = {FailedTime:R}.",
        OdeStatus.NonFiniteState => $"NonFiniteState: the state or derivative of sample {FailedSample} became NaN or infinite after t = {FailedTime:R}.",
        OdeStatus.NonFiniteStepSize => $"NonFiniteStepSize: the step size of sample {FailedSample} became NaN or infinite at t = {FailedTime:R}.",
        OdeStatus.NonFiniteEvent => $"NonFiniteEvent: the terminal event function returned NaN for sample {FailedSample} at t = {FailedTime:R}.",
        _ => Status.ToString(),
    };

    /// <summary>The dense solution when <see cref="OdeOptions.DenseOutput"/> was on, otherwise null.</summary>
    public OdeSolution<T>? Solution { get; }

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        FinalState.Dispose();
        foreach (var s in SavedStates) s.Dispose();
    }
}
