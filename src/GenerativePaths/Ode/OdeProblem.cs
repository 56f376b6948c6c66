using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>
/// The right-hand side of <c>dy/dt = f(t, y)</c> for a batch: writes <c>f(t[b], y[b, :])</c> into row <c>b</c> of
/// <paramref name="dydt"/> for every sample <c>b</c>.
/// </summary>
/// <param name="t">The time of each sample (one entry per row; all equal under shared step control).</param>
/// <param name="y">The states, read only.</param>
/// <param name="dydt">The destination, same shape as <paramref name="y"/>; never the same tensor as <paramref name="y"/>.</param>
/// <remarks>Results for a sample must depend on that sample's row only, or per-sample stepping loses its meaning.
/// Thread safety: to share a problem between threads, the function must keep no shared mutable scratch.</remarks>
public delegate void OdeFunction<T>(ReadOnlySpan<double> t, BatchTensor<T> y, BatchTensor<T> dydt)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>
/// A terminal event: the integration of a sample stops where <c>g(t, y)</c> changes sign.
/// </summary>
/// <param name="t">The time.</param>
/// <param name="state">One sample's state.</param>
/// <returns>The event function's value; a sign change between two accepted steps triggers the event; NaN ends the solve with
/// <see cref="OdeStatus.NonFiniteEvent"/>.</returns>
/// <remarks>Thread safety: called on the solving thread only; a function shared between solves on several threads must keep
/// no shared mutable state.</remarks>
public delegate double EventFunction<T>(double t, ReadOnlySpan<T> state)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>An initial-value problem <c>dy/dt = f(t, y)</c>, <c>y(t0) = y0</c>, solved from <c>t0</c> to <c>t1</c> (either direction).</summary>
/// <typeparam name="T"><see cref="float"/> or <see cref="double"/>: the precision of the state.</typeparam>
/// <remarks><para>The initial-value problem <c>y(t) = y0 + integral from t0 to t of f(s, y(s)) ds</c>.</para>
/// <para>Thread safety: immutable; one problem may be solved from several threads at once provided its function is safe to
/// call concurrently (the library's built-in right-hand sides are) and nobody writes the initial state meanwhile.</para></remarks>
public sealed class OdeProblem<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Creates a problem. The initial state is read at the start of each solve, not copied here.</summary>
    /// <exception cref="ArgumentNullException">A reference is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A time is not finite.</exception>
    public OdeProblem(OdeFunction<T> function, BatchTensor<T> initialState, double t0, double t1)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(initialState);
        if (!double.IsFinite(t0)) throw new ArgumentOutOfRangeException(nameof(t0), t0, "The start time must be finite.");
        if (!double.IsFinite(t1)) throw new ArgumentOutOfRangeException(nameof(t1), t1, "The end time must be finite.");
        Function = function;
        InitialState = initialState;
        T0 = t0;
        T1 = t1;
    }

    /// <summary>The right-hand side.</summary>
    public OdeFunction<T> Function { get; }

    /// <summary>The state at <see cref="T0"/>, one row per sample.</summary>
    public BatchTensor<T> InitialState { get; }

    /// <summary>The start time.</summary>
    public double T0 { get; }

    /// <summary>The end time; smaller than <see cref="T0"/> for a backward solve.</summary>
    public double T1 { get; }
}

/// <summary>How the step size is chosen across a batch.</summary>
/// <remarks>Thread safety: an enumeration; a value.</remarks>
public enum StepSizeSharing
{
    /// <summary>One step size for the whole batch, from the scaled RMS error norm over every element (as torchdiffeq and SciPy do).</summary>
    Shared,

    /// <summary>Each sample runs its own step size and controller from its own error norm; samples never couple.</summary>
    PerSample,
}

/// <summary>The built-in step-size controllers by name; <see cref="OdeOptions.CustomController"/> takes any <see cref="IStepSizeController"/>.</summary>
/// <remarks>Thread safety: an enumeration; a value.</remarks>
public enum StepSizeController
{
    /// <summary>
    /// Proportional–integral control (Gustafsson 1991; Hairer and Wanner, <i>Solving ODEs II</i>, IV.2):
    /// <c>h_new = h * clamp(0.9 err^(-beta1) err_prev^(beta2), 0.2, 10)</c>, <c>beta1 = 0.7/p</c>, <c>beta2 = 0.4/p</c>.
    /// </summary>
    ProportionalIntegral,

    /// <summary>Plain integral (elementary) control: <c>h_new = h * clamp(0.9 err^(-1/p), 0.2, 10)</c>.</summary>
    Integral,
}

/// <summary>Options of an adaptive solve. Immutable; share one instance between solves.</summary>
/// <remarks>Defaults: rtol = 1e-6, atol = 1e-9, automatic initial step (Hairer's heuristic), no step limits, at most
/// 1,000,000 step attempts, no evaluation limit, shared step control, PI controller.
/// Thread safety: immutable (do not mutate the arrays it holds during a solve); one instance may serve solves on several threads.</remarks>
public sealed record OdeOptions
{
    /// <summary>The relative tolerance <c>rtol &gt;= 0</c>.</summary>
    public double RelativeTolerance { get; init; } = 1e-6;

    /// <summary>The scalar absolute tolerance <c>atol &gt;= 0</c> (ignored when <see cref="AbsoluteTolerances"/> is set).</summary>
    public double AbsoluteTolerance { get; init; } = 1e-9;

    /// <summary>Per-component absolute tolerances, one per element of a sample (the row length), or null.</summary>
    public double[]? AbsoluteTolerances { get; init; }

    /// <summary>The magnitude of the first step, or null for Hairer's automatic choice (one extra evaluation).</summary>
    public double? InitialStep { get; init; }

    /// <summary>The smallest step magnitude allowed; a rejected step that would need less stops the solve with <see cref="OdeStatus.StepSizeUnderflow"/>.</summary>
    public double MinStep { get; init; }

    /// <summary>The largest step magnitude allowed.</summary>
    public double MaxStep { get; init; } = double.PositiveInfinity;

    /// <summary>The maximum number of step attempts (accepted plus rejected) before <see cref="OdeStatus.MaxStepsReached"/>.</summary>
    public int MaxSteps { get; init; } = 1_000_000;

    /// <summary>The maximum number of (batched) function evaluations before <see cref="OdeStatus.EvaluationBudgetExhausted"/>.</summary>
    public long MaxEvaluations { get; init; } = long.MaxValue;

    /// <summary>Times at which to report the state, monotone in the direction of integration and inside the span; filled from the dense output without shortening steps.</summary>
    public double[]? SaveTimes { get; init; }

    /// <summary>Keep every accepted step so that <see cref="OdeResult{T}.Solution"/> can evaluate the solution anywhere (allocates per step).</summary>
    public bool DenseOutput { get; init; }

    /// <summary>Shared or per-sample step control.</summary>
    public StepSizeSharing StepSizeSharing { get; init; } = StepSizeSharing.Shared;

    /// <summary>The step-size controller.</summary>
    public StepSizeController Controller { get; init; } = StepSizeController.ProportionalIntegral;

    /// <summary>A controller object (built in, such as <see cref="PidController"/>, or written by the user) that replaces
    /// <see cref="Controller"/> and <see cref="FixedStep"/>; null to use those.</summary>
    public IStepSizeController? CustomController { get; init; }

    /// <summary>True to switch error control off and take steps of exactly <see cref="InitialStep"/> (the last one shortened to land on t1);
    /// false (the default) for adaptive steps.</summary>
    public bool FixedStep { get; init; }

    /// <summary>The time tolerance to which an event is located (Illinois iteration on the dense output).</summary>
    public double EventTimeTolerance { get; init; } = 1e-12;

    /// <summary>The safety factor of the controller.</summary>
    public double Safety { get; init; } = 0.9;

    /// <summary>The smallest factor by which a step may shrink.</summary>
    public double MinFactor { get; init; } = 0.2;

    /// <summary>The largest factor by which a step may grow.</summary>
    public double MaxFactor { get; init; } = 10;
}

/// <summary>Called after every step in which at least one sample advanced.</summary>
/// <param name="t">The time each sample has reached.</param>
/// <param name="h">The step each sample took in this step (signed; 0 for a sample that did not advance: rejected, finished or failed).</param>
/// <param name="state">The current states, read only; valid only during the call.</param>
/// <remarks>Thread safety: runs on the solving thread.</remarks>
public delegate void OdeStepCallback<T>(ReadOnlySpan<double> t, ReadOnlySpan<double> h, BatchTensor<T> state)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>Controls of a running solve, as <c>SamplingOptions</c> gives a sampling loop: cancellation, progress and a per-step callback.</summary>
/// <remarks>
/// <para>The token is checked before every step attempt (an <see cref="OperationCanceledException"/> ends the solve; the
/// integrator stays usable); progress reports the least advanced sample's time <c>t</c> after each step in which a sample
/// advanced (the fraction done is <c>(t - t0)/(t1 - t0)</c>); <see cref="OnStep"/> sees <c>(t, h, y)</c> of that step.</para>
/// <para>Thread safety: immutable; the callbacks run on the solving thread, and may be shared if they are themselves safe.</para>
/// </remarks>
public sealed record OdeObserver<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Cancels the solve.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Receives the time reached (the least advanced sample's).</summary>
    public IProgress<double>? Progress { get; init; }

    /// <summary>Sees every step.</summary>
    public OdeStepCallback<T>? OnStep { get; init; }
}
