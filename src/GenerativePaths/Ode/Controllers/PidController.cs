namespace GenerativePaths.Ode;

/// <summary>A proportional–integral–derivative controller on the last three error norms (Söderlind 2003, "Digital filters
/// in adaptive time-stepping"; the form used by SUNDIALS' <c>SUNAdaptController_PID</c> and OrdinaryDiffEq.jl's <c>PIDController</c>).</summary>
/// <remarks>
/// <para>After an accepted step: <c>q = clamp(s err_n^(-k1/p) err_(n-1)^(k2/p) err_(n-2)^(-k3/p), q_min, q_max)</c>, each norm floored
/// at 1e-10 (<c>q = q_max</c> when <c>err_n = 0</c>); then the memory shifts: <c>err_(n-2) = err_(n-1)</c>, <c>err_(n-1) = max(err_n, 1e-10)</c>.
/// Memory starts at 1, so the first steps are those of the integral controller with gain <c>k1</c>. Defaults <c>k1 = 0.58</c>,
/// <c>k2 = 0.21</c>, <c>k3 = 0.1</c>. After a rejection: <c>q = max(q_min, s err^(-1/p))</c>.</para>
/// <para>Thread safety: immutable; one instance may serve any number of solves on any threads.</para>
/// </remarks>
public sealed class PidController : IStepSizeController
{
    /// <summary>Creates a controller with gains <paramref name="k1"/>, <paramref name="k2"/>, <paramref name="k3"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A gain is not finite, or <paramref name="k1"/> is not positive.</exception>
    public PidController(double k1 = 0.58, double k2 = 0.21, double k3 = 0.1)
    {
        if (!(k1 > 0) || !double.IsFinite(k1)) throw new ArgumentOutOfRangeException(nameof(k1), k1, "k1 must be positive and finite.");
        if (!double.IsFinite(k2)) throw new ArgumentOutOfRangeException(nameof(k2), k2, "k2 must be finite.");
        if (!double.IsFinite(k3)) throw new ArgumentOutOfRangeException(nameof(k3), k3, "k3 must be finite.");
        K1 = k1; K2 = k2; K3 = k3;
    }

    /// <summary>The proportional gain on the current norm.</summary>
    public double K1 { get; }

    /// <summary>The gain on the previous norm.</summary>
    public double K2 { get; }

    /// <summary>The gain on the norm before that.</summary>
    public double K3 { get; }

    /// <inheritdoc/>
    public bool IsAdaptive => true;

    /// <inheritdoc/>
    public int MemoryLength => 2;

    /// <inheritdoc/>
    public void Reset(Span<double> memory) { memory[0] = 1; memory[1] = 1; }

    /// <inheritdoc/>
    public double AcceptFactor(double errorNorm, double order, Span<double> memory, in StepSizeLimits limits)
    {
        double e = Math.Max(errorNorm, 1e-10);
        double fac = errorNorm == 0 ? limits.MaxFactor
            : limits.Safety * Math.Pow(e, -K1 / order) * Math.Pow(memory[0], K2 / order) * Math.Pow(memory[1], -K3 / order);
        memory[1] = memory[0];
        memory[0] = e;
        return Math.Clamp(fac, limits.MinFactor, limits.MaxFactor);
    }

    /// <inheritdoc/>
    public double RejectFactor(double errorNorm, double order, ReadOnlySpan<double> memory, in StepSizeLimits limits)
        => Math.Max(limits.MinFactor, limits.Safety * Math.Pow(errorNorm, -(1.0 / order)));
}
