using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>How DPM-Solver++(2M) forms its second-order correction.</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
public enum DpmSolverSecondOrder
{
    /// <summary>The multistep midpoint rule of Lu et al. (2022), Algorithm 2 (k-diffusion's <c>sample_dpmpp_2m</c>; diffusers <c>solver_type="midpoint"</c>).</summary>
    Midpoint,

    /// <summary>The variant with the <c>(e^{-h} - 1)/h + 1</c> weight (diffusers <c>solver_type="heun"</c>).</summary>
    Heun,
}

/// <summary>
/// DPM-Solver++(2M) (Lu, Zhou, Bao, Chen, Li and Zhu 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
/// Models", Algorithm 2): a second-order multistep solver of the probability-flow ODE in data prediction, exact in the linear part.
/// </summary>
/// <remarks>
/// <para>With <c>lambda = log(alpha / sigma)</c>, <c>h = lambda' - lambda</c>, the first-order step (DDIM) is
/// <c>x' = (sigma'/sigma) x + alpha' (1 - e^{-h}) D</c> with <c>D = x0hat</c>. The second order uses the previous estimate
/// <c>x0hat_prev</c> at the previous point, <c>r = h_prev / h</c>:
/// midpoint <c>D = (1 + 1/(2r)) x0hat - (1/(2r)) x0hat_prev</c>; Heun variant
/// <c>x' = (sigma'/sigma) x + alpha' (1 - e^{-h}) x0hat + alpha' ((e^{-h} - 1)/h + 1) (x0hat - x0hat_prev) / r</c>.</para>
/// <para>First order on the first step, after a zero-length step, on a step to <c>sigma' = 0</c> (where it returns <c>alpha' x0hat</c>) and, with
/// <see cref="LowerOrderFinal"/>, on the last step of schedules of fewer than 15 steps (diffusers' rule).
/// <c>e^{-h} = (alpha sigma') / (alpha' sigma)</c> is computed as that ratio, so <c>alpha = 0</c> and <c>sigma' = 0</c> are exact.</para>
/// <para>History: the denoised estimate of each step is kept in the state's history slot <c>step mod 2</c>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolverPlusPlus2MSampler : Sampler
{
    /// <summary>DPM-Solver++(2M).</summary>
    /// <param name="secondOrder">The form of the second-order correction.</param>
    /// <param name="lowerOrderFinal">Use first order on the last step when the schedule has fewer than 15 steps.</param>
    public DpmSolverPlusPlus2MSampler(DpmSolverSecondOrder secondOrder = DpmSolverSecondOrder.Midpoint, bool lowerOrderFinal = true)
    {
        if (!Enum.IsDefined(secondOrder)) throw new ArgumentOutOfRangeException(nameof(secondOrder), secondOrder, "Unknown second-order rule.");
        SecondOrder = secondOrder;
        LowerOrderFinal = lowerOrderFinal;
    }

    /// <summary>The form of the second-order correction.</summary>
    public DpmSolverSecondOrder SecondOrder { get; }

    /// <summary>Whether the last step of a short schedule is first order.</summary>
    public bool LowerOrderFinal { get; }

    // What the history entries hold (with the sampler's name, the tag that keeps another sampler's history out).
    private const string HistoryQuantity = "denoised";

    /// <inheritdoc/>
    public override string Name => "dpmpp_2m";

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
        var history = state.History(Name, HistoryQuantity, 2);
        var current = history[index];
        bool hasPrevious = history.Available(index) > 0;
        history.Record(index);

        // exp(-h) = SNR ratio; between zero-SNR points (alpha' = 0, hence alpha = 0) its limit 1 makes the step x' = (sigma' / sigma) x.
        double expMinusH = to.Alpha == 0 ? 1.0 : from.Alpha * to.Sigma / (to.Alpha * from.Sigma);
        double ofX = to.Sigma / from.Sigma, ofD = to.Alpha * (1 - expMinusH);
        bool lastStep = index == schedule.StepCount - 1;
        bool firstOrder = !hasPrevious || to.Sigma == 0 || (LowerOrderFinal && lastStep && schedule.StepCount < 15);
        double h = 0, r = 0;
        if (!firstOrder)
        {
            h = LogSnr(to) - LogSnr(from);
            r = (LogSnr(from) - LogSnr(schedule[index - 1])) / h;
            // A zero-length previous step (r = 0) carries no slope information; r = infinity (a start at alpha = 0)
            // makes the correction vanish: both are first-order steps.
            firstOrder = !(r > 0) || double.IsInfinity(r);
        }
        if (firstOrder)
        {
            // The estimate stored as the history entry and x' = ofX x + ofD x0hat, in one pass.
            state.Set(current, d, x, ofX * x + ofD * current);
            return;
        }
        var previous = history[index - 1];
        double ofDiff = SecondOrder == DpmSolverSecondOrder.Midpoint
            ? ofD / (2 * r)
            : to.Alpha * ((expMinusH - 1) / h + 1) / r;
        state.Set(current, d, x, ofX * x + (ofD + ofDiff) * current - ofDiff * previous);
    }

    private static double LogSnr(Schedules.SchedulePoint p) => Math.Log(p.Alpha) - Math.Log(p.Sigma);
}
