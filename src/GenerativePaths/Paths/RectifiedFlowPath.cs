namespace GenerativePaths.Paths;

/// <summary>
/// The rectified-flow / conditional optimal-transport path (Liu et al. 2023; Lipman et al. 2023):
/// <c>alpha = 1 - u</c>, <c>sigma = u</c>, optionally with a time warp <c>u = shift(t)</c> (SD3, Flux).
/// </summary>
/// <remarks>
/// <para>Time unit: flow time <c>t</c> in <c>[0, 1]</c> (0 = data, 1 = noise). With a shift the path point at time <c>t</c> is
/// the unshifted point at <c>u = shift(t)</c>; the model is still called with the unshifted time:
/// <c>ModelTime(t) = ModelTimeScale * u</c> (diffusers: <c>1000 u</c>).</para>
/// <para><c>alpha' = -u'(t)</c>, <c>sigma' = u'(t)</c>; <c>lambda = log((1 - u) / u)</c>; inverse <c>u = 1 / (1 + exp(lambda))</c>,
/// <c>t = shift^-1(u)</c>. At <c>t = 1</c> alpha is 0 and the log-SNR is <c>-infinity</c>.</para>
/// <para>Thread safety: immutable; one instance may serve several threads.</para>
/// </remarks>
public sealed class RectifiedFlowPath : NoisePath
{
    /// <summary>A rectified-flow path with an optional time warp.</summary>
    /// <param name="shift">The warp (null: none).</param>
    /// <param name="modelTimeScale">Factor from the unshifted flow time to model time (1000 for diffusers models).</param>
    public RectifiedFlowPath(FlowTimeShift? shift = null, double modelTimeScale = 1.0)
    {
        if (!(modelTimeScale > 0) || !double.IsFinite(modelTimeScale)) throw new ArgumentOutOfRangeException(nameof(modelTimeScale), modelTimeScale, "Must be positive and finite.");
        Shift = shift ?? FlowTimeShift.None;
        ModelTimeScale = modelTimeScale;
    }

    /// <summary>The time warp.</summary>
    public FlowTimeShift Shift { get; }

    /// <summary>Factor from the unshifted flow time to model time.</summary>
    public double ModelTimeScale { get; }

    /// <inheritdoc/>
    public override double TimeMin => 0.0;

    /// <inheritdoc/>
    public override double TimeMax => 1.0;

    /// <summary>The unshifted flow time (the sigma) at path time <paramref name="t"/>.</summary>
    public double FlowSigma(double t) => Shift.Apply(t);

    /// <inheritdoc/>
    public override double Alpha(double t) => 1 - Shift.Apply(t);

    /// <inheritdoc/>
    public override double Sigma(double t) => Shift.Apply(t);

    /// <inheritdoc/>
    public override double AlphaDerivative(double t) => -Shift.Derivative(t);

    /// <inheritdoc/>
    public override double SigmaDerivative(double t) => Shift.Derivative(t);

    /// <inheritdoc/>
    public override double LogSnr(double t)
    {
        double u = Shift.Apply(t);
        return Math.Log(1 - u) - Math.Log(u);
    }

    /// <inheritdoc/>
    public override double TimeFromLogSnr(double lambda)
    {
        if (double.IsNaN(lambda)) throw new ArgumentException("Log-SNR is NaN.", nameof(lambda));
        return Shift.Inverse(PathMath.Sigmoid(-lambda));
    }

    /// <inheritdoc/>
    public override double ModelTime(double t) => ModelTimeScale * Shift.Apply(t);

    /// <inheritdoc/>
    /// <remarks><c>alpha = 1 / (1 + s)</c>, <c>sigma = s / (1 + s)</c>; <c>s = infinity</c> gives <c>(0, 1)</c>.</remarks>
    public override (double Alpha, double Sigma) CoefficientsAtSigmaOverAlpha(double s)
    {
        if (!(s >= 0)) throw new ArgumentOutOfRangeException(nameof(s), s, "The noise-to-signal ratio must be non-negative.");
        if (double.IsPositiveInfinity(s)) return (0.0, 1.0);
        return (1 / (1 + s), s / (1 + s));
    }
}
