using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// Euler ancestral (k-diffusion's <c>sample_euler_ancestral</c>; diffusers' EulerAncestralDiscreteScheduler): an Euler step of the
/// probability-flow ODE down to <c>sigma_down</c>, then fresh noise back up to the next point (Ho et al. 2020; Song et al. 2021).
/// </summary>
/// <remarks>
/// <para>In the variance-exploding coordinates <c>s = sigma / alpha</c>: <c>s_up = min(s', eta sqrt(s'^2 (s^2 - s'^2) / s^2))</c>,
/// <c>s_down = sqrt(s'^2 - s_up^2)</c>, <c>x_ve' = x0hat + s_down epshat + s_noise s_up z</c>. In path coordinates
/// (<c>x = alpha x_ve</c>) this is <c>x' = alpha' x0hat + sqrt(sigma'^2 - c^2) epshat + s_noise c z</c> with <c>c = alpha' s_up</c>,
/// the same rule as DDIM with <c>eta</c>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class EulerAncestralSampler : Sampler
{
    /// <summary>Euler ancestral with noise level <paramref name="eta"/> and noise scale <paramref name="sNoise"/>.</summary>
    /// <param name="eta">Ancestral noise level (1 = full ancestral sampling; 0 = plain Euler).</param>
    /// <param name="sNoise">Scale of the added noise (<c>s_noise</c>).</param>
    /// <remarks>Noise is asked for by the step's interval of <c>sigma / alpha</c>, and only where it is added (k-diffusion's rule): a tape
    /// recorded by diffusers, which also draws on the last step, replays through a <see cref="Noise.ReplayNoise"/> keyed by interval.</remarks>
    public EulerAncestralSampler(double eta = 1.0, double sNoise = 1.0)
    {
        if (!(eta >= 0) || double.IsInfinity(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be finite and non-negative.");
        if (!(sNoise >= 0) || double.IsInfinity(sNoise)) throw new ArgumentOutOfRangeException(nameof(sNoise), sNoise, "s_noise must be finite and non-negative.");
        Eta = eta;
        SNoise = sNoise;
    }

    /// <summary>The ancestral noise level.</summary>
    public double Eta { get; }

    /// <summary>The noise scale.</summary>
    public double SNoise { get; }

    /// <inheritdoc/>
    public override string Name => "euler_ancestral";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        AncestralUpdate(state, index, Eta, SNoise);
    }
}
