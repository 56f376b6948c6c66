using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// DDIM (Song, Meng and Ermon 2021, "Denoising Diffusion Implicit Models", eq. 12), stepping to the next listed point of the schedule.
/// </summary>
/// <remarks>
/// <para>With the current point <c>(alpha, sigma)</c>, the next <c>(alpha', sigma')</c>, <c>x0hat</c> the denoised estimate and
/// <c>epshat = (x - alpha x0hat) / sigma</c>:</para>
/// <para><c>x' = alpha' x0hat + sqrt(sigma'^2 - c^2) epshat + c z</c>, <c>c = eta sigma' sqrt(1 - (alpha sigma' / (alpha' sigma))^2)</c>,</para>
/// <para>which on a variance-preserving path is the paper's <c>sigma_t(eta) = eta sqrt((1 - a') / (1 - a)) sqrt(1 - a / a')</c> with <c>a = alpha^2</c>.
/// <c>eta = 0</c> is deterministic: Euler on the probability-flow ODE in the coordinates <c>x / alpha</c>, <c>sigma / alpha</c> (section 4.3);
/// <c>eta = 1</c> is DDPM's posterior variance. The step goes to the next listed point, never to <c>t - T/N</c>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DdimSampler : Sampler
{
    /// <summary>DDIM with noise level <paramref name="eta"/>.</summary>
    /// <param name="eta">0 = deterministic, 1 = DDPM-like; must be non-negative.</param>
    /// <remarks>Noise is asked for by the step's interval of <c>sigma / alpha</c>, and only where it is added: a tape recorded by diffusers
    /// (which also draws where it multiplies by zero) replays through a <see cref="Noise.ReplayNoise"/> keyed by interval.</remarks>
    public DdimSampler(double eta = 0.0)
    {
        if (!(eta >= 0) || double.IsInfinity(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be finite and non-negative.");
        Eta = eta;
    }

    /// <summary>The noise level.</summary>
    public double Eta { get; }

    /// <inheritdoc/>
    public override string Name => "ddim";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        AncestralUpdate(state, index, Eta, 1.0);
    }
}
