namespace GenerativePaths.Ode;

/// <summary>The elementary (integral) controller.</summary>
/// <remarks>
/// <para><c>q = clamp(s err^(-1/p), q_min, q_max)</c> after an accepted step (<c>q = q_max</c> when <c>err = 0</c>);
/// <c>q = max(q_min, s err^(-1/p))</c> after a rejection (Hairer, Nørsett and Wanner, <i>Solving ODEs I</i>, II.4). No memory.</para>
/// <para>Thread safety: immutable; one instance may serve any number of solves on any threads.</para>
/// </remarks>
public sealed class IntegralController : IStepSizeController
{
    /// <summary>The shared instance.</summary>
    public static IntegralController Instance { get; } = new();

    /// <inheritdoc/>
    public bool IsAdaptive => true;

    /// <inheritdoc/>
    public int MemoryLength => 0;

    /// <inheritdoc/>
    public void Reset(Span<double> memory) { }

    /// <inheritdoc/>
    public double AcceptFactor(double errorNorm, double order, Span<double> memory, in StepSizeLimits limits)
    {
        double fac = errorNorm == 0 ? limits.MaxFactor : limits.Safety * Math.Pow(errorNorm, -(1.0 / order));
        return Math.Clamp(fac, limits.MinFactor, limits.MaxFactor);
    }

    /// <inheritdoc/>
    public double RejectFactor(double errorNorm, double order, ReadOnlySpan<double> memory, in StepSizeLimits limits)
        => Math.Max(limits.MinFactor, limits.Safety * Math.Pow(errorNorm, -(1.0 / order)));
}
