using System.Numerics;
using GenerativePaths.Schedules;

namespace GenerativePaths.Samplers;

/// <summary>
/// DEIS, the diffusion exponential integrator sampler (Zhang and Chen 2022, "Fast Sampling of Diffusion Models with Exponential
/// Integrator", arXiv 2204.13902, section 4, the <c>rho</c>AB-DEIS variant with polynomials in <c>log rho</c>): a multistep
/// method of orders 1 to 3 on the probability-flow ODE in the variance-exploding coordinates (diffusers'
/// <c>DEISMultistepScheduler</c>, <c>algorithm_type="deis"</c>).
/// </summary>
/// <remarks>
/// <para>With <c>rho = sigma / alpha</c> and <c>y = x / alpha</c>, the probability-flow ODE is <c>dy / drho = eps(y, rho)</c>. DEIS
/// interpolates the noise estimates <c>eps_k</c> of the current and the last <c>q - 1</c> points by a polynomial in
/// <c>log rho</c> and integrates it exactly:</para>
/// <para><c>x' = alpha' (x / alpha + sum_{j&lt;q} c_j eps_{i-j})</c>, <c>c_j = integral_{rho_i}^{rho'} L_j(log r) dr</c>,
/// <c>L_j(l) = prod_{k != j} (l - l_{i-k}) / (l_{i-j} - l_{i-k})</c>, <c>l_k = log rho_k</c>,</para>
/// <para>using <c>integral l^0 dr = r</c>, <c>integral l dr = r (l - 1)</c>, <c>integral l^2 dr = r (l^2 - 2 l + 2)</c> (with <c>l = log r</c>).
/// Order 1 is DDIM. Orders as diffusers: <c>min(solverOrder, steps taken + 1)</c>, and with <see cref="LowerOrderFinal"/> on
/// schedules of fewer than 15 steps first order on the last step and at most second order on the one before. A step to
/// <c>sigma' = 0</c> returns <c>alpha' x0hat</c>; a step from <c>alpha = 0</c> is DDIM's first-order step in data prediction;
/// history points at infinite <c>rho</c> or repeating a node lower the order.</para>
/// <para>History: the noise estimates in the state's three-slot ring <c>(deis, eps)</c> (<see cref="SamplerState{T}.History(string, string, int)"/>):
/// a reset, a jump or another sampler's steps in between restart the warm-up at first order.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DeisSampler : Sampler
{
    /// <summary>DEIS of order <paramref name="solverOrder"/>.</summary>
    /// <param name="solverOrder">1, 2 or 3 (diffusers' <c>solver_order</c>, default 2).</param>
    /// <param name="lowerOrderFinal">Lower the order on the last two steps of schedules of fewer than 15 steps.</param>
    public DeisSampler(int solverOrder = 2, bool lowerOrderFinal = true)
    {
        if (solverOrder is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(solverOrder), solverOrder, "The DEIS order must be 1, 2 or 3.");
        SolverOrder = solverOrder;
        LowerOrderFinal = lowerOrderFinal;
    }

    /// <summary>The highest order.</summary>
    public int SolverOrder { get; }

    /// <summary>Whether the last steps of a short schedule are of lower order.</summary>
    public bool LowerOrderFinal { get; }

    /// <inheritdoc/>
    public override string Name => "deis";

    // What the history entries hold (with the sampler's name, the tag that keeps another sampler's history out), and the ring's
    // capacity: this step's noise estimate and up to two earlier ones (order 3).
    private const string HistoryQuantity = "eps";
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
        if (to.Sigma == 0 || from.Alpha == 0)
        {
            // The limit rho' -> 0 of the first-order step is alpha' x0hat; from alpha = 0 (rho infinite) the first-order step in
            // data prediction, x' = (sigma'/sigma) x + (alpha' - sigma' alpha / sigma) x0hat. No entry is recorded (the next step
            // starts without history).
            var (ox, od) = DeterministicMove(from, to);
            state.Set(x, ox * x + od * d);
            return;
        }
        var ring = state.History(Name, HistoryQuantity, HistoryCapacity);
        int history = Math.Min(Math.Min(SolverOrder - 1, ring.Available(index)), HistoryCapacity - 1);
        var e0 = ring[index];
        state.Set(e0, d.Eps); // eps_i = (x - alpha x0hat) / sigma, this step's history entry
        ring.Record(index);

        int n = schedule.StepCount;
        int order = Math.Min(SolverOrder, history + 1);
        if (LowerOrderFinal && n < 15)
        {
            if (index == n - 1) order = 1;
            else if (index == n - 2) order = Math.Min(order, 2);
        }
        Span<double> l = stackalloc double[3];
        l[0] = Math.Log(from.SigmaOverAlpha);
        int q = 1;
        while (q < order)
        {
            var p = schedule[index - q];
            double lk = p.Alpha == 0 ? double.PositiveInfinity : Math.Log(p.SigmaOverAlpha);
            if (!double.IsFinite(lk) || l[..q].Contains(lk)) break;
            l[q++] = lk;
        }
        double rho0 = from.SigmaOverAlpha, rho1 = to.SigmaOverAlpha;
        Span<double> c = stackalloc double[3];
        for (int j = 0; j < q; j++) c[j] = to.Alpha * BasisIntegral(l[..q], j, rho0, rho1);
        // x' = (alpha'/alpha) x + alpha' sum_j c_j eps_{i-j} (alpha' already in c_j).
        var update = (to.Alpha / from.Alpha) * x + c[0] * e0;
        for (int j = 1; j < q; j++) update += c[j] * ring[index - j];
        state.Set(x, update);
    }

    /// <summary><c>integral_{a}^{b} L_j(log r) dr</c> for the Lagrange basis on the nodes <paramref name="nodes"/> (at most 3) in <c>log r</c>.</summary>
    internal static double BasisIntegral(ReadOnlySpan<double> nodes, int j, double a, double b)
    {
        // Numerator prod_{k != j} (l - l_k) = c0 + c1 l + c2 l^2; denominator prod_{k != j} (l_j - l_k).
        double c0 = 1, c1 = 0, c2 = 0, denominator = 1;
        for (int k = 0; k < nodes.Length; k++)
        {
            if (k == j) continue;
            double lk = nodes[k];
            c2 = c1 - lk * c2;
            c1 = c0 - lk * c1;
            c0 = -lk * c0;
            denominator *= nodes[j] - lk;
        }
        return (Antiderivative(b, c0, c1, c2) - Antiderivative(a, c0, c1, c2)) / denominator;
    }

    // r (c0 + c1 (l - 1) + c2 (l^2 - 2 l + 2)) with l = log r; its limit at r = 0 is 0.
    private static double Antiderivative(double r, double c0, double c1, double c2)
    {
        if (r == 0) return 0;
        double l = Math.Log(r);
        return r * (c0 + c1 * (l - 1) + c2 * (l * l - 2 * l + 2));
    }
}
