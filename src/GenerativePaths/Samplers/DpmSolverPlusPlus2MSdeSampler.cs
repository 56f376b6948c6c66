using System.Numerics;
using GenerativePaths.Noise;

namespace GenerativePaths.Samplers;

/// <summary>
/// DPM-Solver++(2M) SDE (Lu, Zhou, Bao, Chen, Li and Zhu 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
/// Models", section 5 / appendix, the second-order multistep solver of the reverse SDE in data prediction): k-diffusion's
/// <c>sample_dpmpp_2m_sde</c> and diffusers' <c>DPMSolverMultistepScheduler</c> with <c>algorithm_type="sde-dpmsolver++"</c>, order 2.
/// </summary>
/// <remarks>
/// <para>With <c>lambda = log(alpha / sigma)</c>, <c>h = lambda' - lambda</c>, <c>e^{-h} = (alpha sigma') / (alpha' sigma)</c> and
/// <c>H = (1 + eta) h</c>, the first-order step is
/// <c>x' = (sigma'/sigma) e^{-eta h} x + alpha' (1 - e^{-H}) x0hat + s_noise sigma' sqrt(1 - e^{-2 eta h}) z</c>
/// (for <c>alpha = 1</c>, k-diffusion's form; <c>eta = 1</c> is the SDE of Lu et al., <c>eta = 0</c> DPM-Solver++(2M)'s ODE step).
/// With the previous estimate <c>x0hat_prev</c> and <c>r = h_prev / h</c> the second-order term adds
/// midpoint: <c>alpha' (1 - e^{-H}) (x0hat - x0hat_prev) / (2 r)</c>; Heun: <c>alpha' ((1 - e^{-H}) / (-H) + 1) (x0hat - x0hat_prev) / r</c>.</para>
/// <para>The noise <c>z</c> of step <c>i</c> is drawn for the interval <c>(sigma/alpha, sigma'/alpha')</c> and stream <c>i</c>
/// (<see cref="SamplerState{T}.DrawNoise(long, double, double, Tensors.BatchTensor{T})"/>); give a <see cref="BrownianNoise"/> for
/// k-diffusion's default Brownian-tree noise (strong convergence as the steps are refined), or any noise source. No noise is drawn when
/// <c>eta = 0</c> or <c>s_noise = 0</c>. A step to <c>sigma' = 0</c> returns <c>alpha' x0hat</c>; the first step, a step after
/// another sampler's history, a zero-length previous step and a step from <c>alpha = 0</c> (where <c>e^{-h} = 0</c>) are first order, and
/// with <see cref="LowerOrderFinal"/> the last step of a schedule of fewer than 15 steps (diffusers' rule).</para>
/// <para>History: the denoised estimate of each step in the two-slot history ring <c>(dpmpp_2m_sde, denoised)</c> of the state
/// (<see cref="SamplerState{T}.History(string, string, int)"/>), entry of step <c>i</c> in slot <c>i mod 2</c>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolverPlusPlus2MSdeSampler : Sampler
{
    private const string HistoryQuantity = "denoised";

    /// <summary>DPM-Solver++(2M) SDE.</summary>
    /// <param name="eta">The noise level (0 = the ODE step, 1 = the SDE of Lu et al.); finite and non-negative.</param>
    /// <param name="sNoise">Scale of the added noise (<c>s_noise</c>); finite and non-negative.</param>
    /// <param name="secondOrder">The second-order correction (k-diffusion's and diffusers' <c>solver_type</c>).</param>
    /// <param name="lowerOrderFinal">First order on the last step of schedules of fewer than 15 steps (diffusers' <c>lower_order_final</c>;
    /// k-diffusion: false).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is negative, not finite, or not a defined rule.</exception>
    public DpmSolverPlusPlus2MSdeSampler(double eta = 1.0, double sNoise = 1.0, DpmSolverSecondOrder secondOrder = DpmSolverSecondOrder.Midpoint, bool lowerOrderFinal = false)
    {
        LowerOrderFinal = lowerOrderFinal;
        if (!(eta >= 0) || double.IsInfinity(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be finite and non-negative.");
        if (!(sNoise >= 0) || double.IsInfinity(sNoise)) throw new ArgumentOutOfRangeException(nameof(sNoise), sNoise, "s_noise must be finite and non-negative.");
        if (!Enum.IsDefined(secondOrder)) throw new ArgumentOutOfRangeException(nameof(secondOrder), secondOrder, "Unknown second-order rule.");
        Eta = eta;
        SNoise = sNoise;
        SecondOrder = secondOrder;
    }

    /// <summary>The noise level.</summary>
    public double Eta { get; }

    /// <summary>The noise scale.</summary>
    public double SNoise { get; }

    /// <summary>The form of the second-order correction.</summary>
    public DpmSolverSecondOrder SecondOrder { get; }

    /// <summary>Whether the last step of a schedule of fewer than 15 steps is first order (diffusers' rule).</summary>
    public bool LowerOrderFinal { get; }

    /// <inheritdoc/>
    public override string Name => "dpmpp_2m_sde";

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
        if (to.Sigma == 0)
        {
            // The estimate stored as the history entry and x' = alpha' x0hat, in one pass.
            state.Set(current, d, x, to.Alpha * current);
            return;
        }
        // e^{-h} as the SNR ratio: exact at alpha = 0 (0) and between zero-SNR points (1, the step x' = (sigma'/sigma) x).
        double expMinusH = to.Alpha == 0 ? 1.0 : from.Alpha * to.Sigma / (to.Alpha * from.Sigma);
        double expMinusEtaH = Math.Pow(expMinusH, Eta);
        double h = from.LogSnr is var l && double.IsFinite(l) ? to.LogSnr - l : double.PositiveInfinity;
        double bigH = (1 + Eta) * h;
        double phi1 = double.IsFinite(bigH) ? -double.ExpM1(-bigH) : 1 - expMinusH * expMinusEtaH;
        double ofX = to.Sigma / from.Sigma * expMinusEtaH, ofD = to.Alpha * phi1;
        double noise = SNoise * to.Sigma * Math.Sqrt(Math.Max(0, 1 - expMinusEtaH * expMinusEtaH));

        double ofDiff = 0;
        bool lowered = LowerOrderFinal && index == schedule.StepCount - 1 && schedule.StepCount < 15;
        if (hasPrevious && !lowered && double.IsFinite(h) && h > 0)
        {
            double r = (from.LogSnr - schedule[index - 1].LogSnr) / h;
            if (r > 0 && double.IsFinite(r))
                ofDiff = SecondOrder == DpmSolverSecondOrder.Midpoint ? 0.5 * ofD / r : to.Alpha * (1 - phi1 / bigH) / r;
        }
        // x' = ofX x + ofD x0hat (+ ofDiff (x0hat - x0hat_prev)) (+ noise z), with x0hat the history entry just written.
        var update = ofX * x + (ofD + ofDiff) * current;
        if (ofDiff != 0) update -= ofDiff * history[index - 1];
        if (noise > 0)
        {
            var z = state.Buffer(NoiseBuffer);
            state.DrawNoise(index, from.SigmaOverAlpha, to.SigmaOverAlpha, z);
            update += noise * z;
        }
        // One pass when the update reads x, the entry and at most one other tensor (the previous entry or the noise), else two.
        state.Set(current, d, x, update);
    }
}
