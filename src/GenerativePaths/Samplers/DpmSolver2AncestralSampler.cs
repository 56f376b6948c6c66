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
        var (cx, cp) = state.Evaluate(x, from, state.ModelOutput);
        if (AncestralEuler.TryStep(state, index, from, to, cx, cp, Eta, SNoise, out double sDown, out double sUp)) return;
        double s = from.SigmaOverAlpha;
        var mid = VeStepMath.PointAt(state.Schedule.Path, Math.Sqrt(s * sDown));
        double sMid = mid.SigmaOverAlpha, w = sMid / s;
        // x_mid = alpha_mid (w x / alpha + (1 - w) x0hat), x0hat = cx x + cp p.
        var xMid = state.Scratch(1);
        state.Combine(xMid, mid.Alpha * (w / from.Alpha + (1 - w) * cx), x, mid.Alpha * (1 - w) * cp, state.ModelOutput);
        var (cx2, cp2) = state.Evaluate(xMid, mid, state.SecondOutput);
        // x' = (alpha'/alpha) x + k (x_mid / alpha_mid - x0hat_mid) + alpha' s_noise s_up z, k = alpha' (s_down - s) / s_mid.
        double k = to.Alpha * (sDown - s) / sMid, ofX = to.Alpha / from.Alpha, ofMid = k * (1 / mid.Alpha - cx2), ofP2 = -k * cp2;
        double noise = to.Alpha * SNoise * sUp;
        if (noise > 0)
        {
            var z = state.Scratch(0);
            state.DrawNoise(index, s, to.SigmaOverAlpha, z);
            state.Combine(x, ofX, x, ofMid, xMid, ofP2, state.SecondOutput, noise, z);
        }
        else state.Combine(x, ofX, x, ofMid, xMid, ofP2, state.SecondOutput);
    }
}

/// <summary>The ancestral Euler step the k-diffusion ancestral samplers fall back on (to <c>sigma_down = 0</c>, from <c>alpha = 0</c>, between zero-SNR points).</summary>
internal static class AncestralEuler
{
    /// <summary>
    /// Computes <c>(s_down, s_up)</c> for the step and, when the step is a first-order one (<c>s_down = 0</c>, <c>alpha = 0</c> or
    /// <c>alpha' = 0</c>), takes it and returns true: <c>x' = (alpha' s_down / sigma) x + alpha' (1 - s_down / s) x0hat + alpha' s_noise s_up z</c>
    /// (<c>x' = (sigma'/sigma) x</c> when <c>alpha' = 0</c>). <paramref name="cx"/>, <paramref name="cp"/> give <c>x0hat</c> from the state's model output.
    /// </summary>
    public static bool TryStep<T>(SamplerState<T> state, int index, Schedules.SchedulePoint from, Schedules.SchedulePoint to, double cx, double cp,
        double eta, double sNoise, out double sDown, out double sUp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = state.X;
        if (to.Alpha == 0)
        {
            // Between zero-SNR points x is pure noise at both ends: x' = (sigma'/sigma) x.
            sDown = sUp = 0;
            state.Combine(x, to.Sigma / from.Sigma, x);
            return true;
        }
        double s = from.Alpha == 0 ? double.PositiveInfinity : from.SigmaOverAlpha;
        (sDown, sUp) = VeStepMath.Ancestral(s, to.SigmaOverAlpha, eta);
        if (sDown > 0 && double.IsFinite(s)) return false;
        double ofX = to.Alpha * sDown / from.Sigma, ofD = to.Alpha * (double.IsFinite(s) ? 1 - sDown / s : 1);
        double noise = to.Alpha * sNoise * sUp;
        if (noise > 0)
        {
            var z = state.Scratch(0);
            state.DrawNoise(index, s, to.SigmaOverAlpha, z);
            state.Combine(x, ofX + ofD * cx, x, ofD * cp, state.ModelOutput, noise, z);
        }
        else state.Combine(x, ofX + ofD * cx, x, ofD * cp, state.ModelOutput);
        return true;
    }
}
