using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// The linear multistep method (LMS, Adams–Bashforth on non-uniform steps) on the probability-flow ODE in the variance-exploding
/// coordinates, as discussed by Karras, Aittala, Aila and Laine (2022, "Elucidating the Design Space of Diffusion-Based Generative
/// Models", section 3 and appendix D.1) and used by k-diffusion's <c>sample_lms</c> and diffusers' <c>LMSDiscreteScheduler</c>.
/// </summary>
/// <remarks>
/// <para>With <c>s = sigma / alpha</c>, <c>x_ve = x / alpha</c> and the slope <c>d = dx_ve/ds = (x_ve - x0hat) / s = epshat</c>,
/// the step from <c>s_i</c> to <c>s_{i+1}</c> of order <c>q</c> is
/// <c>x_ve' = x_ve + sum_{j=0}^{q-1} c_j d_{i-j}</c>, <c>c_j = integral_{s_i}^{s_{i+1}} L_j(tau) d tau</c>, where <c>L_j</c> is
/// the Lagrange basis polynomial on the nodes <c>s_i, s_{i-1}, ..., s_{i-q+1}</c> that is 1 at <c>s_{i-j}</c>.
/// In path coordinates <c>x' = (alpha'/alpha) x + alpha' sum_j c_j epshat_{i-j}</c>.</para>
/// <para>The integrals are exact: each <c>L_j</c> is expanded as a polynomial in <c>u = tau - s_i</c> and integrated term by term
/// over <c>[0, s_{i+1} - s_i]</c> (the peers use adaptive quadrature, which is exact to rounding for these cubics).</para>
/// <para>Order <c>q = min(order, i + 1)</c> (the peers' warm-up); nodes with <c>alpha = 0</c> (infinite <c>s</c>) or repeating
/// an earlier node are left out, which lowers the order (an infinite node's basis polynomial vanishes in the limit). Order 1 is
/// the DDIM/Euler step. By default a step to <c>sigma = 0</c> integrates the interpolant down to <c>s = 0</c> as both peers do (finite,
/// no division by zero): at higher order it adds the polynomial's correction to <c>alpha' x0hat</c> (about 5e-3 on the shared
/// k-diffusion case), so reproducing the peers needs it. With <see cref="DenoisedFinalStep"/> the last step returns <c>alpha' x0hat</c>
/// instead, as the library's other samplers do.</para>
/// <para>History: <c>epshat</c> of each step in the state's four-slot ring <c>(lms, slope)</c> (<see cref="SamplerState{T}.History(string, string, int)"/>);
/// a reset, a jump or another sampler's steps in between restart the warm-up at first order.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class LmsSampler : Sampler
{
    /// <summary>LMS of the given order.</summary>
    /// <param name="order">The order, 1 to 4 (k-diffusion and diffusers default to 4).</param>
    /// <param name="denoisedFinalStep">Return <c>alpha' x0hat</c> on a step to <c>sigma = 0</c> instead of the multistep rule (the peers' choice).</param>
    public LmsSampler(int order = 4, bool denoisedFinalStep = false)
    {
        DenoisedFinalStep = denoisedFinalStep;
        if (order is < 1 or > MaxOrder)
            throw new ArgumentOutOfRangeException(nameof(order), order, $"The LMS order must lie in [1, {MaxOrder}].");
        Order = order;
    }

    /// <summary>The highest order used.</summary>
    public int Order { get; }

    /// <summary>Whether a step to <c>sigma = 0</c> returns <c>alpha' x0hat</c> (true) or follows the multistep rule to <c>s = 0</c> (false, as the peers).</summary>
    public bool DenoisedFinalStep { get; }

    // The highest order, and the capacity of the slope history (this step's slope and up to three earlier ones).
    private const int MaxOrder = 4;

    // What the history entries hold (with the sampler's name, the tag that keeps another sampler's history out).
    private const string HistoryQuantity = "slope";

    /// <inheritdoc/>
    public override string Name => "lms";

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
        if (to.Sigma == 0 && DenoisedFinalStep)
        {
            // x' = alpha' x0hat. The slope is not needed (the next step, if any, starts from a clean point), so it is neither formed
            // (at a tiny sigma it would overflow) nor recorded.
            state.Set(x, to.Alpha * d);
            return;
        }
        var ring = state.History(Name, HistoryQuantity, MaxOrder);
        // Earlier slopes usable: at most order - 1, and at most the ring's capacity - 1 (the entry of this step takes the last slot).
        int available = Math.Min(Math.Min(Order - 1, ring.Available(index)), MaxOrder - 1);
        var current = ring[index];
        // The slope epshat = (x - alpha x0hat) / sigma, stored as this step's entry.
        state.Set(current, d.Eps);
        ring.Record(index);

        if (from.Alpha == 0)
        {
            // Zero terminal SNR: s is infinite; the first-order step x' = alpha' x0hat + sigma' epshat.
            state.Set(x, to.Alpha * d + to.Sigma * current);
            return;
        }

        Span<double> nodes = stackalloc double[MaxOrder];
        Span<int> steps = stackalloc int[MaxOrder];
        nodes[0] = from.SigmaOverAlpha;
        steps[0] = index;
        int q = 1;
        for (int j = 1; j <= available; j++)
        {
            var p = schedule[index - j];
            if (p.Alpha == 0) break; // an infinite node and everything before it drop out
            double s = p.SigmaOverAlpha;
            if (nodes[..q].Contains(s)) break; // a repeated node carries no new slope information
            nodes[q] = s;
            steps[q] = index - j;
            q++;
        }

        Span<double> c = stackalloc double[MaxOrder];
        double target = to.Alpha == 0 ? double.PositiveInfinity : to.SigmaOverAlpha;
        if (double.IsInfinity(target))
            throw new InvalidOperationException($"Step {index}: LMS cannot step to a point with alpha = 0 (model time {to.ModelTime}); schedules run from noise to data.");
        LagrangeIntegrals(nodes[..q], nodes[0], target, c[..q]);
        if (!AllFinite(c[..q])) ScaledLagrangeIntegrals(nodes[..q], nodes[0], target, c[..q]);

        // x' = (alpha'/alpha) x + alpha' sum_j c_j epshat_{i-j}.
        double a = to.Alpha;
        var update = (to.Alpha / from.Alpha) * x + (a * c[0]) * current;
        for (int j = 1; j < q; j++) update += (a * c[j]) * ring[steps[j]];
        state.Set(x, update);
    }

    private static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (double v in values) if (!double.IsFinite(v)) return false;
        return true;
    }

    /// <summary>
    /// <see cref="LagrangeIntegrals"/> in the coordinate <c>v = (tau - a) / (b - a)</c>, where the node differences are of order one:
    /// the weights are scale-invariant up to the factor <c>b - a</c>, and this form does not underflow when the nodes are tiny
    /// (the products of node differences in the plain form can reach <c>1e-372</c>). Used when the plain form is not finite.
    /// </summary>
    internal static void ScaledLagrangeIntegrals(ReadOnlySpan<double> nodes, double a, double b, Span<double> weights)
    {
        double h = b - a;
        Span<double> scaled = stackalloc double[MaxOrder];
        for (int j = 0; j < nodes.Length; j++) scaled[j] = (nodes[j] - a) / h;
        LagrangeIntegrals(scaled[..nodes.Length], 0, 1, weights);
        for (int j = 0; j < nodes.Length; j++) weights[j] *= h;
    }

    /// <summary>
    /// <c>weights[j] = integral_a^b L_j(tau) d tau</c> for the Lagrange basis on <paramref name="nodes"/> (distinct, at most four),
    /// exactly: each basis polynomial is expanded in <c>u = tau - a</c> and its monomials integrated over <c>[0, b - a]</c>.
    /// </summary>
    internal static void LagrangeIntegrals(ReadOnlySpan<double> nodes, double a, double b, Span<double> weights)
    {
        int q = nodes.Length;
        double h = b - a;
        Span<double> poly = stackalloc double[MaxOrder];
        for (int j = 0; j < q; j++)
        {
            // prod_{k != j} (u - (s_k - a)) / (s_j - s_k), built up one factor at a time (poly[n] is the coefficient of u^n).
            poly.Clear();
            poly[0] = 1;
            int degree = 0;
            double denominator = 1;
            for (int k = 0; k < q; k++)
            {
                if (k == j) continue;
                double root = nodes[k] - a;
                for (int n = degree + 1; n >= 1; n--) poly[n] = poly[n - 1] - root * poly[n];
                poly[0] = -root * poly[0];
                degree++;
                denominator *= nodes[j] - nodes[k];
            }
            // integral_0^h sum_n poly[n] u^n du = sum_n poly[n] h^(n+1) / (n+1), by Horner's rule.
            double integral = 0;
            for (int n = degree; n >= 0; n--) integral = integral * h + poly[n] / (n + 1);
            weights[j] = integral * h / denominator;
        }
    }
}
