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
/// <para>History: the noise estimates in the state's four-slot ring <c>(plms, eps)</c> (<c>(pndm, eps)</c> with the Runge–Kutta warm-up;
/// <see cref="SamplerState{T}.History(string, string, int)"/>): a reset, a jump or another sampler's steps in between restart the warm-up.
/// The predicted point of the warm-up is in the buffer <c>plms_predicted</c>, the Runge–Kutta stage point and stages' sum in
/// <c>pndm_stage</c> and <c>pndm_stage_sum</c>.</para>
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

    // What the history entries hold (with the sampler's name, the tag that keeps another sampler's history out), and the ring's
    // capacity: this step's noise estimate and up to three earlier ones.
    private const string HistoryQuantity = "eps";
    private const int HistoryCapacity = 4;

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
        var ring = state.History(Name, HistoryQuantity, HistoryCapacity);
        int history = Math.Min(ring.Available(index), HistoryCapacity - 1);
        bool firstOrder = from.Alpha == 0 || (history == 0 && to.Sigma == 0);
        if (firstOrder)
        {
            // DDIM's first-order step in data prediction, x' = (sigma'/sigma) x + (alpha' - sigma' alpha / sigma) x0hat; no entry is
            // recorded, so the next step starts without history.
            var (ox, od) = DeterministicMove(from, to);
            state.Set(x, ox * x + od * d);
            return;
        }
        var e0 = ring[index];
        state.Set(e0, d.Eps); // e_i = (x - alpha x0hat) / sigma, this step's history entry
        ring.Record(index);
        double ofX = to.Alpha / from.Alpha, ofE = to.Sigma - to.Alpha * from.Sigma / from.Alpha;
        if (RungeKuttaWarmUp && history < 3 && to.Sigma > 0)
        {
            RungeKuttaStep(state, from, to, e0);
            return;
        }
        // x' = (alpha'/alpha) x + (sigma' - alpha' sigma / alpha) E, E the Adams–Bashforth combination of the noise estimates.
        switch (history)
        {
            case 0:
            {
                // Warm-up: predict with e0, evaluate there (e'), step again with E = (e0 + e') / 2.
                var predicted = state.Buffer("plms_predicted");
                state.Set(predicted, ofX * x + ofE * e0);
                var d2 = state.Denoise(predicted, to);
                state.Set(x, ofX * x + (ofE / 2) * e0 + (ofE / 2) * d2.Eps);
                break;
            }
            case 1:
                state.Set(x, ofX * x + (ofE * 1.5) * e0 + (-ofE * 0.5) * ring[index - 1]);
                break;
            case 2:
                state.Set(x, ofX * x + (ofE * 23 / 12) * e0 + (-ofE * 16 / 12) * ring[index - 1] + (ofE * 5 / 12) * ring[index - 2]);
                break;
            default:
                state.Set(x, ofX * x + (ofE * 55 / 24) * e0 + (-ofE * 59 / 24) * ring[index - 1] + (ofE * 37 / 24) * ring[index - 2]
                    + (-ofE * 9 / 24) * ring[index - 3]);
                break;
        }
    }

    /// <summary>PNDM's pseudo fourth-order Runge–Kutta step from <paramref name="from"/> to <paramref name="to"/> (the first stage's noise
    /// estimate <paramref name="e1"/> is already in the history).</summary>
    private static void RungeKuttaStep<T>(SamplerState<T> state, SchedulePoint from, SchedulePoint to, Tensors.BatchTensor<T> e1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var path = state.Schedule.Path;
        // On a discrete path the points' model times are its timesteps (PNDM's midpoint is t - (T div N) / 2, an integer).
        bool discrete = path is Paths.DiscreteVpPath;
        double tFrom = discrete ? from.ModelTime : path.TimeFromLogSnr(from.LogSnr), tTo = discrete ? to.ModelTime : path.TimeFromLogSnr(to.LogSnr);
        double tMid = 0.5 * (tFrom + tTo);
        var mid = new SchedulePoint(path.Alpha(tMid), path.Sigma(tMid), path.ModelTime(tMid));
        var x = state.X;
        var xs = state.Buffer("pndm_stage"); // the stage's point
        var sum = state.Buffer("pndm_stage_sum"); // e1 + 2 e2 + 2 e3
        // T(i -> p, e) = (alpha_p / alpha) x + (sigma_p - alpha_p sigma / alpha) e.
        double ax = mid.Alpha / from.Alpha, ae = mid.Sigma - mid.Alpha * from.Sigma / from.Alpha;
        double bx = to.Alpha / from.Alpha, be = to.Sigma - to.Alpha * from.Sigma / from.Alpha;
        state.Set(xs, ax * x + ae * e1);
        var d2 = state.Denoise(xs, mid); // e2 = d2.Eps
        state.Set(sum, e1 + 2 * d2.Eps);
        state.Set(xs, ax * x + ae * d2.Eps); // in place: e2 reads the stage point before it is overwritten
        var d3 = state.Denoise(xs, mid); // e3 = d3.Eps
        state.Set(sum, sum + 2 * d3.Eps);
        state.Set(xs, bx * x + be * d3.Eps);
        var d4 = state.Denoise(xs, to); // e4 = d4.Eps
        // x' = T(i -> i+1, (e1 + 2 e2 + 2 e3 + e4) / 6)
        state.Set(x, bx * x + (be / 6) * sum + (be / 6) * d4.Eps);
    }
}
