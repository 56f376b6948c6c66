using System.Numerics;
using GenerativePaths.Paths;

namespace GenerativePaths.Samplers;

/// <summary>
/// Strategic stochastic sampling of trajectory consistency distillation (Zheng, Yang, Fang, Li, Xu, Li, Song and Zhou 2024,
/// "Trajectory Consistency Distillation", arXiv 2402.19159, section 4.3 and Algorithm 4): diffusers' <c>TCDScheduler</c> with
/// <c>gamma = eta</c>.
/// </summary>
/// <remarks>
/// <para>From the current point <c>t</c> to the next <c>t'</c>, with the intermediate time <c>s = (1 - gamma) t'</c> (path time; floored
/// to an integer timestep on a <see cref="DiscreteVpPath"/>, as TCD's discrete timesteps are), the step first moves along DDIM's
/// deterministic step to <c>s</c>, then diffuses forward to <c>t'</c>:</para>
/// <para><c>x_s = alpha_s x0hat + sigma_s epshat</c>, <c>x' = (alpha' / alpha_s) x_s + sqrt(sigma'^2 - (alpha' sigma_s / alpha_s)^2) z</c>,</para>
/// <para>which on a variance-preserving path is the paper's <c>sqrt(a'/a_s) x_s + sqrt(1 - a'/a_s) z</c>. <c>gamma = 0</c> is DDIM
/// (deterministic, no noise drawn); <c>gamma = 1</c> jumps to the data estimate and re-noises (<c>s = 0</c>), as multistep consistency
/// sampling. Noise (stream = step index) is drawn only where its coefficient is positive; a step to <c>sigma' = 0</c> returns
/// <c>alpha' x0hat</c>; a step between zero-SNR points (<c>alpha' = 0</c>) is <c>x' = (sigma'/sigma) x</c>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class TcdSampler : Sampler
{
    /// <summary>TCD sampling with stochasticity <paramref name="gamma"/>.</summary>
    /// <param name="gamma">In <c>[0, 1]</c> (diffusers' <c>eta</c>, default 0.3).</param>
    public TcdSampler(double gamma = 0.3)
    {
        if (!(gamma >= 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must lie in [0, 1].");
        Gamma = gamma;
    }

    /// <summary>The stochasticity.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public override string Name => "tcd";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var schedule = state.Schedule;
        var from = schedule[index];
        var to = schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        var x = state.X;
        var d = state.Denoise(x, from);
        if (to.Sigma == 0)
        {
            state.Set(x, to.Alpha * d);
            return;
        }
        if (to.Alpha == 0)
        {
            // Between zero-SNR points (alpha' = 0, hence alpha = 0) x is pure noise at both ends: x' = (sigma'/sigma) x (the unread model
            // output is checked at the end of the step).
            state.Set(x, (to.Sigma / from.Sigma) * x);
            return;
        }
        // The intermediate point s = (1 - gamma) t' in path time (an integer timestep on a discrete path).
        double aS = to.Alpha, sS = to.Sigma;
        if (Gamma > 0)
        {
            var path = schedule.Path;
            double tNext = path is DiscreteVpPath ? to.ModelTime : path.TimeFromLogSnr(to.LogSnr);
            double ts = path.TimeMin + (1 - Gamma) * (tNext - path.TimeMin);
            if (path is DiscreteVpPath) ts = Math.Floor(ts + 1e-9);
            ts = Math.Clamp(ts, path.TimeMin, tNext);
            aS = path.Alpha(ts);
            sS = path.Sigma(ts);
            if (sS / aS > to.Sigma / to.Alpha) { aS = to.Alpha; sS = to.Sigma; }
        }
        // x_s = alpha_s x0hat + sigma_s epshat, epshat = (x - alpha x0hat) / sigma, i.e. x_s = (sigma_s / sigma) x + (alpha_s - sigma_s alpha / sigma) x0hat;
        // x' = (alpha'/alpha_s) x_s + c z.
        double k = to.Alpha / aS;
        double ofX = k * sS / from.Sigma, ofD = k * (aS - sS * from.Alpha / from.Sigma);
        double c = Math.Sqrt(Math.Max(0, to.Sigma * to.Sigma - k * k * sS * sS));
        if (c > 0)
        {
            var z = state.Buffer(NoiseBuffer);
            state.DrawNoise(index, z);
            state.Set(x, ofX * x + ofD * d + c * z);
        }
        else state.Set(x, ofX * x + ofD * d);
    }
}
