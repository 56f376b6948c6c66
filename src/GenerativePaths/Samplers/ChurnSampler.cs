using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// A sampler with the optional stochastic "churn" of Karras, Aittala, Aila and Laine (2022, "Elucidating the Design Space of
/// Diffusion-Based Generative Models", Algorithm 2): the common base of <see cref="EulerSampler"/>, <see cref="HeunSampler"/>
/// and <see cref="DpmSolver2Sampler"/>.
/// </summary>
/// <remarks>
/// Before a step from noise level <c>s = sigma / alpha</c>, <c>gamma = min(S_churn / N, sqrt 2 - 1)</c> when
/// <c>S_tmin &lt;= s &lt;= S_tmax</c> (else 0) raises the level to <c>s_hat = (1 + gamma) s</c> with fresh noise of scale
/// <c>S_noise sqrt(s_hat^2 - s^2)</c> (stream = step index). <c>S_churn = 0</c> (the default) is deterministic.
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public abstract class ChurnSampler : Sampler
{
    /// <summary>Checks and stores the churn parameters.</summary>
    /// <param name="sChurn">Total churn <c>S_churn</c> (0 = deterministic).</param>
    /// <param name="sTMin">Churn only where <c>s &gt;= S_tmin</c>.</param>
    /// <param name="sTMax">Churn only where <c>s &lt;= S_tmax</c>.</param>
    /// <param name="sNoise">Scale of the churn noise <c>S_noise</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is negative or not finite, or <c>S_tmin &gt; S_tmax</c>.</exception>
    private protected ChurnSampler(double sChurn, double sTMin, double sTMax, double sNoise)
    {
        if (!(sChurn >= 0) || double.IsInfinity(sChurn)) throw new ArgumentOutOfRangeException(nameof(sChurn), sChurn, "s_churn must be finite and non-negative.");
        if (!(sTMin >= 0) || !(sTMax >= sTMin)) throw new ArgumentOutOfRangeException(nameof(sTMax), $"Need 0 <= s_tmin <= s_tmax; got [{sTMin}, {sTMax}].");
        if (!(sNoise >= 0) || double.IsInfinity(sNoise)) throw new ArgumentOutOfRangeException(nameof(sNoise), sNoise, "s_noise must be finite and non-negative.");
        SChurn = sChurn; STMin = sTMin; STMax = sTMax; SNoise = sNoise;
    }

    /// <summary><c>S_churn</c>.</summary>
    public double SChurn { get; }

    /// <summary><c>S_tmin</c>.</summary>
    public double STMin { get; }

    /// <summary><c>S_tmax</c>.</summary>
    public double STMax { get; }

    /// <summary><c>S_noise</c>.</summary>
    public double SNoise { get; }

    /// <summary>Applies this sampler's churn before step <paramref name="index"/>; returns the point the step starts from.</summary>
    private protected Schedules.SchedulePoint ApplyChurn<T>(SamplerState<T> state, int index) where T : unmanaged, IFloatingPointIeee754<T>
        => ApplyChurn(state, index, SChurn, STMin, STMax, SNoise);
}
