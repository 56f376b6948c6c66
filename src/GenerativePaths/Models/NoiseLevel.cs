using GenerativePaths.Paths;

namespace GenerativePaths.Models;

/// <summary>
/// The coefficients of a Gaussian path at one point, <c>x = alpha x0 + sigma eps</c>, with their rates of change
/// <c>d alpha / dt</c> and <c>d sigma / dt</c> in the time a flow-velocity model differentiates.
/// </summary>
/// <param name="Alpha">Signal scale <c>alpha</c> (non-negative).</param>
/// <param name="Sigma">Noise scale <c>sigma</c> (non-negative).</param>
/// <param name="AlphaRate"><c>d alpha / dt</c>; needed only to convert from or to <see cref="Prediction.FlowVelocity"/> (NaN when unknown).</param>
/// <param name="SigmaRate"><c>d sigma / dt</c>; needed only to convert from or to <see cref="Prediction.FlowVelocity"/> (NaN when unknown).</param>
/// <remarks>Thread safety: an immutable value; safe to share.</remarks>
public readonly record struct NoiseLevel(double Alpha, double Sigma, double AlphaRate = double.NaN, double SigmaRate = double.NaN)
{
    /// <summary>The point of <paramref name="path"/> at time <paramref name="t"/>, with its derivatives.</summary>
    public static NoiseLevel At(NoisePath path, double t)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new NoiseLevel(path.Alpha(t), path.Sigma(t), path.AlphaDerivative(t), path.SigmaDerivative(t));
    }

    /// <summary>The rectified-flow (conditional optimal transport) point at flow time <c>s</c>: <c>alpha = 1 - s</c>, <c>sigma = s</c>, rates <c>(-1, 1)</c>.</summary>
    public static NoiseLevel RectifiedFlow(double s) => new(1.0 - s, s, -1.0, 1.0);

    /// <summary>The variance-exploding point at <c>sigma</c>: <c>alpha = 1</c>, rates <c>(0, 1)</c> (time = sigma).</summary>
    public static NoiseLevel VarianceExploding(double sigma) => new(1.0, sigma, 0.0, 1.0);
}
