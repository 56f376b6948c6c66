using System.Numerics;
using GenerativePaths.Noise;

namespace GenerativePaths.Samplers;

/// <summary>
/// DPM-Solver++(3M) SDE (Lu, Zhou, Bao, Chen, Li and Zhu 2022, "DPM-Solver++", the third-order multistep data-prediction solver, here
/// of the reverse SDE): k-diffusion's <c>sample_dpmpp_3m_sde</c> and diffusers' <c>DPMSolverMultistepScheduler</c> with
/// <c>algorithm_type="sde-dpmsolver++"</c>, <c>solver_order=3</c>.
/// </summary>
/// <remarks>
/// <para>With <c>h = lambda' - lambda</c> (<c>lambda = log(alpha / sigma)</c>), <c>H = (1 + eta) h</c>, <c>e^{-h} = (alpha sigma')/(alpha' sigma)</c>:
/// <c>x' = (sigma'/sigma) e^{-eta h} x + alpha' (1 - e^{-H}) D_0 + alpha' (phi_2 d_1 - phi_3 d_2) + s_noise sigma' sqrt(1 - e^{-2 eta h}) z</c>
/// with <c>phi_2 = (e^{-H} - 1)/H + 1</c>, <c>phi_3 = phi_2 / H - 1/2</c>, and from the two previous estimates (<c>r_0 = h_1/h</c>,
/// <c>r_1 = h_2/h</c> the ratios of the previous step lengths): <c>d1_0 = (D_0 - D_1)/r_0</c>, <c>d1_1 = (D_1 - D_2)/r_1</c>,
/// <c>d_1 = d1_0 + (d1_0 - d1_1) r_0/(r_0 + r_1)</c>, <c>d_2 = (d1_0 - d1_1)/(r_0 + r_1)</c>. With one previous estimate the step uses
/// <c>d_1 = (D_0 - D_1)/r_0</c>, <c>d_2 = 0</c>; with none it is first order. (For <c>alpha = 1</c> this is k-diffusion's form; with
/// <c>eta = 1</c> diffusers' <c>sde-dpmsolver++</c> of order 3, whose <c>lower_order_final</c> rule is <see cref="LowerOrderFinal"/>.)</para>
/// <para>Noise as <see cref="DpmSolverPlusPlus2MSdeSampler"/>: stream <c>i</c>, interval <c>(sigma/alpha, sigma'/alpha')</c>, none when
/// <c>eta = 0</c>. A step to <c>sigma' = 0</c> returns <c>alpha' x0hat</c>; steps from <c>alpha = 0</c> are first order.</para>
/// <para>History: the estimates in the three-slot history ring <c>(dpmpp_3m_sde, denoised)</c> of the state
/// (<see cref="SamplerState{T}.History(string, string, int)"/>), entry of step <c>i</c> in slot <c>i mod 3</c>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolverPlusPlus3MSdeSampler : Sampler
{
    private const string HistoryQuantity = "denoised";

    /// <summary>DPM-Solver++(3M) SDE.</summary>
    /// <param name="eta">The noise level (0 = the ODE step, 1 = the SDE); finite and non-negative.</param>
    /// <param name="sNoise">Scale of the added noise; finite and non-negative.</param>
    /// <param name="lowerOrderFinal">diffusers' <c>lower_order_final</c> on schedules of fewer than 15 steps: the last step first order,
    /// the one before it at most second order (k-diffusion: false).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is negative or not finite.</exception>
    public DpmSolverPlusPlus3MSdeSampler(double eta = 1.0, double sNoise = 1.0, bool lowerOrderFinal = false)
    {
        LowerOrderFinal = lowerOrderFinal;
        if (!(eta >= 0) || double.IsInfinity(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be finite and non-negative.");
        if (!(sNoise >= 0) || double.IsInfinity(sNoise)) throw new ArgumentOutOfRangeException(nameof(sNoise), sNoise, "s_noise must be finite and non-negative.");
        Eta = eta;
        SNoise = sNoise;
    }

    /// <summary>The noise level.</summary>
    public double Eta { get; }

    /// <summary>The noise scale.</summary>
    public double SNoise { get; }

    /// <summary>Whether the last two steps of a schedule of fewer than 15 steps lower the order (diffusers' rule).</summary>
    public bool LowerOrderFinal { get; }

    /// <inheritdoc/>
    public override string Name => "dpmpp_3m_sde";

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
        // Three slots: the entry of this step and those of the two before it.
        var history = state.History(Name, HistoryQuantity, 3);
        int available = Math.Min(history.Available(index), 2);
        var d0 = history[index];
        history.Record(index);
        if (to.Sigma == 0)
        {
            // The estimate stored as the history entry and x' = alpha' x0hat, in one pass.
            state.Set(d0, d, x, to.Alpha * d0);
            return;
        }
        double expMinusH = to.Alpha == 0 ? 1.0 : from.Alpha * to.Sigma / (to.Alpha * from.Sigma);
        double expMinusEtaH = Math.Pow(expMinusH, Eta);
        double h = double.IsFinite(from.LogSnr) ? to.LogSnr - from.LogSnr : double.PositiveInfinity;
        double bigH = (1 + Eta) * h;
        double phi1 = double.IsFinite(bigH) ? -double.ExpM1(-bigH) : 1 - expMinusH * expMinusEtaH;
        double ofX = to.Sigma / from.Sigma * expMinusEtaH, ofD = to.Alpha * phi1;
        double noise = SNoise * to.Sigma * Math.Sqrt(Math.Max(0, 1 - expMinusEtaH * expMinusEtaH));

        if (LowerOrderFinal && schedule.StepCount < 15)
        {
            if (index == schedule.StepCount - 1) available = 0;
            else if (index == schedule.StepCount - 2) available = Math.Min(available, 1);
        }
        // Ratios of the previous step lengths to this one; a non-positive or non-finite ratio ends the usable history.
        double r0 = 0, r1 = 0;
        int used = 0;
        if (available > 0 && double.IsFinite(h) && h > 0)
        {
            r0 = (from.LogSnr - schedule[index - 1].LogSnr) / h;
            if (r0 > 0 && double.IsFinite(r0))
            {
                used = 1;
                if (available > 1)
                {
                    r1 = (schedule[index - 1].LogSnr - schedule[index - 2].LogSnr) / h;
                    if (r1 > 0 && double.IsFinite(r1)) used = 2;
                }
            }
        }
        double phi2 = used > 0 ? 1 - phi1 / bigH : 0;
        double c0 = ofD, c1 = 0, c2 = 0;
        if (used == 1)
        {
            double k = to.Alpha * phi2 / r0;
            c0 += k; c1 -= k;
        }
        else if (used == 2)
        {
            double phi3 = phi2 / bigH - 0.5, q = r0 / (r0 + r1);
            // phi_2 d_1 - phi_3 d_2 = a d1_0 + b d1_1 with d1_0 = (D0 - D1)/r0, d1_1 = (D1 - D2)/r1.
            double a = to.Alpha * (phi2 * (1 + q) - phi3 / (r0 + r1)), b = to.Alpha * (-phi2 * q + phi3 / (r0 + r1));
            c0 += a / r0; c1 += -a / r0 + b / r1; c2 += -b / r1;
        }
        // x' = ofX x + c0 D_0 + c1 D_1 + c2 D_2 (+ noise z), with D_0 = x0hat the history entry just written.
        var update = ofX * x + c0 * d0;
        if (used > 0) update += c1 * history[index - 1];
        if (used > 1) update += c2 * history[index - 2];
        if (noise > 0)
        {
            var z = state.Buffer(NoiseBuffer);
            state.DrawNoise(index, from.SigmaOverAlpha, to.SigmaOverAlpha, z);
            update += noise * z;
        }
        // One pass when the update reads x, D_0 and at most one other tensor, else two.
        state.Set(d0, d, x, update);
    }
}
