using System.Numerics;
using GenerativePaths.Schedules;

namespace GenerativePaths.Samplers;

/// <summary>
/// A step rule: advances a <see cref="SamplerState{T}"/> from point <c>i</c> of its schedule to point <c>i + 1</c>.
/// Samplers hold only their options (immutable); everything that changes lives in the caller-owned state, and the
/// driver passes the step index, so one sampler may serve many runs and threads at once.
/// </summary>
/// <remarks>
/// <para>State convention: <c>x = alpha x0 + sigma eps</c> in the path's own coordinates; a step uses only the points'
/// <c>alpha</c>, <c>sigma</c> and model time (and the schedule's path for points in between). Writing
/// <c>x0hat</c> for the model's denoised estimate at the current point and <c>epshat = (x - alpha x0hat) / sigma</c>, every update
/// is a linear combination of tensors with per-sample coefficients, computed in one pass.</para>
/// <para>A step to <c>sigma = 0</c> returns the denoised estimate (times the final <c>alpha</c>) without dividing by zero; a step
/// from a point with <c>sigma = 0</c> only rescales <c>x</c> and calls no model.</para>
/// <para>Thread safety: a sampler holds only immutable options (the library's samplers do; a user's sampler must too), so one instance may serve several threads; everything a run changes lives in its SamplerState.</para>
/// </remarks>
public abstract class Sampler
{
    /// <summary>The name of the buffer the library's samplers draw their noise into (<see cref="SamplerState{T}.Buffer(string)"/>).</summary>
    internal const string NoiseBuffer = "noise";

    /// <summary>A short name, e.g. <c>ddim</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Advances <paramref name="state"/> from point <paramref name="index"/> to point <paramref name="index"/> + 1.</summary>
    public abstract void Step<T>(SamplerState<T> state, int index) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Checks that <paramref name="index"/> names a step of the state's schedule.</summary>
    protected static void CheckIndex<T>(SamplerState<T> state, int index) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(state);
        if ((uint)index >= (uint)state.Schedule.StepCount)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Step index must lie in [0, {state.Schedule.StepCount}).");
    }

    /// <summary>
    /// Handles a step from a clean point (<c>sigma = 0</c>): <c>x</c> is <c>alpha x0</c> there, so the step rescales it to
    /// <c>alpha_next / alpha x</c>. Returns true when it did so (the caller then returns).
    /// </summary>
    protected static bool StepFromCleanPoint<T>(SamplerState<T> state, SchedulePoint from, SchedulePoint to) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (from.Sigma != 0) return false;
        if (state.TrackDenoised) state.Set(state.Denoised, (1 / from.Alpha) * state.X); // x = alpha x0 exactly here
        state.Set(state.X, (to.Alpha / from.Alpha) * state.X);
        return true;
    }

    /// <summary>
    /// The deterministic move of DDIM (eta = 0) and of Euler on the probability-flow ODE: the coefficients <c>(cx, c0)</c> of
    /// <c>x_next = cx x + c0 x0hat = alpha_next x0hat + sigma_next epshat</c>, i.e. <c>cx = sigma_next / sigma</c>,
    /// <c>c0 = alpha_next - sigma_next alpha / sigma</c>. Requires <c>sigma &gt; 0</c>.
    /// </summary>
    protected static (double OfState, double OfDenoised) DeterministicMove(SchedulePoint from, SchedulePoint to)
        => (to.Sigma / from.Sigma, to.Alpha - to.Sigma * from.Alpha / from.Sigma);

    /// <summary>
    /// The noise level of an ancestral step between two points: <c>c = eta sigma_next sqrt(1 - SNR / SNR_next)</c>, capped at <c>sigma_next</c>,
    /// with <c>SNR / SNR_next = (alpha sigma_next / (alpha_next sigma))^2</c>; the posterior standard deviation of DDPM for <c>eta = 1</c>.
    /// 0 when <c>alpha_next = 0</c> (then <c>alpha = 0</c> too, and the step is the deterministic <c>x_next = (sigma_next / sigma) x</c>).
    /// </summary>
    protected static double AncestralNoise(SchedulePoint from, SchedulePoint to, double eta)
    {
        // alpha_next = 0 (a repeated zero-SNR point): x is pure noise at both ends, the posterior is a point mass.
        if (eta == 0 || to.Sigma == 0 || to.Alpha == 0) return 0;
        double q = from.Alpha * to.Sigma / (to.Alpha * from.Sigma);
        double c = eta * to.Sigma * Math.Sqrt(Math.Max(0, 1 - q * q));
        return Math.Min(c, to.Sigma);
    }

    /// <summary>
    /// An ancestral (DDIM-with-eta / Euler-ancestral) update in one pass: <c>x_next = alpha_next x0hat + sqrt(sigma_next^2 - c^2) epshat + c s_noise z</c>.
    /// Draws <c>z</c> for the step's interval of <c>sigma / alpha</c> (stream = step index) only when <c>c &gt; 0</c>.
    /// </summary>
    private protected static void AncestralUpdate<T>(SamplerState<T> state, int index, double eta, double sNoise) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        var d = state.Denoise(state.X, from);
        double c = AncestralNoise(from, to, eta);
        double down = Math.Sqrt(Math.Max(0, to.Sigma * to.Sigma - c * c));
        if (c > 0)
        {
            var z = state.Buffer(NoiseBuffer);
            state.DrawNoise(index, from.SigmaOverAlpha, to.SigmaOverAlpha, z);
            state.Set(state.X, to.Alpha * d + down * d.Eps + c * sNoise * z);
        }
        else state.Set(state.X, to.Alpha * d + down * d.Eps);
    }
    /// <summary>
    /// The stochastic "churn" of Karras et al. 2022 (Algorithm 2, lines 4-6): in the coordinates <c>s = sigma / alpha</c>,
    /// <c>gamma = min(s_churn / N, sqrt 2 - 1)</c> when <c>s_tmin &lt;= s &lt;= s_tmax</c> (else 0), <c>s_hat = (1 + gamma) s</c> and
    /// <c>x_ve_hat = x_ve + s_noise sqrt(s_hat^2 - s^2) z</c>. The raised point comes from the schedule's path
    /// (<c>t = Path.TimeFromLogSnr(-log s_hat)</c>); <c>x</c> is rescaled to it. Returns the point the step starts from (the current point when gamma = 0, and no noise is drawn then).
    /// </summary>
    private protected static Schedules.SchedulePoint ApplyChurn<T>(SamplerState<T> state, int index, double sChurn, double sTMin, double sTMax, double sNoise) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var from = state.Schedule[index];
        if (sChurn == 0 || from.Alpha == 0 || from.Sigma == 0) return from;
        double s = from.Sigma / from.Alpha;
        if (!(s >= sTMin && s <= sTMax)) return from;
        double gamma = Math.Min(sChurn / state.Schedule.StepCount, Math.Sqrt(2) - 1);
        if (gamma <= 0) return from;
        double sHat = s * (1 + gamma);
        var path = state.Schedule.Path;
        double t = path.TimeFromLogSnr(-Math.Log(sHat));
        var hat = new Schedules.SchedulePoint(path.Alpha(t), path.Sigma(t), path.ModelTime(t));
        var z = state.Buffer(NoiseBuffer);
        state.DrawNoise(index, z);
        state.Set(state.X, (hat.Alpha / from.Alpha) * state.X + hat.Alpha * sNoise * Math.Sqrt(sHat * sHat - s * s) * z);
        return hat;
    }
}
