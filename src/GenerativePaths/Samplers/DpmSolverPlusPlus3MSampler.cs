using System.Numerics;
using GenerativePaths.Schedules;

namespace GenerativePaths.Samplers;

/// <summary>The weight of the second-difference term of DPM-Solver++(3M).</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
public enum DpmSolverThirdOrderWeight
{
    /// <summary>diffusers' and k-diffusion's <c>-(e^{-h} - 1 + h)/h^2 + 1/2</c> (about <c>h/6</c>): reproduces their samples; the method then
    /// converges at order 2 (the weight is half the Taylor one).</summary>
    Peer,

    /// <summary>The exact integral <c>(h^2 - 2h + 2 - 2 e^{-h}) / h^2</c> (about <c>h/3</c>) of the quadratic term: order 3.</summary>
    Taylor,
}

/// <summary>
/// DPM-Solver++(3M) (Lu, Zhou, Bao, Chen, Li and Zhu 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
/// Models", arXiv 2211.01095, section 4 and appendix): the third-order multistep solver of the probability-flow ODE in data
/// prediction (diffusers' <c>DPMSolverMultistepScheduler</c> with <c>solver_order=3</c>), warming up through orders 1 and 2.
/// </summary>
/// <remarks>
/// <para>With <c>lambda = log(alpha / sigma)</c>, the current point <c>s0</c> and the two before it <c>s1, s2</c>, the next point
/// <c>t</c>: <c>h = lambda_t - lambda_s0</c>, <c>r0 = (lambda_s0 - lambda_s1) / h</c>, <c>r1 = (lambda_s1 - lambda_s2) / h</c>,
/// <c>m_k</c> the denoised estimates, <c>D1_0 = (m0 - m1) / r0</c>, <c>D1_1 = (m1 - m2) / r1</c>,
/// <c>D1 = D1_0 + r0 / (r0 + r1) (D1_0 - D1_1)</c>, <c>D2 = (D1_0 - D1_1) / (r0 + r1)</c>, and</para>
/// <para><c>x_t = (sigma_t / sigma_s0) x + alpha_t (1 - e^{-h}) m0 + alpha_t ((e^{-h} - 1)/h + 1) D1 - alpha_t ((e^{-h} - 1 + h)/h^2 - 1/2) D2</c>,</para>
/// <para>the exponential integrator of <c>dx/dlambda</c> with <c>x0hat</c> expanded to second order in <c>lambda</c>. The weight of <c>D2</c> is
/// diffusers' (<see cref="DpmSolverThirdOrderWeight.Peer"/>, the default, matching its reference case). Since <c>D2 ~ h^2 x0hat''/2</c>, the
/// exact weight is <c>integral_0^h e^{u-h} u^2 du / h^2 = (h^2 - 2h + 2 - 2e^{-h})/h^2 ~ h/3</c>, twice the peer's <c>~ h/6</c>, so with the
/// peer's weight the method converges at order 2 (measured in the tests); <see cref="DpmSolverThirdOrderWeight.Taylor"/> uses the exact
/// weight and converges at order 3. Orders as
/// diffusers: <c>min(3, steps taken + 1)</c>; first order on a step to <c>sigma = 0</c> (where it returns <c>alpha' x0hat</c>), and with
/// <see cref="LowerOrderFinal"/> on schedules of fewer than 15 steps first order on the last step and at most second order on the one
/// before. The second-order step is <see cref="DpmSolverPlusPlus2MSampler"/>'s (midpoint or Heun form). A history point at an
/// infinite or zero log-SNR distance lowers the order.</para>
/// <para>History: the denoised estimates in the state's three-slot ring <c>(dpmpp_3m, denoised)</c> (<c>dpmpp_3m_taylor</c> with the exact
/// weight; <see cref="SamplerState{T}.History(string, string, int)"/>): a reset, a jump or another sampler's steps in between restart the
/// warm-up at first order.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolverPlusPlus3MSampler : Sampler
{
    /// <summary>DPM-Solver++(3M).</summary>
    /// <param name="secondOrder">The form of the second-order step (used while warming up and near the end).</param>
    /// <param name="lowerOrderFinal">Lower the order on the last two steps of schedules of fewer than 15 steps.</param>
    /// <param name="thirdOrderWeight">The weight of the second difference (the peers' or the exact one).</param>
    public DpmSolverPlusPlus3MSampler(DpmSolverSecondOrder secondOrder = DpmSolverSecondOrder.Midpoint, bool lowerOrderFinal = true, DpmSolverThirdOrderWeight thirdOrderWeight = DpmSolverThirdOrderWeight.Peer)
    {
        if (!Enum.IsDefined(secondOrder)) throw new ArgumentOutOfRangeException(nameof(secondOrder), secondOrder, "Unknown second-order rule.");
        if (!Enum.IsDefined(thirdOrderWeight)) throw new ArgumentOutOfRangeException(nameof(thirdOrderWeight), thirdOrderWeight, "Unknown third-order weight.");
        SecondOrder = secondOrder;
        LowerOrderFinal = lowerOrderFinal;
        ThirdOrderWeight = thirdOrderWeight;
    }

    /// <summary>The weight of the second difference.</summary>
    public DpmSolverThirdOrderWeight ThirdOrderWeight { get; }

    /// <summary>The form of the second-order step.</summary>
    public DpmSolverSecondOrder SecondOrder { get; }

    /// <summary>Whether the last steps of a short schedule are of lower order.</summary>
    public bool LowerOrderFinal { get; }

    /// <inheritdoc/>
    public override string Name => ThirdOrderWeight == DpmSolverThirdOrderWeight.Peer ? "dpmpp_3m" : "dpmpp_3m_taylor";

    // What the history entries hold (with the sampler's name, the tag that keeps another sampler's history out), and the ring's
    // capacity: this step's estimate and the two before it.
    private const string HistoryQuantity = "denoised";
    private const int HistoryCapacity = 3;

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
        var m0 = ring[index];
        ring.Record(index); // m0 is written below, by whichever update the order selects

        int n = schedule.StepCount;
        int order = Math.Min(3, history + 1);
        if (to.Sigma == 0) order = 1;
        if (LowerOrderFinal && n < 15)
        {
            if (index == n - 1) order = 1;
            else if (index == n - 2) order = Math.Min(order, 2);
        }
        double ratio = to.Sigma / from.Sigma;
        // exp(-h) = SNR ratio; between zero-SNR points its limit 1 makes the step x' = (sigma' / sigma) x.
        double expMinusH = to.Alpha == 0 ? 1.0 : from.Alpha * to.Sigma / (to.Alpha * from.Sigma);
        double h = to.LogSnr - from.LogSnr;
        double r0 = order >= 2 ? (from.LogSnr - schedule[index - 1].LogSnr) / h : 0;
        double r1 = order >= 3 ? (schedule[index - 1].LogSnr - schedule[index - 2].LogSnr) / h : 0;
        if (order >= 3 && !(r1 > 0 && double.IsFinite(r1))) order = 2;
        if (order >= 2 && !(r0 > 0 && double.IsFinite(r0) && double.IsFinite(h) && h > 0)) order = 1;

        double ofM0 = to.Alpha * (1 - expMinusH);
        if (order == 1)
        {
            // m0 = x0hat stored as the history entry and x' = (sigma'/sigma) x + alpha' (1 - e^{-h}) m0, in one pass.
            state.Set(m0, d, x, ratio * x + ofM0 * m0);
            return;
        }
        double em1 = Paths.PathMath.ExpM1(-h); // e^{-h} - 1
        var m1 = ring[index - 1];
        if (order == 2)
        {
            // DPM-Solver++(2M): x' = (sigma'/sigma) x + alpha' (1 - e^{-h}) m0 + w (m0 - m1), w the midpoint or Heun weight.
            double ofDiff = SecondOrder == DpmSolverSecondOrder.Midpoint ? ofM0 / (2 * r0) : to.Alpha * (em1 / h + 1) / r0;
            state.Set(m0, d, x, ratio * x + (ofM0 + ofDiff) * m0 - ofDiff * m1);
            return;
        }
        double b = to.Alpha * (em1 / h + 1);                 // coefficient of D1
        double c = ThirdOrderWeight == DpmSolverThirdOrderWeight.Peer
            ? -to.Alpha * ((em1 + h) / (h * h) - 0.5)        // coefficient of D2 (diffusers, k-diffusion)
            : to.Alpha * (h * h - 2 * h - 2 * em1) / (h * h); // the exact integral of the quadratic term
        double q = r0 / (r0 + r1), u = 1 / (r0 + r1);
        // D1 = D1_0 + q (D1_0 - D1_1) and D2 = u (D1_0 - D1_1), with D1_0 = (m0 - m1) / r0 and
        // D1_0 - D1_1 = (1/r0) m0 - (1/r0 + 1/r1) m1 + (1/r1) m2; collected per estimate:
        double d0 = 1 / r0, d1 = -1 / r0 - 1 / r1, d2 = 1 / r1;
        double c0 = ofM0 + b * (1 / r0 + q * d0) + c * u * d0;
        double c1 = b * (-1 / r0 + q * d1) + c * u * d1;
        double c2 = b * (q * d2) + c * u * d2;
        // x' = (sigma'/sigma) x + c0 m0 + c1 m1 + c2 m2 (m0 stored first: the update reads three history entries, two passes).
        state.Set(m0, d, x, ratio * x + c0 * m0 + c1 * m1 + c2 * ring[index - 2]);
    }
}
