using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>The variance of DDPM's reverse step.</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
public enum DdpmVariance
{
    /// <summary>The posterior variance <c>beta~ = sigma'^2 beta^2 / sigma^2</c> (diffusers <c>fixed_small</c>; Ho et al. 2020, <c>sigma_t^2 = beta~_t</c>).</summary>
    FixedSmall,

    /// <summary>The forward variance <c>beta^2</c> (diffusers <c>fixed_large</c>; Ho et al. 2020, <c>sigma_t^2 = beta_t</c>).</summary>
    FixedLarge,
}

/// <summary>
/// DDPM ancestral sampling (Ho, Jain and Abbeel 2020, "Denoising Diffusion Probabilistic Models", Algorithm 2 and eq. 7) between
/// any two listed points.
/// </summary>
/// <remarks>
/// <para>Between the current point <c>(alpha, sigma)</c> and the next <c>(alpha', sigma')</c> the forward chain is
/// <c>x = r x' + beta n</c> with <c>r = alpha / alpha'</c>, <c>beta^2 = sigma^2 - r^2 sigma'^2</c> (on a VP path <c>beta^2 = 1 - a/a'</c>).
/// The posterior <c>q(x' | x, x0)</c> has mean <c>(r sigma'^2 / sigma^2) x + (alpha' beta^2 / sigma^2) x0</c> and variance
/// <c>sigma'^2 beta^2 / sigma^2</c>; the step is <c>x' = mean(x, x0hat) + std z</c> with the chosen <see cref="DdpmVariance"/>.</para>
/// <para>No noise is added on a step to <c>sigma' = 0</c> (the clean end), so no noise is drawn there.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DdpmSampler : Sampler
{
    // Below this sigma^2 the coefficients are computed as ratios of sigmas (sigma^2 itself would lose precision or underflow).
    private const double MinSquaredSigma = 1e-280;

    /// <summary>DDPM with the given variance.</summary>
    public DdpmSampler(DdpmVariance variance = DdpmVariance.FixedSmall)
    {
        if (!Enum.IsDefined(variance)) throw new ArgumentOutOfRangeException(nameof(variance), variance, "Unknown DDPM variance.");
        Variance = variance;
    }

    /// <summary>The variance of the reverse step.</summary>
    public DdpmVariance Variance { get; }

    /// <inheritdoc/>
    public override string Name => "ddpm";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        var x = state.X;
        var d = state.Denoise(x, from);
        if (to.Alpha == 0)
        {
            // A step between zero-SNR points (alpha = alpha' = 0): x = sigma eps exactly, so x' = (sigma' / sigma) x with no noise
            // (the identity on a repeated point); the unread model output is checked at the end of the step.
            state.Set(x, (to.Sigma / from.Sigma) * x);
            return;
        }
        double r = from.Alpha / to.Alpha;
        double s2 = from.Sigma * from.Sigma;
        double beta2, ofX, ofDenoised, smallVariance;
        if (s2 >= MinSquaredSigma)
        {
            beta2 = Math.Max(0, s2 - r * r * to.Sigma * to.Sigma);
            ofX = r * to.Sigma * to.Sigma / s2;
            ofDenoised = to.Alpha * beta2 / s2;
            smallVariance = to.Sigma * to.Sigma * beta2 / s2;
        }
        else
        {
            // sigma^2 would underflow: the same coefficients in ratios, q = r sigma' / sigma, beta^2 / sigma^2 = 1 - q^2.
            double q = r * (to.Sigma / from.Sigma), rel = Math.Max(0, 1 - q * q);
            beta2 = rel * from.Sigma * from.Sigma;
            ofX = q * (to.Sigma / from.Sigma);
            ofDenoised = to.Alpha * rel;
            smallVariance = to.Sigma * to.Sigma * rel;
        }
        // x' = mean(x, x0hat) + std z, the posterior mean (r sigma'^2 / sigma^2) x + (alpha' beta^2 / sigma^2) x0hat.
        if (to.Sigma == 0)
        {
            state.Set(x, ofX * x + ofDenoised * d);
            return;
        }
        double variance = Variance == DdpmVariance.FixedSmall ? smallVariance : beta2;
        var z = state.Buffer(NoiseBuffer);
        state.DrawNoise(index, z);
        state.Set(x, ofX * x + ofDenoised * d + Math.Sqrt(variance) * z);
    }
}
