using System.Numerics;
using GenerativePaths.Schedules;

namespace GenerativePaths.Samplers;

/// <summary>
/// Single-step DPM-Solver++ of order 2 or 3 (2S/3S; Lu, Zhou, Bao, Chen, Li and Zhu 2022, "DPM-Solver++", arXiv 2211.01095,
/// Algorithm 1 and appendix; Lu et al. 2022, "DPM-Solver", NeurIPS, Algorithms 4–5) as diffusers' <c>DPMSolverSinglestepScheduler</c>
/// runs it: the listed points are taken in groups of <c>k</c>; inside a group every step starts again from the group's first point
/// and uses the denoised estimates of the group's points so far as the intermediate stages.
/// </summary>
/// <remarks>
/// <para>With <c>lambda = log(alpha / sigma)</c>, the group start <c>g</c> (sample <c>x_g</c>, estimate <c>m_g</c>), the target <c>t</c>,
/// <c>h = lambda_t - lambda_g</c>:</para>
/// <para>order 1: <c>x_t = (sigma_t / sigma_g) x_g + alpha_t (1 - e^{-h}) m_g</c> (DDIM);</para>
/// <para>order 2 (stage <c>s = g + 1</c>, <c>r = (lambda_s - lambda_g) / h</c>, <c>D1 = (m_s - m_g) / r</c>): midpoint
/// <c>x_t = (sigma_t / sigma_g) x_g + alpha_t (1 - e^{-h}) (m_g + D1 / 2)</c>; Heun
/// <c>x_t = (sigma_t / sigma_g) x_g + alpha_t (1 - e^{-h}) m_g + alpha_t ((e^{-h} - 1)/h + 1) D1</c>;</para>
/// <para>order 3 (stages <c>s1 = g + 1</c>, <c>s2 = g + 2</c>, <c>r1, r2</c> their log-SNR fractions, <c>E_k = (m_{s_k} - m_g) / r_k</c>):
/// midpoint <c>x_t = (sigma_t / sigma_g) x_g + alpha_t (1 - e^{-h}) m_g + alpha_t ((e^{-h} - 1)/h + 1) E_2</c>; Heun adds the second
/// derivative, <c>D1 = (r2 E_1 - r1 E_2) / (r2 - r1)</c>, <c>D2 = 2 (E_2 - E_1) / (r2 - r1)</c>,
/// <c>x_t = (sigma_t / sigma_g) x_g + alpha_t (1 - e^{-h}) m_g + alpha_t ((e^{-h} - 1)/h + 1) D1 - alpha_t ((e^{-h} - 1 + h)/h^2 - 1/2) D2</c>.</para>
/// <para>Orders per step as diffusers' <c>get_order_list</c>: <c>i mod k + 1</c>; with <see cref="LowerOrderFinal"/> (forced when
/// <c>k</c> does not divide the number of steps) the last step of a schedule whose step count <c>k</c> divides is first order.
/// A step to <c>sigma = 0</c> is first order (it returns <c>alpha' x0hat</c>); missing history (a run that starts here, another
/// sampler in between) or a stage at an infinite or zero log-SNR distance lowers the order.</para>
/// <para>History: the denoised estimate of each step in the state's three-slot ring <c>(dpmpp_singlestep, denoised)</c>
/// (<see cref="SamplerState{T}.History(string, string, int)"/>), the group's first sample in the buffer <c>dpmpp_singlestep_group_start</c>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolverPlusPlusSinglestepSampler : Sampler
{
    /// <summary>Single-step DPM-Solver++.</summary>
    /// <param name="solverOrder">The group size and highest order, 1 to 3 (diffusers' <c>solver_order</c>, default 2).</param>
    /// <param name="secondOrder">Midpoint or Heun form of the corrections.</param>
    /// <param name="lowerOrderFinal">Make the last step first order when the group size divides the step count.</param>
    public DpmSolverPlusPlusSinglestepSampler(int solverOrder = 2, DpmSolverSecondOrder secondOrder = DpmSolverSecondOrder.Midpoint, bool lowerOrderFinal = true)
    {
        if (solverOrder is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(solverOrder), solverOrder, "The single-step DPM-Solver order must be 1, 2 or 3.");
        if (!Enum.IsDefined(secondOrder)) throw new ArgumentOutOfRangeException(nameof(secondOrder), secondOrder, "Unknown second-order rule.");
        SolverOrder = solverOrder;
        SecondOrder = secondOrder;
        LowerOrderFinal = lowerOrderFinal;
    }

    /// <summary>The group size and highest order.</summary>
    public int SolverOrder { get; }

    /// <summary>The form of the corrections.</summary>
    public DpmSolverSecondOrder SecondOrder { get; }

    /// <summary>Whether the last step is first order when the group size divides the step count.</summary>
    public bool LowerOrderFinal { get; }

    /// <inheritdoc/>
    public override string Name => "dpmpp_singlestep";

    // What the history entries hold (with the sampler's name, the tag that keeps another sampler's history out), the ring's size
    // (the estimates of a group of the highest order, 3: the group's first point, its second, the current one) and the buffer
    // that keeps the group's first sample between steps.
    private const string HistoryQuantity = "denoised";
    private const int HistoryCapacity = 3;
    private const string GroupStartBuffer = "dpmpp_singlestep_group_start";

    /// <summary>The planned order of step <paramref name="index"/> of <paramref name="steps"/> (diffusers' <c>get_order_list</c>).</summary>
    public int PlannedOrder(int index, int steps)
    {
        int k = SolverOrder;
        bool lowerFinal = LowerOrderFinal || steps % k != 0;
        if (lowerFinal && steps % k == 0 && index == steps - 1) return 1;
        return index % k + 1;
    }

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var schedule = state.Schedule;
        var from = schedule[index];
        var to = schedule[index + 1];
        // A step from a clean point records no entry: the next step finds no history and starts a new group.
        if (StepFromCleanPoint(state, from, to)) return;
        var x = state.X;
        var d = state.Denoise(x, from);
        var ring = state.History(Name, HistoryQuantity, HistoryCapacity);
        int history = Math.Min(ring.Available(index), SolverOrder - 1);
        var mi = ring[index];
        ring.Record(index);
        var start = state.Buffer(GroupStartBuffer);

        int order = Math.Min(PlannedOrder(index, schedule.StepCount), history + 1);
        if (to.Sigma == 0) order = 1;
        int g = index - order + 1;
        var pg = schedule[g];
        double h = to.LogSnr - pg.LogSnr;
        double r1 = order >= 2 ? (schedule[g + 1].LogSnr - pg.LogSnr) / h : 0;
        double r2 = order >= 3 ? (schedule[g + 2].LogSnr - pg.LogSnr) / h : 0;
        bool valid = order == 1 || (double.IsFinite(h) && h > 0 && r1 > 0 && double.IsFinite(r1) && (order == 2 || (r2 > r1 && double.IsFinite(r2))));
        if (!valid) { order = 1; g = index; pg = from; }

        if (order == 1)
        {
            // A group starts here: keep its first sample for the later steps of the group; then the estimate m_i stored as the
            // history entry and x_t = (sigma_t / sigma) x + alpha_t (1 - e^{-h}) m_i, in one pass.
            state.Set(start, x);
            double expMinusH = to.Alpha == 0 ? 1.0 : from.Alpha * to.Sigma / (to.Alpha * from.Sigma);
            state.Set(mi, d, x, (to.Sigma / from.Sigma) * x + to.Alpha * (1 - expMinusH) * mi);
            return;
        }
        double em1 = Paths.PathMath.ExpM1(-h); // e^{-h} - 1
        double a = -to.Alpha * em1;             // coefficient of m_g
        double b = to.Alpha * (em1 / h + 1);    // coefficient of the first difference (Heun form)
        double ofStart = to.Sigma / pg.Sigma;
        var mg = ring[g];
        if (order == 2)
        {
            // D1 = (m_i - m_g) / r1: x_t = (sigma_t / sigma_g) x_g + a m_g + w D1 (w = a/2 midpoint, b Heun).
            double w = SecondOrder == DpmSolverSecondOrder.Midpoint ? a / 2 : b;
            state.Set(mi, d, x, ofStart * start + a * mg + (w / r1) * (1.0 * mi - mg));
            return;
        }
        var ms1 = ring[g + 1];
        // E1 = (m_s1 - m_g) / r1, E2 = (m_i - m_g) / r2.
        if (SecondOrder == DpmSolverSecondOrder.Midpoint)
        {
            // x_t = (sigma_t / sigma_g) x_g + a m_g + b E2.
            state.Set(mi, d, x, ofStart * start + a * mg + (b / r2) * (1.0 * mi - mg));
            return;
        }
        double c = -to.Alpha * ((em1 + h) / (h * h) - 0.5);
        // x_t = (sigma_t / sigma_g) x_g + a m_g + b D1 + c D2 with D1 = (r2 E1 - r1 E2) / (r2 - r1), D2 = 2 (E2 - E1) / (r2 - r1),
        // i.e. a m_g + e1 E1 + e2 E2 with the weights below.
        double dr = r2 - r1;
        double e1 = b * r2 / dr - 2 * c / dr;   // weight of E1
        double e2 = -b * r1 / dr + 2 * c / dr;  // weight of E2
        state.Set(mi, d, x, ofStart * start + a * mg + (e1 / r1) * (1.0 * ms1 - mg) + (e2 / r2) * (1.0 * mi - mg));
    }
}
