using System.Numerics;
using GenerativePaths.Schedules;

namespace GenerativePaths.Samplers;

/// <summary>
/// DPM-2 ancestral as diffusers' <c>KDPM2AncestralDiscreteScheduler</c> runs it (k-diffusion's <c>sample_dpm_2_ancestral</c> with
/// <c>eta = 1</c>; Karras et al. 2022, DPM-2 with ancestral noise). Internal to the importer: the public k-diffusion sampler of the
/// same rule (the k-diffusion work's <c>Dpm2AncestralSampler</c>) is meant to replace it when the branches meet.
/// </summary>
/// <remarks>
/// <para>In the coordinates <c>x_ve = x / alpha</c>, <c>s = sigma / alpha</c>, from <c>s</c> to <c>s'</c>:
/// <c>s_up = sqrt(s'^2 (s^2 - s'^2) / s^2)</c>, <c>s_down = sqrt(s'^2 - s_up^2)</c>, the geometric midpoint <c>s_m = sqrt(s s_down)</c>,
/// <c>d = (x_ve - D(x_ve; s)) / s</c>, <c>x_m = x_ve + (s_m - s) d</c>, <c>d_m = (x_m - D(x_m; s_m)) / s_m</c>,
/// <c>x_ve' = x_ve + (s_down - s) d_m + s_up z</c>. A step to <c>s' = 0</c> is Euler (it returns <c>alpha' x0hat</c>, one model call, no noise);
/// a step from <c>alpha = 0</c> is the ancestral first-order step. Noise (stream = step index) is drawn on every step to <c>s' &gt; 0</c>.</para>
/// <para>Thread safety: immutable (it has no options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
internal sealed class DiffusersKDpm2AncestralSampler : Sampler
{
    public override string Name => "kdpm2_ancestral";

    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var schedule = state.Schedule;
        var from = schedule[index];
        var to = schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        if (from.Alpha == 0)
        {
            AncestralUpdate(state, index, 1.0, 1.0, alwaysDraw: to.Sigma > 0);
            return;
        }
        var x = state.X;
        var (cx, cp) = state.EvaluateDeferred(x, from, state.ModelOutput);
        if (to.Sigma == 0)
        {
            state.CombineConsuming(state.ModelOutput, from, x, to.Alpha * cx, x, to.Alpha * cp, state.ModelOutput);
            return;
        }
        double s = from.SigmaOverAlpha, sn = to.SigmaOverAlpha;
        double up = Math.Sqrt(Math.Max(0, sn * sn * (s * s - sn * sn) / (s * s)));
        double down = Math.Sqrt(Math.Max(0, sn * sn - up * up));
        double sm = Math.Exp(0.5 * (Math.Log(s) + Math.Log(down)));
        var path = schedule.Path;
        double tm = path.TimeFromLogSnr(-Math.Log(sm));
        var mid = new SchedulePoint(path.Alpha(tm), path.Sigma(tm), path.ModelTime(tm));
        // x_mid (path) = alpha_m [(s_m / s) x / alpha + (1 - s_m / s) x0hat]
        var xm = state.Scratch(1);
        double q = sm / s;
        state.CombineConsuming(state.ModelOutput, from, xm, mid.Alpha * (q / from.Alpha + (1 - q) * cx), x, mid.Alpha * (1 - q) * cp, state.ModelOutput);
        var (c2x, c2p) = state.Evaluate(xm, mid, state.SecondOutput);
        // x' = alpha' [x / alpha + (s_down - s) / s_m (x_m / alpha_m - D_m)] + alpha' s_up z
        double k = to.Alpha * (down - s) / sm;
        var z = state.Scratch(0);
        state.DrawNoise(index, z);
        state.Combine(x, to.Alpha / from.Alpha, x, k * (1 / mid.Alpha - c2x), xm, -k * c2p, state.SecondOutput, to.Alpha * up, z);
    }
}
