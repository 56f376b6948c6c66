namespace GenerativePaths.Ode;

/// <summary>The bounds every step-size controller respects, taken from <see cref="OdeOptions"/>.</summary>
/// <param name="Safety">The safety factor <c>s</c> in <c>(0, 1]</c> (<see cref="OdeOptions.Safety"/>).</param>
/// <param name="MinFactor">The smallest factor <c>q_min</c> by which a step may shrink (<see cref="OdeOptions.MinFactor"/>).</param>
/// <param name="MaxFactor">The largest factor <c>q_max</c> by which a step may grow (<see cref="OdeOptions.MaxFactor"/>).</param>
/// <remarks>Thread safety: an immutable value; safe to share.</remarks>
public readonly record struct StepSizeLimits(double Safety, double MinFactor, double MaxFactor);

/// <summary>
/// A step-size controller: from the scaled error norm of a step, decides the factor by which the next step grows or
/// shrinks. Implement it to add a controller; the integrator needs nothing else.
/// </summary>
/// <remarks>
/// <para>The protocol follows OrdinaryDiffEq.jl's controllers (<c>controllers.jl</c>: <c>stepsize_controller!</c>,
/// <c>step_accept_controller!</c>, <c>step_reject_controller!</c>, the controller's memory kept outside the step) and
/// diffrax's <c>AbstractStepSizeController</c> (<c>init</c> and <c>adapt_step_size</c> with an explicit controller state;
/// a constant step is just another controller), written here from their descriptions.</para>
/// <para>The integrator computes the error norm <c>err = ||h sum_i e_i k_i||</c> (scaled RMS, see <see cref="AdaptiveIntegrator{T}"/>),
/// accepts the step when <c>err &lt;= 1</c> (always, for a controller that is not <see cref="IsAdaptive"/>), and then sets
/// <c>h_next = |h| AcceptFactor(...)</c> (capped at 1 right after a rejection) or <c>h_next = |h| RejectFactor(...)</c>.
/// <c>p</c> is the controller order <c>min(order, embedded order) + 1</c> of the method.</para>
/// <para>Memory: each sample (or the batch, under shared control) owns <see cref="MemoryLength"/> doubles, reset by
/// <see cref="Reset"/> at the start of a solve and updated by <see cref="AcceptFactor"/>; the controller object itself holds
/// no mutable state.</para>
/// <para>Thread safety: implementations must be immutable so that one instance may serve several solves on several threads;
/// the built-in controllers are.</para>
/// </remarks>
public interface IStepSizeController
{
    /// <summary>False for a constant step: no error estimate is formed and every finite step is accepted.</summary>
    bool IsAdaptive { get; }

    /// <summary>The number of doubles of memory per sample (previous error norms, for example).</summary>
    int MemoryLength { get; }

    /// <summary>Writes the memory's initial value at the start of a solve.</summary>
    /// <param name="memory"><see cref="MemoryLength"/> doubles.</param>
    void Reset(Span<double> memory);

    /// <summary>The factor for the step after an accepted step of error norm <paramref name="errorNorm"/>; updates the memory.</summary>
    /// <param name="errorNorm">The scaled error norm, in <c>[0, 1]</c>.</param>
    /// <param name="order">The controller order <c>p</c>.</param>
    /// <param name="memory">This sample's memory.</param>
    /// <param name="limits">Safety and factor bounds.</param>
    /// <returns>A factor in <c>[q_min, q_max]</c>.</returns>
    double AcceptFactor(double errorNorm, double order, Span<double> memory, in StepSizeLimits limits);

    /// <summary>The factor for the retry after a rejected step of error norm <paramref name="errorNorm"/> (&gt; 1).</summary>
    /// <param name="errorNorm">The scaled error norm.</param>
    /// <param name="order">The controller order <c>p</c>.</param>
    /// <param name="memory">This sample's memory (read only: a rejected step leaves no trace).</param>
    /// <param name="limits">Safety and factor bounds.</param>
    /// <returns>A factor in <c>[q_min, 1)</c>.</returns>
    double RejectFactor(double errorNorm, double order, ReadOnlySpan<double> memory, in StepSizeLimits limits);
}
