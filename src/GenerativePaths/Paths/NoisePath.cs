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
}

/// <summary>
/// The variance-exploding path of k-diffusion and EDM (Karras et al. 2022): <c>alpha = 1</c>, <c>sigma = t</c>.
/// </summary>
/// <remarks>Formulas: <c>alpha(t) = 1</c>, <c>sigma(t) = t</c>, <c>lambda = -log t</c>, <c>t(lambda) = exp(-lambda)</c>. The model time is sigma.</remarks>
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
}
