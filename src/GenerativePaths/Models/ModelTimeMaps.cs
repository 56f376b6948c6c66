namespace GenerativePaths.Models;

/// <summary>
/// Maps from the time value a model is called with to its point on the path, for models whose
/// conventions are fixed by how they were trained (used by <see cref="GaussianMixtureModel{T}"/> and the wrappers).
/// </summary>
/// <remarks>Thread safety: the returned maps capture immutable tables and may be called from several threads at once.</remarks>
public static class ModelTimeMaps
{
    /// <summary>
    /// A discrete variance-preserving model trained on <c>T</c> timesteps with cumulative products
    /// <c>alphasCumprod[t]</c>: at an integer <c>t</c>, <c>alpha = sqrt(acp[t])</c>, <c>sigma = sqrt(1 - acp[t])</c>; at a fractional
    /// <c>t</c>, <c>log(sigma/alpha)</c> is interpolated linearly between the neighbouring integers, then
    /// <c>alpha = 1/sqrt(1 + s^2)</c>, <c>sigma = s alpha</c> (the rule diffusers' Euler-family schedulers assume).
    /// </summary>
    /// <remarks>The rates are not defined for a discrete model and are NaN (flow-velocity conversions are refused).
    /// A value of 0 (zero terminal SNR, Lin et al. 2024) gives <c>alpha = 0</c>, <c>sigma = 1</c> there, and the interpolation
    /// towards it tends to that point.</remarks>
    /// <exception cref="ArgumentException">The list is empty or holds a value outside [0, 1].</exception>
    public static Func<double, NoiseLevel> DiscreteVariancePreserving(IReadOnlyList<double> alphasCumprod)
    {
        ArgumentNullException.ThrowIfNull(alphasCumprod);
        if (alphasCumprod.Count == 0) throw new ArgumentException("alphas_cumprod is empty.", nameof(alphasCumprod));
        var logRatio = new double[alphasCumprod.Count];
        var acp = alphasCumprod.ToArray();
        for (int i = 0; i < acp.Length; i++)
        {
            if (!(acp[i] >= 0 && acp[i] <= 1)) throw new ArgumentException($"alphas_cumprod[{i}] = {acp[i]} is outside [0, 1].", nameof(alphasCumprod));
            logRatio[i] = 0.5 * (Math.Log(1 - acp[i]) - Math.Log(acp[i]));
        }
        return t =>
        {
            if (!(t >= 0 && t <= acp.Length - 1))
                throw new ArgumentOutOfRangeException(nameof(t), t, $"Model time must lie in [0, {acp.Length - 1}].");
            int lo = (int)Math.Floor(t);
            if (lo == t) return new NoiseLevel(Math.Sqrt(acp[lo]), Math.Sqrt(1 - acp[lo]));
            double w = t - lo;
            double s = Math.Exp((1 - w) * logRatio[lo] + w * logRatio[lo + 1]);
            if (double.IsPositiveInfinity(s)) return new NoiseLevel(0, 1);
            double alpha = 1 / Math.Sqrt(1 + s * s);
            return new NoiseLevel(alpha, s * alpha);
        };
    }

    /// <summary>A rectified-flow model called with <c>t = timeScale * s</c> for the flow time <c>s</c> in [0, 1]: <c>alpha = 1 - s</c>, <c>sigma = s</c>.</summary>
    public static Func<double, NoiseLevel> RectifiedFlow(double timeScale = 1000.0)
    {
        if (!(timeScale > 0) || double.IsInfinity(timeScale)) throw new ArgumentOutOfRangeException(nameof(timeScale), timeScale, "The time scale must be positive and finite.");
        return t => NoiseLevel.RectifiedFlow(t / timeScale);
    }

    /// <summary>A variance-exploding (k-diffusion/EDM) model called with its sigma: <c>alpha = 1</c>, <c>sigma = t</c>.</summary>
    public static Func<double, NoiseLevel> VarianceExploding() => NoiseLevel.VarianceExploding;

    /// <summary>A model called with the time of <paramref name="path"/> itself (its <c>ModelTime</c> is the identity).</summary>
    public static Func<double, NoiseLevel> Path(Paths.NoisePath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return t => NoiseLevel.At(path, t);
    }
}
