using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// DPM-Solver-2 ancestral (k-diffusion's <c>sample_dpm_2_ancestral</c>; diffusers' <c>KDPM2AncestralDiscreteScheduler</c>): the
/// DPM-Solver-2 step of Karras, Aittala, Aila and Laine (2022, "Elucidating the Design Space of Diffusion-Based Generative Models",
/// after Lu et al. 2022, "DPM-Solver", Algorithm 1 with r = 1/2) down to <c>sigma_down</c>, then fresh noise back up to the next point.
/// </summary>
/// <remarks>
/// <para>In the coordinates <c>s = sigma / alpha</c>, <c>x_ve = x / alpha</c>, <c>d = (x_ve - x0hat) / s</c>:
/// <c>s_up = min(s', eta sqrt(s'^2 (s^2 - s'^2) / s^2))</c>, <c>s_down = sqrt(s'^2 - s_up^2)</c>, the midpoint
/// <c>s_mid = sqrt(s s_down)</c>, <c>x_ve,mid = x_ve + (s_mid - s) d</c>, <c>d_mid = (x_ve,mid - x0hat(x_mid)) / s_mid</c> and
/// <c>x_ve' = x_ve + (s_down - s) d_mid + s_noise s_up z</c>; in path coordinates <c>x' = alpha' x_ve'</c>, the model called at the path
/// point of <c>s_mid</c> (<c>t = Path.TimeFromLogSnr(-log s_mid)</c>) with <c>x_mid = alpha_mid x_ve,mid</c>.</para>
/// <para>When <c>s_down = 0</c> (a step to <c>sigma' = 0</c>) or from <c>alpha = 0</c> the step is Euler's to <c>s_down</c>,
/// <c>x_ve' = (s_down/s) x_ve + (1 - s_down/s) x0hat + s_noise s_up z</c> (its limit <c>x0hat + s_down epshat</c> at <c>s = infinity</c>), one
/// model evaluation; a step to <c>sigma' = 0</c> returns <c>alpha' x0hat</c>. (k-diffusion adds no noise in that branch; the two differ
/// only when <c>eta &gt; 1</c>.) The noise is drawn for the interval <c>(s, s')</c> and stream = step index, only when
/// <c>s_up s_noise &gt; 0</c>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolver2AncestralSampler : Sampler
{
    /// <summary>DPM-Solver-2 ancestral.</summary>
    /// <param name="eta">Ancestral noise level (1 = full ancestral sampling, 0 = DPM-2 without noise); finite and non-negative.</param>
    /// <param name="sNoise">Scale of the added noise; finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is negative or not finite.</exception>
    public DpmSolver2AncestralSampler(double eta = 1.0, double sNoise = 1.0)
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
    public override string Name => "dpm_2_ancestral";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        var x = state.X;
        var d = state.Denoise(x, from);
        if (AncestralEuler.TryStep(state, index, from, to, d, Eta, SNoise, out double sDown, out double sUp)) return;
        double s = from.SigmaOverAlpha;
        var mid = VeStepMath.PointAt(state.Schedule.Path, Math.Sqrt(s * sDown));
        double w = mid.SigmaOverAlpha / s;
        // x_mid = alpha_mid (w x / alpha + (1 - w) x0hat), i.e. x_ve,mid = x_ve + (s_mid - s) d.
        var xMid = state.Buffer("dpm_2_ancestral_midpoint");
        state.Set(xMid, (mid.Alpha * w / from.Alpha) * x + (mid.Alpha * (1 - w)) * d);
        var dMid = state.Denoise(xMid, mid);
        // x_ve' = x_ve + (s_down - s) d_mid + s_noise s_up z with d_mid = (x_ve,mid - x0hat_mid) / s_mid = epshat_mid:
        // x' = (alpha'/alpha) x + alpha' (s_down - s) epshat_mid + alpha' s_noise s_up z.
        double ofX = to.Alpha / from.Alpha, ofEps = to.Alpha * (sDown - s);
        double noise = to.Alpha * SNoise * sUp;
        if (noise > 0)
        {
            var z = state.Buffer(NoiseBuffer);
            state.DrawNoise(index, s, to.SigmaOverAlpha, z);
            state.Set(x, ofX * x + ofEps * dMid.Eps + noise * z);
        }
        else state.Set(x, ofX * x + ofEps * dMid.Eps);
    }
}

/// <summary>The ancestral Euler step the k-diffusion ancestral samplers fall back on (to <c>sigma_down = 0</c>, from <c>alpha = 0</c>, between zero-SNR points).</summary>
internal static class AncestralEuler
{
    /// <summary>
    /// Computes <c>(s_down, s_up)</c> for the step and, when the step is a first-order one (<c>s_down = 0</c>, <c>alpha = 0</c> or
    /// <c>alpha' = 0</c>), takes it and returns true: <c>x' = (alpha' s_down / sigma) x + alpha' (1 - s_down / s) x0hat + alpha' s_noise s_up z</c>
    /// (<c>x' = (sigma'/sigma) x</c> when <c>alpha' = 0</c>). <paramref name="d"/> is the denoised estimate at <paramref name="from"/>;
    /// <c>z</c> is drawn into the state's buffer <see cref="Sampler.NoiseBuffer"/>.
    /// </summary>
    public static bool TryStep<T>(SamplerState<T> state, int index, Schedules.SchedulePoint from, Schedules.SchedulePoint to, in Denoised<T> d,
        double eta, double sNoise, out double sDown, out double sUp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = state.X;
        if (to.Alpha == 0)
        {
            // Between zero-SNR points x is pure noise at both ends: x' = (sigma'/sigma) x (the unread model output
            // is checked at the end of the step).
            sDown = sUp = 0;
            state.Set(x, (to.Sigma / from.Sigma) * x);
            return true;
        }
        double s = from.Alpha == 0 ? double.PositiveInfinity : from.SigmaOverAlpha;
        (sDown, sUp) = VeStepMath.Ancestral(s, to.SigmaOverAlpha, eta);
        if (sDown > 0 && double.IsFinite(s)) return false;
        double ofX = to.Alpha * sDown / from.Sigma, ofD = to.Alpha * (double.IsFinite(s) ? 1 - sDown / s : 1);
        double noise = to.Alpha * sNoise * sUp;
        if (noise > 0)
        {
            var z = state.Buffer(Sampler.NoiseBuffer);
            state.DrawNoise(index, s, to.SigmaOverAlpha, z);
            state.Set(x, ofX * x + ofD * d + noise * z);
        }
        else state.Set(x, ofX * x + ofD * d);
        return true;
    }
}
