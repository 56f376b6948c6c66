using System.Numerics;
using GenerativePaths.Schedules;

namespace GenerativePaths.Samplers;

/// <summary>
/// DPM-Solver-2 in the form of Karras, Aittala, Aila and Laine (2022, "Elucidating the Design Space of Diffusion-Based Generative
/// Models", appendix D.2; after Lu et al. 2022, "DPM-Solver", Algorithm 1 with r = 1/2): a midpoint method on the probability-flow
/// ODE whose midpoint is the geometric mean of the two noise levels, i.e. the log-SNR midpoint. k-diffusion's <c>sample_dpm_2</c>,
/// diffusers' <c>KDPM2DiscreteScheduler</c>. Two model evaluations per step, one on a step to <c>sigma = 0</c>; optional churn.
/// </summary>
/// <remarks>
/// <para>In the coordinates <c>s = sigma / alpha</c>, <c>x_ve = x / alpha</c>, slope <c>d = (x_ve - x0hat) / s</c>:
/// <c>s_mid = sqrt(s s')</c>, <c>x_ve,mid = x_ve + (s_mid - s) d</c>, <c>d_mid = (x_ve,mid - x0hat(x_mid)) / s_mid</c>,
/// <c>x_ve' = x_ve + (s' - s) d_mid</c>. The midpoint is taken on the schedule's path,
/// <c>t_mid = Path.TimeFromLogSnr((lambda + lambda') / 2)</c>, and the model is called with <c>Path.ModelTime(t_mid)</c>.</para>
/// <para>In path coordinates the first move is the DDIM step to the midpoint and the second is
/// <c>x' = (alpha'/alpha) x + alpha' (s' - s) epshat_mid</c>. On a step to <c>sigma = 0</c>, or from <c>alpha = 0</c>, the step is
/// first order (Euler), returning <c>alpha' x0hat</c> at the end.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolver2Sampler : ChurnSampler
{
    /// <summary>DPM-Solver-2, optionally with churn (same parameters as <see cref="EulerSampler"/>).</summary>
    public DpmSolver2Sampler(double sChurn = 0.0, double sTMin = 0.0, double sTMax = double.PositiveInfinity, double sNoise = 1.0)
        : base(sChurn, sTMin, sTMax, sNoise)
    {
    }

    /// <inheritdoc/>
    public override string Name => "dpm_2";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, state.Schedule[index], to)) return;
        var from = ApplyChurn(state, index);
        var x = state.X;
        var d = state.Denoise(x, from);
        if (to.Sigma == 0 || from.Alpha == 0 || to.Alpha == 0)
        {
            // Euler: x' = (sigma'/sigma) x + (alpha' - sigma' alpha / sigma) x0hat.
            var (ofX, ofDenoised) = DeterministicMove(from, to);
            state.Set(x, ofX * x + ofDenoised * d);
            return;
        }
        var path = state.Schedule.Path;
        double t = path.TimeFromLogSnr(0.5 * (from.LogSnr + to.LogSnr));
        var mid = new SchedulePoint(path.Alpha(t), path.Sigma(t), path.ModelTime(t));
        // The DDIM move to the midpoint: x_mid = (sigma_mid/sigma) x + (alpha_mid - sigma_mid alpha / sigma) x0hat.
        var (mX, mD) = DeterministicMove(from, mid);
        var xMid = state.Buffer("dpm_2_midpoint");
        state.Set(xMid, mX * x + mD * d);
        var dMid = state.Denoise(xMid, mid);
        // x' = (alpha'/alpha) x + alpha' (s' - s) epshat_mid, epshat_mid = (x_mid - alpha_mid x0hat_mid) / sigma_mid.
        state.Set(x, (to.Alpha / from.Alpha) * x + to.Alpha * (to.SigmaOverAlpha - from.SigmaOverAlpha) * dMid.Eps);
    }
}
