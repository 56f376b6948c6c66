namespace GenerativePaths.Ode;

/// <summary>A constant step: no error control, every finite step accepted, the step never changes (the last one is shortened
/// to land on t1). The step is <see cref="OdeOptions.InitialStep"/>.</summary>
/// <remarks>
/// <para><c>q = 1</c> always; a non-finite state ends the solve with <see cref="OdeStatus.NonFiniteState"/>. Equivalent to
/// <see cref="OdeOptions.FixedStep"/> = true (diffrax's <c>ConstantStepSize</c>).</para>
/// <para>Thread safety: immutable; one instance may serve any number of solves on any threads.</para>
/// </remarks>
public sealed class ConstantStepController : IStepSizeController
{
    /// <summary>The shared instance.</summary>
    public static ConstantStepController Instance { get; } = new();

    /// <inheritdoc/>
    public bool IsAdaptive => false;

    /// <inheritdoc/>
    public int MemoryLength => 0;

    /// <inheritdoc/>
    public void Reset(Span<double> memory) { }

    /// <inheritdoc/>
    public double AcceptFactor(double errorNorm, double order, Span<double> memory, in StepSizeLimits limits) => 1;

    /// <inheritdoc/>
    public double RejectFactor(double errorNorm, double order, ReadOnlySpan<double> memory, in StepSizeLimits limits) => limits.MinFactor;
}
