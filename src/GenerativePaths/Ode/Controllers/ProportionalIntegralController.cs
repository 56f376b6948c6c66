namespace GenerativePaths.Ode;

/// <summary>The proportional–integral controller (Gustafsson 1991; Söderlind 2002), the default.</summary>
/// <remarks>
/// <para>After an accepted step: <c>q = clamp(s err^(-beta1) err_prev^(beta2), q_min, q_max)</c> with <c>beta1 = 0.7/p</c>,
/// <c>beta2 = 0.4/p</c> (<c>q = q_max</c> when <c>err = 0</c>); then <c>err_prev = max(err, 1e-4)</c>, starting from 1e-4.
/// After a rejection: <c>q = max(q_min, s err^(-beta1))</c> (Hairer and Wanner, <i>Solving ODEs II</i>, IV.2). Memory: <c>err_prev</c>.</para>
/// <para>Thread safety: immutable; one instance may serve any number of solves on any threads.</para>
/// </remarks>
public sealed class ProportionalIntegralController : IStepSizeController
{
    /// <summary>The shared instance with the default gains.</summary>
    public static ProportionalIntegralController Instance { get; } = new();

    /// <inheritdoc/>
    public bool IsAdaptive => true;

    /// <inheritdoc/>
    public int MemoryLength => 1;

    /// <inheritdoc/>
    public void Reset(Span<double> memory) => memory[0] = 1e-4;

    /// <inheritdoc/>
    public double AcceptFactor(double errorNorm, double order, Span<double> memory, in StepSizeLimits limits)
    {
        double beta1 = 0.7 / order, beta2 = 0.4 / order;
        double fac = errorNorm == 0 ? limits.MaxFactor : limits.Safety * Math.Pow(errorNorm, -beta1) * Math.Pow(memory[0], beta2);
        memory[0] = Math.Max(errorNorm, 1e-4);
        return Math.Clamp(fac, limits.MinFactor, limits.MaxFactor);
    }

    /// <inheritdoc/>
    public double RejectFactor(double errorNorm, double order, ReadOnlySpan<double> memory, in StepSizeLimits limits)
        => Math.Max(limits.MinFactor, limits.Safety * Math.Pow(errorNorm, -(0.7 / order)));
}
