namespace GenerativePaths.Paths;

/// <summary>
/// The continuous noise schedule of a model: the Gaussian path <c>x_t = alpha(t) x0 + sigma(t) eps</c>
/// from data (small <c>t</c>) to noise (large <c>t</c>), in float64.
/// </summary>
/// <remarks>
/// <para>Time convention: <c>t</c> grows with noise, from <see cref="TimeMin"/> (closest to data) to
/// <see cref="TimeMax"/> (most noise). Each path documents its own unit of time (a discrete timestep, a
/// sigma, a flow time in [0, 1]); <see cref="ModelTime"/> converts to the value the model expects.</para>
/// <para>Log-SNR: <c>lambda(t) = log(alpha(t) / sigma(t))</c>, decreasing in <c>t</c>;
/// <see cref="TimeFromLogSnr"/> is its inverse.</para>
/// <para>Thread safety: the library's paths are immutable and may serve several threads; a user's path must be too (samplers call it from the threads that run them).</para>
/// </remarks>
public abstract class NoisePath
{
    /// <summary>Smallest time on the path (closest to data).</summary>
    public abstract double TimeMin { get; }

    /// <summary>Largest time on the path (most noise).</summary>
    public abstract double TimeMax { get; }

    /// <summary>Signal scale <c>alpha(t)</c>.</summary>
    public abstract double Alpha(double t);

    /// <summary>Noise scale <c>sigma(t)</c>.</summary>
    public abstract double Sigma(double t);

    /// <summary><c>d alpha / dt</c>.</summary>
    public abstract double AlphaDerivative(double t);

    /// <summary><c>d sigma / dt</c>.</summary>
    public abstract double SigmaDerivative(double t);

    /// <summary>Log signal-to-noise ratio <c>lambda(t) = log(alpha(t)/sigma(t))</c>.</summary>
    public virtual double LogSnr(double t) => Math.Log(Alpha(t)) - Math.Log(Sigma(t));

    /// <summary>The time at which <see cref="LogSnr"/> equals <paramref name="lambda"/>.</summary>
    public abstract double TimeFromLogSnr(double lambda);

    /// <summary>The time value the model is called with at path time <paramref name="t"/>; the identity unless the path says otherwise.</summary>
    public virtual double ModelTime(double t) => t;

    /// <summary>
    /// The path's coefficients at the point whose noise-to-signal ratio is <c>sigma/alpha = s</c>
    /// (log-SNR <c>-log s</c>): <c>(Alpha(t), Sigma(t))</c> with <c>t = TimeFromLogSnr(-log s)</c>.
    /// </summary>
    /// <remarks>Paths of a known family override this with the closed form (VE: <c>(1, s)</c>; variance preserving:
    /// <c>(1, s) / sqrt(1 + s^2)</c>; rectified flow: <c>(1, s) / (1 + s)</c>), so no precision is lost in the inversion.
    /// <c>s = 0</c> gives the clean point <c>(1, 0)</c>; <c>s = +infinity</c> gives <c>(0, Sigma(TimeMax))</c>.</remarks>
    public virtual (double Alpha, double Sigma) CoefficientsAtSigmaOverAlpha(double s)
    {
        if (!(s >= 0)) throw new ArgumentOutOfRangeException(nameof(s), s, "The noise-to-signal ratio must be non-negative.");
        if (s == 0) return (1.0, 0.0);
        double t = TimeFromLogSnr(-Math.Log(s));
        return (Alpha(t), Sigma(t));
    }
}

/// <summary>A variance-preserving path (<c>alpha^2 + sigma^2 = 1</c>): the base of the discrete and continuous VP paths.</summary>
/// <remarks>Thread safety: as NoisePath: implementations are immutable and may serve several threads.</remarks>
public abstract class VariancePreservingPath : NoisePath
{
    /// <inheritdoc/>
    /// <remarks><c>alpha = 1 / sqrt(1 + s^2)</c>, <c>sigma = s alpha</c>; <c>s = infinity</c> gives <c>(0, 1)</c>.</remarks>
    public override (double Alpha, double Sigma) CoefficientsAtSigmaOverAlpha(double s)
    {
        if (!(s >= 0)) throw new ArgumentOutOfRangeException(nameof(s), s, "The noise-to-signal ratio must be non-negative.");
        if (double.IsPositiveInfinity(s)) return (0.0, 1.0);
        double a = 1 / Math.Sqrt(1 + s * s);
        if (a == 0) return (0.0, 1.0);
        return (a, s * a);
    }
}

/// <summary>
/// The variance-exploding path of k-diffusion and EDM (Karras et al. 2022): <c>alpha = 1</c>, <c>sigma = t</c>.
/// </summary>
/// <remarks>Formulas: <c>alpha(t) = 1</c>, <c>sigma(t) = t</c>, <c>lambda = -log t</c>, <c>t(lambda) = exp(-lambda)</c>. The model time is sigma. Thread safety: immutable; one instance may serve several threads.</remarks>
public sealed class VarianceExplodingPath : NoisePath
{
    /// <summary>A VE path on <c>[sigmaMin, sigmaMax]</c>.</summary>
    public VarianceExplodingPath(double sigmaMin = 0.002, double sigmaMax = 80.0)
    {
        if (!(sigmaMin >= 0) || !(sigmaMax > sigmaMin) || double.IsInfinity(sigmaMax))
            throw new ArgumentOutOfRangeException(nameof(sigmaMax), $"Need 0 <= sigmaMin < sigmaMax < infinity; got [{sigmaMin}, {sigmaMax}].");
        TimeMin = sigmaMin;
        TimeMax = sigmaMax;
    }

    /// <inheritdoc/>
    public override double TimeMin { get; }

    /// <inheritdoc/>
    public override double TimeMax { get; }

    /// <inheritdoc/>
    public override double Alpha(double t) => 1.0;

    /// <inheritdoc/>
    public override double Sigma(double t) => t;

    /// <inheritdoc/>
    public override double AlphaDerivative(double t) => 0.0;

    /// <inheritdoc/>
    public override double SigmaDerivative(double t) => 1.0;

    /// <inheritdoc/>
    public override double LogSnr(double t) => -Math.Log(t);

    /// <inheritdoc/>
    public override double TimeFromLogSnr(double lambda) => Math.Exp(-lambda);

    /// <inheritdoc/>
    public override (double Alpha, double Sigma) CoefficientsAtSigmaOverAlpha(double s)
    {
        if (!(s >= 0) || double.IsInfinity(s)) throw new ArgumentOutOfRangeException(nameof(s), s, "The sigma must be finite and non-negative.");
        return (1.0, s);
    }
}
