using System.Numerics;
using GenerativePaths.Schedules;

namespace GenerativePaths.Samplers;

/// <summary>
/// PLMS, the pseudo linear multistep method of PNDM (Liu, Ren, Lin and Zhao 2022, "Pseudo Numerical Methods for Diffusion Models on
/// Manifolds", ICLR, eq. 9 and 12): diffusers' <c>PNDMScheduler</c> with <c>skip_prk_steps</c>, the Stable Diffusion 1.5 default.
/// </summary>
/// <remarks>
/// <para>The transfer part of PNDM (eq. 9) moves from <c>(alpha, sigma)</c> to <c>(alpha', sigma')</c> along DDIM's deterministic
/// step with a noise estimate <c>E</c>: <c>x' = (alpha'/alpha) x + (sigma' - alpha' sigma / alpha) E</c> (the paper's
/// <c>sqrt(a'/a) x - (a' - a) E / (a sqrt(1 - a') + sqrt(a (1 - a) a'))</c> with <c>a = alpha^2</c>, rewritten). The gradient part
/// combines the noise estimates <c>e_k</c> at the start of the last steps with the Adams–Bashforth weights of equal steps:
/// <c>E = (3 e_i - e_{i-1}) / 2</c>, <c>(23 e_i - 16 e_{i-1} + 5 e_{i-2}) / 12</c>, <c>(55 e_i - 59 e_{i-1} + 37 e_{i-2} - 9 e_{i-3}) / 24</c>.</para>
/// <para>The first step (and any step without this sampler's history) is the improved-Euler warm-up of diffusers' PLMS: a DDIM step
/// with <c>e_i</c> to a predicted point, a model call there giving <c>e'</c>, and the step taken again with <c>E = (e_i + e') / 2</c>
/// (two model calls). Only <c>e_i</c> enters the history. A warm-up step to <c>sigma' = 0</c> (no model call there) and a step from
/// <c>alpha = 0</c> are DDIM's first-order step in data prediction; a later step to <c>sigma' = 0</c> returns
/// <c>(alpha'/alpha)(x - sigma E)</c>, the clean point of the combined estimate, as diffusers' last step with <c>set_alpha_to_one</c> does.</para>
/// <para>With <see cref="RungeKuttaWarmUp"/> (diffusers' default <c>skip_prk_steps = false</c>) the first three steps, and any step with
/// fewer than three earlier noise estimates, are PNDM's pseudo Runge–Kutta steps (eq. 13): with the midpoint <c>m</c> of the step in the
/// path's time and <c>T(a -> b, e)</c> the transfer above from <c>x</c>,
/// <c>e1 = eps(x)</c>, <c>e2 = eps(T(i -> m, e1))</c>, <c>e3 = eps(T(i -> m, e2))</c>, <c>e4 = eps(T(i -> i+1, e3))</c>,
/// <c>x' = T(i -> i+1, (e1 + 2 e2 + 2 e3 + e4) / 6)</c> (four model calls); only <c>e1</c> enters the history, and PLMS takes over with
/// the fourth-order weights. A Runge–Kutta step to <c>sigma' = 0</c> is the first-order step.</para>
/// <para>History: the noise estimates in the four-slot ring of <see cref="MultistepHistory"/>; the predicted point of the warm-up in <c>Scratch(0)</c>
/// (and the Runge–Kutta stages' sum in <c>Scratch(1)</c>).</para>
/// <para>Thread safety: immutable (it holds only its option); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class PlmsSampler : Sampler
{
    /// <summary>PLMS.</summary>
    /// <param name="rungeKuttaWarmUp">Start with PNDM's pseudo Runge–Kutta steps (diffusers' <c>skip_prk_steps = false</c>) instead of the
    /// improved-Euler warm-up (<c>skip_prk_steps = true</c>, the Stable Diffusion setting).</param>
    public PlmsSampler(bool rungeKuttaWarmUp = false) => RungeKuttaWarmUp = rungeKuttaWarmUp;

    /// <summary>Whether the first steps are pseudo Runge–Kutta steps.</summary>
    public bool RungeKuttaWarmUp { get; }

    /// <inheritdoc/>
    public override string Name => RungeKuttaWarmUp ? "pndm" : "plms";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var schedule = state.Schedule;
        var from = schedule[index];
        var to = schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) { state.LastHistoryStep = -1; return; }
        var x = state.X;
        var (cx, cp) = state.EvaluateDeferred(x, from, state.ModelOutput);
        int history = MultistepHistory.Available(state, index, 3);
        bool firstOrder = from.Alpha == 0 || (history == 0 && to.Sigma == 0);
        if (firstOrder)
        {
            state.LastHistoryStep = -1;
            var (ox, od) = DeterministicMove(from, to);
            state.CombineConsuming(state.ModelOutput, from, x, ox + od * cx, x, od * cp, state.ModelOutput);
            return;
        }
        state.LastHistoryStep = index;
        var e0 = MultistepHistory.Slot(state, index);
        state.CombineConsuming(state.ModelOutput, from, e0, (1 - from.Alpha * cx) / from.Sigma, x, -from.Alpha * cp / from.Sigma, state.ModelOutput);
        double ofX = to.Alpha / from.Alpha, ofE = to.Sigma - to.Alpha * from.Sigma / from.Alpha;
        if (RungeKuttaWarmUp && history < 3 && to.Sigma > 0)
        {
            RungeKuttaStep(state, from, to, e0);
            return;
        }
        switch (history)
        {
            case 0:
            {
                // Warm-up: predict with e0, evaluate there, step again with the mean of the two noise estimates.
                var predicted = state.Scratch(0);
                state.Combine(predicted, ofX, x, ofE, e0);
                var (px, pp) = state.Evaluate(predicted, to, state.SecondOutput);
                double ex = (1 - to.Alpha * px) / to.Sigma, ep = -to.Alpha * pp / to.Sigma;
                state.Combine(x, ofX, x, ofE / 2, e0, ofE / 2 * ex, predicted, ofE / 2 * ep, state.SecondOutput);
                break;
            }
            case 1:
                state.Combine(x, ofX, x, ofE * 1.5, e0, -ofE * 0.5, MultistepHistory.Slot(state, index - 1));
                break;
            case 2:
                state.Combine(x, ofX, x, ofE * 23 / 12, e0, -ofE * 16 / 12, MultistepHistory.Slot(state, index - 1), ofE * 5 / 12, MultistepHistory.Slot(state, index - 2));
                break;
            default:
                state.Combine(x, ofX, x, ofE * 55 / 24, e0, -ofE * 59 / 24, MultistepHistory.Slot(state, index - 1), ofE * 37 / 24, MultistepHistory.Slot(state, index - 2),
                    -ofE * 9 / 24, MultistepHistory.Slot(state, index - 3));
                break;
        }
    }

    /// <summary>PNDM's pseudo fourth-order Runge–Kutta step from <paramref name="from"/> to <paramref name="to"/> (the first stage's noise
    /// estimate <paramref name="e1"/> is already in the history).</summary>
    private static void RungeKuttaStep<T>(SamplerState<T> state, Schedules.SchedulePoint from, Schedules.SchedulePoint to, Tensors.BatchTensor<T> e1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var path = state.Schedule.Path;
        // On a discrete path the points' model times are its timesteps (PNDM's midpoint is t - (T div N) / 2, an integer).
        bool discrete = path is Paths.DiscreteVpPath;
        double tFrom = discrete ? from.ModelTime : path.TimeFromLogSnr(from.LogSnr), tTo = discrete ? to.ModelTime : path.TimeFromLogSnr(to.LogSnr);
        double tMid = 0.5 * (tFrom + tTo);
        var mid = new Schedules.SchedulePoint(path.Alpha(tMid), path.Sigma(tMid), path.ModelTime(tMid));
        var x = state.X;
        var xs = state.Scratch(0);
        var sum = state.Scratch(1);
        // T(i -> p, e) = (alpha_p / alpha) x + (sigma_p - alpha_p sigma / alpha) e.
        double ax = mid.Alpha / from.Alpha, ae = mid.Sigma - mid.Alpha * from.Sigma / from.Alpha;
        state.Combine(xs, ax, x, ae, e1);
        var (c2x, c2p) = state.Evaluate(xs, mid, state.SecondOutput);
        double k2x = (1 - mid.Alpha * c2x) / mid.Sigma, k2p = -mid.Alpha * c2p / mid.Sigma; // e2 = k2x xs + k2p p2
        state.Combine(sum, 1, e1, 2 * k2x, xs, 2 * k2p, state.SecondOutput);
        state.Combine(xs, ax, x, ae * k2x, xs, ae * k2p, state.SecondOutput);
        var (c3x, c3p) = state.Evaluate(xs, mid, state.SecondOutput);
        double k3x = (1 - mid.Alpha * c3x) / mid.Sigma, k3p = -mid.Alpha * c3p / mid.Sigma;
        state.Combine(sum, 1, sum, 2 * k3x, xs, 2 * k3p, state.SecondOutput);
        double bx = to.Alpha / from.Alpha, be = to.Sigma - to.Alpha * from.Sigma / from.Alpha;
        state.Combine(xs, bx, x, be * k3x, xs, be * k3p, state.SecondOutput);
        var (c4x, c4p) = state.Evaluate(xs, to, state.SecondOutput);
        double k4x = (1 - to.Alpha * c4x) / to.Sigma, k4p = -to.Alpha * c4p / to.Sigma;
        // x' = T(i -> i+1, (e1 + 2 e2 + 2 e3 + e4) / 6)
        state.Combine(x, bx, x, be / 6, sum, be / 6 * k4x, xs, be / 6 * k4p, state.SecondOutput);
    }
}
