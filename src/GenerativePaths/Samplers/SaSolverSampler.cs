using System.Numerics;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

/// <summary>
/// SA-Solver, the stochastic Adams solver of Xue, Yi, Zhu, Zhang, Zhou, Ma and Li (2023, "SA-Solver: Stochastic Adams Solver for Fast
/// Sampling of Diffusion Models", NeurIPS, Algorithm 1 with the data-prediction coefficients of section 4): a stochastic
/// Adams–Bashforth predictor and Adams–Moulton corrector of the variance-controlled diffusion SDE (diffusers' <c>SASolverScheduler</c>,
/// <c>algorithm_type="data_prediction"</c>).
/// </summary>
/// <remarks>
/// <para>With <c>lambda = log(alpha / sigma)</c>, the step from <c>s</c> to <c>t</c>, <c>h = lambda_t - lambda_s</c>, the noise level
/// <c>tau</c> (a function of the model time of <c>s</c>), <c>c = 1 + tau^2</c> and the denoised estimates <c>m_k</c> at the nodes
/// <c>lambda_k</c>, the SDE's solution with <c>x0hat</c> replaced by its Lagrange interpolant <c>sum_k l_k(lambda) m_k</c> is</para>
/// <para><c>x_t = e^{-tau^2 h} (sigma_t / sigma_s) x_s + c alpha_t sum_k b_k m_k + sigma_t sqrt(1 - e^{-2 tau^2 h}) z</c>,
/// <c>b_k = integral_{-h}^{0} e^{c u} l_k(lambda_t + u) du</c>,</para>
/// <para>with <c>J_0 = (1 - e^{-c h}) / c</c>, <c>J_n = -(-h)^n e^{-c h} / c - (n / c) J_{n-1}</c> for <c>J_n = integral_{-h}^0 e^{c u} u^n du</c>.
/// The predictor (order <c>p</c>) uses the nodes of the current and <c>p - 1</c> earlier points; the corrector (order <c>q</c>), taken
/// at the next step once the model has been called at the predicted point, redoes the previous step with the nodes of the new point
/// and <c>q - 1</c> earlier ones, the same <c>tau</c> and the same noise <c>z</c>; the model output at the uncorrected point is kept.
/// At order 2 diffusers adds <c>(h^2/2 - (c h - 1 + e^{-c h})/c^2) / (lambda_s - lambda_{s-1})</c> (predictor) and
/// <c>h/2 - (c h - 1 + e^{-c h})/(c^2 h)</c> (corrector) to <c>b_0</c> and subtracts it from <c>b_1</c>; so does this sampler.</para>
/// <para>Orders as diffusers: predictor <c>min(p, i + 1)</c>, corrector <c>min(q, i + 1)</c> and with <see cref="LowerOrderFinal"/> at most
/// <c>N - i</c> and <c>N - i + 2</c>. Noise (stream = step index) is drawn on every step, as diffusers does. A step to <c>sigma' = 0</c>
/// returns <c>alpha' m_i</c> (after the correction); nodes at infinite or repeated log-SNR lower the order.</para>
/// <para>History: the denoised estimates in the three-slot history ring <c>(sa_solver, denoised)</c> of the state
/// (<see cref="SamplerState{T}.History(string, string, int)"/>), the previous sample and the previous noise in the state's buffers
/// <c>sa_solver_last_x</c> and <c>sa_solver_noise</c> (<see cref="SamplerState{T}.Buffer(string)"/>).</para>
/// <para>Thread safety: immutable (it holds only its options; the tau function must be pure); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class SaSolverSampler : Sampler
{
    // What the history entries hold, and the buffers that carry the predictor's start and noise to the next step's corrector.
    private const string HistoryQuantity = "denoised";
    private const string LastSampleBuffer = "sa_solver_last_x";
    private const string LastNoiseBuffer = "sa_solver_noise";

    private readonly Func<double, double> _tau;

    /// <summary>SA-Solver.</summary>
    /// <param name="predictorOrder">1 to 3 (diffusers' <c>predictor_order</c>, default 2).</param>
    /// <param name="correctorOrder">1 to 3 (diffusers' <c>corrector_order</c>, default 2).</param>
    /// <param name="tau">The noise level as a function of the model time (default <see cref="DiffusersTau"/>); must return finite non-negative values.</param>
    /// <param name="lowerOrderFinal">Lower the orders on the last steps.</param>
    public SaSolverSampler(int predictorOrder = 2, int correctorOrder = 2, Func<double, double>? tau = null, bool lowerOrderFinal = true)
    {
        if (predictorOrder is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(predictorOrder), predictorOrder, "The SA-Solver predictor order must be 1, 2 or 3.");
        if (correctorOrder is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(correctorOrder), correctorOrder, "The SA-Solver corrector order must be 1, 2 or 3.");
        PredictorOrder = predictorOrder;
        CorrectorOrder = correctorOrder;
        _tau = tau ?? DiffusersTau;
        LowerOrderFinal = lowerOrderFinal;
    }

    /// <summary>diffusers' default <c>tau_func</c>: 1 for model times in <c>[200, 800]</c>, else 0.</summary>
    public static double DiffusersTau(double modelTime) => modelTime >= 200 && modelTime <= 800 ? 1.0 : 0.0;

    /// <summary>The predictor order.</summary>
    public int PredictorOrder { get; }

    /// <summary>The corrector order.</summary>
    public int CorrectorOrder { get; }

    /// <summary>Whether the orders are lowered on the last steps.</summary>
    public bool LowerOrderFinal { get; }

    /// <inheritdoc/>
    public override string Name => "sa_solver";

    /// <summary>The noise level at a model time.</summary>
    /// <exception cref="InvalidOperationException">The tau function returned a negative or non-finite value.</exception>
    public double Tau(double modelTime)
    {
        double t = _tau(modelTime);
        if (!(t >= 0) || double.IsInfinity(t)) throw new InvalidOperationException($"SA-Solver: tau({modelTime}) = {t} is not finite and non-negative.");
        return t;
    }

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
        // Three slots: m_i and the estimates of the two steps before it (the most any predictor or corrector reads).
        var ring = state.History(Name, HistoryQuantity, 3);
        int history = Math.Min(ring.Available(index), 2);
        var m = ring[index];
        ring.Record(index);
        state.Set(m, d);
        int n = schedule.StepCount;
        var last = state.Buffer(LastSampleBuffer);
        var noise = state.Buffer(LastNoiseBuffer);
        if (history > 0)
        {
            // Correct x_i, reached by the previous predictor, from x_{i-1} with the nodes i, i-1, ... and the previous noise.
            int q = Math.Min(CorrectorOrder, index + 1);
            if (LowerOrderFinal) q = Math.Min(q, n - (index - 1) + 1);
            q = Math.Min(q, history + 1);
            Update(state, ring, index - 1, index, q, corrector: true, last, noise, x);
        }
        if (to.Sigma == 0)
        {
            state.Set(x, to.Alpha * m);
            return;
        }
        state.Set(last, x);
        state.DrawNoise(index, noise);
        int p = Math.Min(PredictorOrder, index + 1);
        if (LowerOrderFinal) p = Math.Min(p, n - index);
        p = Math.Min(p, history + 1);
        Update(state, ring, index, index, p, corrector: false, last, noise, x);
    }

    /// <summary>The step from point <paramref name="s"/> to <c>s + 1</c> with the nodes <c>newest, newest - 1, ...</c> (<paramref name="order"/> of them).</summary>
    private void Update<T>(SamplerState<T> state, HistoryRing<T> ring, int s, int newest, int order, bool corrector, BatchTensor<T> source, BatchTensor<T> noise, BatchTensor<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var schedule = state.Schedule;
        var from = schedule[s];
        var to = schedule[s + 1];
        if (to.Alpha == 0)
        {
            // Between zero-SNR points (alpha' = 0, hence alpha = 0) x is pure noise at both ends: x' = (sigma'/sigma) x.
            state.Set(destination, (to.Sigma / from.Sigma) * source);
            return;
        }
        double tau = Tau(from.ModelTime);
        double c = 1 + tau * tau;
        double lambdaT = to.LogSnr, h = lambdaT - from.LogSnr;
        // Nodes u_k = lambda_{newest - k} - lambda_t (finite and distinct), at most `order`.
        Span<double> u = stackalloc double[3];
        int q = 0;
        if (double.IsFinite(h) && h > 0)
            while (q < order)
            {
                double uk = schedule[newest - q].LogSnr - lambdaT;
                if (!double.IsFinite(uk) || u[..q].Contains(uk)) break;
                u[q++] = uk;
            }
        double decay = tau == 0 ? 1.0 : Math.Exp(-tau * tau * h);
        double ofSource = decay * to.Sigma / from.Sigma;
        double ofNoise = tau == 0 ? 0.0 : to.Sigma * Math.Sqrt(Math.Max(0, -Paths.PathMath.ExpM1(-2 * tau * tau * h)));
        double expMinusCh = Math.Exp(-c * h);
        Span<double> j = stackalloc double[3];
        j[0] = -Paths.PathMath.ExpM1(-c * h) / c;
        double power = 1;
        for (int k = 1; k < 3; k++)
        {
            power *= -h;
            j[k] = double.IsFinite(h) ? -power * expMinusCh / c - k / c * j[k - 1] : -k / c * j[k - 1];
        }
        Span<double> b = stackalloc double[3];
        if (q == 0) { q = 1; b[0] = j[0]; }
        else
            for (int i = 0; i < q; i++)
            {
                // l_i(u) = prod_{k != i} (u - u_k) / (u_i - u_k) = a0 + a1 u + a2 u^2.
                double a0 = 1, a1 = 0, a2 = 0, den = 1;
                for (int k = 0; k < q; k++)
                {
                    if (k == i) continue;
                    a2 = a1 - u[k] * a2;
                    a1 = a0 - u[k] * a1;
                    a0 = -u[k] * a0;
                    den *= u[i] - u[k];
                }
                b[i] = (a0 * j[0] + a1 * j[1] + a2 * j[2]) / den;
            }
        if (q == 2)
        {
            double chm1 = c * h + Paths.PathMath.ExpM1(-c * h); // c h - 1 + e^{-c h}
            double mod = corrector ? h / 2 - chm1 / (c * c * h) : (h * h / 2 - chm1 / (c * c)) / (from.LogSnr - schedule[s - 1].LogSnr);
            if (double.IsFinite(mod)) { b[0] += mod; b[1] -= mod; }
        }
        // x_t = e^{-tau^2 h} (sigma_t / sigma_s) x_s + c alpha_t sum_k b_k m_k + sigma_t sqrt(1 - e^{-2 tau^2 h}) z.
        double w = c * to.Alpha;
        var update = ofSource * source + (w * b[0]) * ring[newest];
        if (q > 1) update += (w * b[1]) * ring[newest - 1];
        if (q > 2) update += (w * b[2]) * ring[newest - 2];
        state.Set(destination, update + ofNoise * noise);
    }
}
