namespace GenerativePaths.Paths;

/// <summary>
/// The continuous variance-preserving path with a linear beta (Song et al. 2021, "Score-Based Generative Modeling
/// through Stochastic Differential Equations", VP SDE; the default of DPM-Solver).
/// </summary>
/// <remarks>
/// <para>Time unit: <c>t</c> in <c>[TimeMin, 1]</c> (continuous diffusion time); model time <c>ModelTimeScale * t</c>
/// (1 by default; 1000 for a model trained on discrete timesteps <c>1000 t</c>).</para>
/// <para><c>beta(t) = betaMin + t (betaMax - betaMin)</c>; <c>log alpha(t) = -t^2 (betaMax - betaMin) / 4 - t betaMin / 2</c>;
/// <c>sigma = sqrt(1 - alpha^2)</c>; <c>alpha' = -alpha beta(t) / 2</c>; <c>sigma' = alpha^2 beta(t) / (2 sigma)</c>.</para>
/// <para>Inverse: with <c>L = -log alpha = softplus(-2 lambda) / 2</c>, <c>t = 2 L / (betaMin/2 + sqrt(betaMin^2/4 + (betaMax - betaMin) L))</c>
/// (Lu et al. 2022, DPM-Solver, appendix), clamped to <c>[0, 1]</c> (so <c>+infinity</c> gives 0 and <c>-infinity</c> gives 1).</para>
/// <para>Thread safety: immutable; one instance may serve several threads.</para>
/// </remarks>
public sealed class LinearVpPath : VariancePreservingPath
{
    /// <summary>A linear-beta VP path.</summary>
    public LinearVpPath(double betaMin = 0.1, double betaMax = 20.0, double timeMin = 1e-3, double modelTimeScale = 1.0)
    {
        if (!(betaMin >= 0) || !(betaMax > betaMin) || !double.IsFinite(betaMax))
            throw new ArgumentOutOfRangeException(nameof(betaMax), $"Need 0 <= betaMin < betaMax < infinity; got [{betaMin}, {betaMax}].");
        if (!(timeMin > 0 && timeMin < 1)) throw new ArgumentOutOfRangeException(nameof(timeMin), timeMin, "timeMin must lie in (0, 1).");
        if (!(modelTimeScale > 0) || !double.IsFinite(modelTimeScale)) throw new ArgumentOutOfRangeException(nameof(modelTimeScale), modelTimeScale, "Must be positive and finite.");
        BetaMin = betaMin; BetaMax = betaMax; TimeMin = timeMin; ModelTimeScale = modelTimeScale;
    }

    /// <summary><c>beta(0)</c>.</summary>
    public double BetaMin { get; }

    /// <summary><c>beta(1)</c>.</summary>
    public double BetaMax { get; }

    /// <summary>Factor from path time to model time.</summary>
    public double ModelTimeScale { get; }

    /// <inheritdoc/>
    public override double TimeMin { get; }

    /// <inheritdoc/>
    public override double TimeMax => 1.0;

    private double LogAlpha(double t) => -0.25 * t * t * (BetaMax - BetaMin) - 0.5 * t * BetaMin;

    private double Beta(double t) => BetaMin + t * (BetaMax - BetaMin);

    /// <inheritdoc/>
    public override double Alpha(double t) { Check(t); return Math.Exp(LogAlpha(t)); }

    /// <inheritdoc/>
    public override double Sigma(double t) { Check(t); return Math.Sqrt(-PathMath.ExpM1(2 * LogAlpha(t))); }

    /// <inheritdoc/>
    public override double AlphaDerivative(double t) => -0.5 * Beta(t) * Alpha(t);

    /// <inheritdoc/>
    public override double SigmaDerivative(double t)
    {
        double a = Alpha(t), s = Sigma(t);
        return s == 0 ? double.PositiveInfinity : 0.5 * Beta(t) * a * a / s;
    }

    /// <inheritdoc/>
    public override double LogSnr(double t)
    {
        Check(t);
        double la = LogAlpha(t);
        return la - 0.5 * Math.Log(-PathMath.ExpM1(2 * la));
    }

    /// <inheritdoc/>
    public override double TimeFromLogSnr(double lambda)
    {
        if (double.IsNaN(lambda)) throw new ArgumentException("Log-SNR is NaN.", nameof(lambda));
        if (double.IsPositiveInfinity(lambda)) return 0.0;
        if (double.IsNegativeInfinity(lambda)) return 1.0;
        double l = 0.5 * PathMath.Softplus(-2 * lambda);
        double b = 0.5 * BetaMin;
        double den = b + Math.Sqrt(b * b + (BetaMax - BetaMin) * l);
        return den == 0 ? 0.0 : Math.Clamp(2 * l / den, 0.0, 1.0);
    }

    /// <inheritdoc/>
    public override double ModelTime(double t) => ModelTimeScale * t;

    private void Check(double t) => PathMath.CheckTime(t, 0, 1, nameof(LinearVpPath));
}

/// <summary>
/// The continuous cosine variance-preserving path of Nichol and Dhariwal (2021), "Improved Denoising Diffusion
/// Probabilistic Models".
/// </summary>
/// <remarks>
/// <para>Time unit: <c>t</c> in <c>[0, TimeMax]</c> (continuous diffusion time, <c>TimeMax</c> at most 1); model time
/// <c>ModelTimeScale * t</c>.</para>
/// <para><c>theta(t) = (t + s) / (1 + s) * pi / 2</c>, <c>alpha(t) = cos(theta(t)) / cos(theta(0))</c>,
/// <c>sigma = sqrt(1 - alpha^2)</c> (offset <c>s = 0.008</c>); <c>alpha' = -sin(theta) theta' / cos(theta(0))</c>,
/// <c>sigma' = -alpha alpha' / sigma</c> with <c>theta' = pi / (2 (1 + s))</c>. At <c>t = 1</c>, <c>alpha = 0</c>.</para>
/// <para>Inverse: <c>cos theta = c0 sqrt(sigmoid(2 lambda))</c> with <c>c0 = cos theta(0)</c>; <c>theta</c> is taken with
/// <c>atan2(sqrt(1 - c0^2 + c0^2 sigmoid(-2 lambda)), cos theta)</c> for accuracy near <c>t = 0</c>.</para>
/// <para>Thread safety: immutable; one instance may serve several threads.</para>
/// </remarks>
public sealed class CosineVpPath : VariancePreservingPath
{
    private readonly double _c0;

    /// <summary>A cosine VP path.</summary>
    public CosineVpPath(double offset = 0.008, double timeMax = 1.0, double modelTimeScale = 1.0)
    {
        if (!(offset > 0 && offset < 1)) throw new ArgumentOutOfRangeException(nameof(offset), offset, "offset must lie in (0, 1).");
        if (!(timeMax > 0 && timeMax <= 1)) throw new ArgumentOutOfRangeException(nameof(timeMax), timeMax, "timeMax must lie in (0, 1].");
        if (!(modelTimeScale > 0) || !double.IsFinite(modelTimeScale)) throw new ArgumentOutOfRangeException(nameof(modelTimeScale), modelTimeScale, "Must be positive and finite.");
        Offset = offset; TimeMax = timeMax; ModelTimeScale = modelTimeScale;
        _c0 = Math.Cos(offset / (1 + offset) * Math.PI / 2);
    }

    /// <summary>The offset <c>s</c>.</summary>
    public double Offset { get; }

    /// <summary>Factor from path time to model time.</summary>
    public double ModelTimeScale { get; }

    /// <inheritdoc/>
    public override double TimeMin => 0.0;

    /// <inheritdoc/>
    public override double TimeMax { get; }

    private double ThetaPrime => Math.PI / (2 * (1 + Offset));

    // cos(theta) computed as sin(pi/2 - theta) so it is exactly 0 at t = 1.
    private double CosTheta(double t) => Math.Sin((1 - t) / (1 + Offset) * Math.PI / 2);

    private double SinTheta(double t) => Math.Sin((t + Offset) / (1 + Offset) * Math.PI / 2);

    /// <inheritdoc/>
    public override double Alpha(double t) { Check(t); return CosTheta(t) / _c0; }

    /// <inheritdoc/>
    public override double Sigma(double t)
    {
        Check(t);
        // 1 - alpha^2 = (c0^2 - cos^2 theta) / c0^2 = sin(theta - theta0) sin(theta + theta0) / c0^2
        double th = (t + Offset) / (1 + Offset) * Math.PI / 2, th0 = Offset / (1 + Offset) * Math.PI / 2;
        double v = Math.Sin(th - th0) * Math.Sin(th + th0);
        return Math.Sqrt(Math.Max(v, 0)) / _c0;
    }

    /// <inheritdoc/>
    public override double AlphaDerivative(double t) { Check(t); return -SinTheta(t) * ThetaPrime / _c0; }

    /// <inheritdoc/>
    public override double SigmaDerivative(double t)
    {
        double s = Sigma(t);
        return s == 0 ? double.PositiveInfinity : -Alpha(t) * AlphaDerivative(t) / s;
    }

    /// <inheritdoc/>
    public override double TimeFromLogSnr(double lambda)
    {
        if (double.IsNaN(lambda)) throw new ArgumentException("Log-SNR is NaN.", nameof(lambda));
        double c = _c0 * Math.Sqrt(PathMath.Sigmoid(2 * lambda));
        double s = Math.Sqrt(1 - _c0 * _c0 + _c0 * _c0 * PathMath.Sigmoid(-2 * lambda));
        double theta = Math.Atan2(s, c);
        double t = theta / ThetaPrime - Offset;
        return Math.Clamp(t, 0, TimeMax);
    }

    /// <inheritdoc/>
    public override double ModelTime(double t) => ModelTimeScale * t;

    private void Check(double t) => PathMath.CheckTime(t, 0, TimeMax, nameof(CosineVpPath));
}

/// <summary>
/// The trigonometric path <c>alpha = cos(pi t / 2)</c>, <c>sigma = sin(pi t / 2)</c> (variance preserving; the
/// "cosine" interpolant of stochastic interpolants and of consistency-model TrigFlow with <c>sigma_data = 1</c>).
/// </summary>
/// <remarks>
/// <para>Time unit: <c>t</c> in <c>[0, 1]</c>; model time <c>ModelTimeScale * t</c>. At <c>t = 1</c> alpha is exactly 0
/// (log-SNR <c>-infinity</c>); at <c>t = 0</c> sigma is exactly 0.</para>
/// <para><c>alpha' = -(pi/2) sigma</c>, <c>sigma' = (pi/2) alpha</c>, <c>lambda = log cot(pi t / 2)</c>,
/// <c>t(lambda) = (2/pi) atan(exp(-lambda))</c>.</para>
/// <para>Thread safety: immutable; one instance may serve several threads.</para>
/// </remarks>
public sealed class TrigonometricPath : VariancePreservingPath
{
    /// <summary>A trigonometric path.</summary>
    public TrigonometricPath(double modelTimeScale = 1.0)
    {
        if (!(modelTimeScale > 0) || !double.IsFinite(modelTimeScale)) throw new ArgumentOutOfRangeException(nameof(modelTimeScale), modelTimeScale, "Must be positive and finite.");
        ModelTimeScale = modelTimeScale;
    }

    /// <summary>Factor from path time to model time.</summary>
    public double ModelTimeScale { get; }

    /// <inheritdoc/>
    public override double TimeMin => 0.0;

    /// <inheritdoc/>
    public override double TimeMax => 1.0;

    /// <inheritdoc/>
    public override double Alpha(double t) { Check(t); return Math.Sin((1 - t) * Math.PI / 2); }

    /// <inheritdoc/>
    public override double Sigma(double t) { Check(t); return Math.Sin(t * Math.PI / 2); }

    /// <inheritdoc/>
    public override double AlphaDerivative(double t) => -Math.PI / 2 * Sigma(t);

    /// <inheritdoc/>
    public override double SigmaDerivative(double t) => Math.PI / 2 * Alpha(t);

    /// <inheritdoc/>
    public override double TimeFromLogSnr(double lambda)
    {
        if (double.IsNaN(lambda)) throw new ArgumentException("Log-SNR is NaN.", nameof(lambda));
        return 2 / Math.PI * Math.Atan(Math.Exp(-lambda));
    }

    /// <inheritdoc/>
    public override double ModelTime(double t) => ModelTimeScale * t;

    private static void Check(double t) => PathMath.CheckTime(t, 0, 1, nameof(TrigonometricPath));
}
