using System.Numerics;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

/// <summary>The function <c>B(h)</c> of UniPC (Zhao et al. 2023, section 3.2), with <c>hh = -h</c> in data prediction.</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
public enum UniPcVariant
{
    /// <summary><c>B(h) = hh</c> (diffusers <c>solver_type="bh1"</c>; recommended for unconditional sampling with very few steps).</summary>
    Bh1,

    /// <summary><c>B(h) = e^{hh} - 1</c> (diffusers <c>solver_type="bh2"</c>, the default; recommended for guided sampling).</summary>
    Bh2,
}

/// <summary>
/// UniPC (Zhao, Bai, Rao, Zhou and Lu 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models",
/// arXiv 2302.04867): the multistep predictor UniP-p and the corrector UniC, in data prediction, one model call per step. The
/// corrector reuses the model call at the predicted point, so it costs no extra evaluation. diffusers' <c>UniPCMultistepScheduler</c>.
/// </summary>
/// <remarks>
/// <para>Notation (data prediction): <c>lambda = log(alpha / sigma)</c>, <c>h = lambda' - lambda</c>, <c>hh = -h</c>,
/// <c>phi_1 = e^{hh} - 1</c>, <c>m_k</c> the denoised estimate at step <c>k</c>, and for the earlier steps
/// <c>r_k = (lambda_{i-k} - lambda_i) / h</c>, <c>D_k = (m_{i-k} - m_i) / r_k</c>. With <c>g_1 = phi_1 / hh - 1</c>,
/// <c>g_{n+1} = g_n / hh - 1/(n+1)!</c>, the right-hand side is <c>b_n = g_n n! / B(h)</c>, and <c>R</c> is the Vandermonde
/// matrix <c>R[n][k] = r_k^n</c> with <c>r_p = 1</c>.</para>
/// <para>Predictor of order <c>p</c>: <c>x' = (sigma'/sigma) x - alpha' phi_1 m_i - alpha' B(h) sum_{k&lt;p} rho_k D_k</c>, with
/// <c>rho = 1/2</c> for <c>p = 2</c> and <c>rho = R[:p-1,:p-1]^{-1} b[:p-1]</c> otherwise.
/// Corrector at the next point (after its model call gives <c>m'</c>), of the previous predictor's order <c>p</c>:
/// <c>x'_c = (sigma'/sigma) x - alpha' phi_1 m_i - alpha' B(h) (sum_{k&lt;p} rho_k D_k + rho_p (m' - m_i))</c>, with
/// <c>rho = R^{-1} b</c> (<c>rho = 1/2</c> for <c>p = 1</c>). The corrected <c>x'_c</c> replaces <c>x'</c>; the model output at
/// the uncorrected point is kept (as the paper and diffusers do).</para>
/// <para>Orders as diffusers configures them: <c>p_i = min(solverOrder, i + 1)</c>, and with <see cref="LowerOrderFinal"/> also
/// <c>p_i &lt;= N - i</c>; the corrector after step <c>i</c> is skipped when <c>i</c> is listed in <see cref="DisableCorrector"/>.</para>
/// <para>At the ends: a step to <c>sigma' = 0</c> returns <c>alpha' m_i</c>, the limit <c>h -> infinity</c> of the first-order
/// step for both <c>B(h)</c> (diffusers' bh1 returns NaN there from <c>0 * infinity</c>; its order-2 final step has no finite limit,
/// so the library takes it at first order); a step from <c>alpha = 0</c> (infinite <c>h</c>) is first order without corrector
/// terms. History points with a zero-length step (<c>r_k = 0</c> or two equal <c>r_k</c>) lower the order.</para>
/// <para>History: the denoised estimates in the state's four-slot ring <c>(unipc, denoised)</c>
/// (<see cref="SamplerState{T}.History(string, string, int)"/>; a reset, a jump or another sampler's steps in between restart at first
/// order without corrector) and the previous sample, the corrector's source, in the buffer <c>unipc_last_x</c>, so orders up to 3 are
/// supported.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class UniPcSampler : Sampler
{
    /// <summary>UniPC.</summary>
    /// <param name="solverOrder">The highest predictor order, 1 to 3 (diffusers' <c>solver_order</c>, default 2).</param>
    /// <param name="variant">The function <c>B(h)</c>.</param>
    /// <param name="lowerOrderFinal">Lower the order towards the end so that step <c>i</c> has order at most <c>N - i</c>.</param>
    /// <param name="disableCorrector">Step indices whose result is not corrected (diffusers' <c>disable_corrector</c>).</param>
    public UniPcSampler(int solverOrder = 2, UniPcVariant variant = UniPcVariant.Bh2, bool lowerOrderFinal = true, IEnumerable<int>? disableCorrector = null)
    {
        if (solverOrder is < 1 or > MaxOrder)
            throw new ArgumentOutOfRangeException(nameof(solverOrder), solverOrder, $"The UniPC order must lie in [1, {MaxOrder}].");
        if (!Enum.IsDefined(variant)) throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown B(h).");
        SolverOrder = solverOrder;
        Variant = variant;
        LowerOrderFinal = lowerOrderFinal;
        DisableCorrector = (disableCorrector ?? []).ToHashSet();
    }

    /// <summary>The highest predictor order.</summary>
    public int SolverOrder { get; }

    /// <summary>The function <c>B(h)</c>.</summary>
    public UniPcVariant Variant { get; }

    /// <summary>Whether the order is lowered on the last steps.</summary>
    public bool LowerOrderFinal { get; }

    /// <summary>Step indices whose result the corrector leaves alone.</summary>
    public IReadOnlySet<int> DisableCorrector { get; }

    // The highest order, and the capacity of the history ring: the corrector of order 3 at step i reads m_i and m_{i-1} .. m_{i-3}.
    private const int MaxOrder = 3;
    private const int HistoryCapacity = MaxOrder + 1;

    // What the history entries hold (with the sampler's name, the tag that keeps another sampler's history out).
    private const string HistoryQuantity = "denoised";

    // The sample the last step started from (after its correction): the source of the corrector at the next step.
    private const string LastSampleBuffer = "unipc_last_x";

    /// <inheritdoc/>
    public override string Name => "unipc";

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
        int history = Math.Min(Math.Min(SolverOrder, ring.Available(index)), HistoryCapacity - 1);
        var m = ring[index];
        state.Set(m, d); // m_i = x0hat, this step's history entry
        ring.Record(index);
        var last = state.Buffer(LastSampleBuffer);

        // Correct this point, reached by the previous step's predictor, with the model output just computed.
        if (history > 0 && !DisableCorrector.Contains(index - 1))
        {
            int p = Math.Min(PlannedOrder(index - 1, schedule.StepCount), history);
            Update(state, ring, index - 1, p, corrector: true, source: last, destination: last);
        }
        else state.Set(last, x);

        if (to.Sigma == 0)
        {
            state.Set(x, to.Alpha * m); // the limit h -> infinity: alpha' x0hat
            return;
        }
        int order = Math.Min(PlannedOrder(index, schedule.StepCount), history + 1);
        Update(state, ring, index, order, corrector: false, source: last, destination: x);
    }

    /// <summary>diffusers' order of the predictor at step <paramref name="i"/> (warm-up and lower_order_final).</summary>
    private int PlannedOrder(int i, int steps)
    {
        int p = Math.Min(SolverOrder, i + 1);
        return LowerOrderFinal ? Math.Min(p, steps - i) : p;
    }

    /// <summary>
    /// The UniP (or UniC) update of order <paramref name="order"/> from point <paramref name="i"/> (sample <paramref name="source"/>,
    /// estimate <c>m_i</c>) to point <c>i + 1</c>, written to <paramref name="destination"/>; the corrector also uses <c>m_{i+1}</c>.
    /// The estimates are the entries of <paramref name="ring"/>.
    /// </summary>
    private void Update<T>(SamplerState<T> state, HistoryRing<T> ring, int i, int order, bool corrector, BatchTensor<T> source, BatchTensor<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var schedule = state.Schedule;
        var from = schedule[i];
        var to = schedule[i + 1];
        double lambda0 = from.LogSnr, h = to.LogSnr - lambda0;
        var m0 = ring[i];
        double ratio = to.Sigma / from.Sigma;
        if (!double.IsFinite(h) || h == 0)
        {
            // From alpha = 0 (h infinite) or a zero-length step: the first-order (DDIM) step, x' = (sigma'/sigma) x + (alpha' - sigma' alpha / sigma) m_i.
            // (As a corrector this reproduces the first-order predictor that led here: the point is kept.)
            if (corrector) state.Set(destination, state.X);
            else state.Set(destination, ratio * source + (to.Alpha - ratio * from.Alpha) * m0);
            return;
        }

        // Ratios r_k of the earlier steps that can be used (finite and non-zero).
        int extra = order - 1; // earlier estimates m_{i-1} .. m_{i-order+1}
        Span<double> r = stackalloc double[HistoryCapacity];
        int k = 0;
        while (k < extra)
        {
            double rk = (schedule[i - k - 1].LogSnr - lambda0) / h;
            // A point at infinite log-SNR distance, at the current one, or repeating an earlier one (a zero-length step in the
            // history, which would make the Vandermonde system singular) ends the usable history.
            if (!double.IsFinite(rk) || rk == 0 || r[..k].Contains(rk)) break;
            r[k++] = rk;
        }
        int used = k; // earlier differences D_1 .. D_used
        int n = used + 1; // size of the Vandermonde system (with r = 1 for the new point)
        r[used] = 1.0;

        double hh = -h;
        double phi1 = ExpM1(hh);
        double bh = Variant == UniPcVariant.Bh1 ? hh : phi1;
        Span<double> b = stackalloc double[HistoryCapacity];
        double factorial = 1;
        for (int j = 0; j < n; j++)
        {
            b[j] = G(j + 1, hh, phi1) * factorial / bh;
            factorial *= j + 2;
        }

        Span<double> rho = stackalloc double[HistoryCapacity];
        if (!corrector)
        {
            if (used == 1) rho[0] = 0.5;
            else if (used > 1) SolveVandermonde(r[..used], b[..used], rho[..used]);
        }
        else if (n == 1) rho[0] = 0.5;
        else SolveVandermonde(r[..n], b[..n], rho[..n]);

        // x' = ratio x - alpha' phi1 m0 - alpha' B(h) (sum_k rho_k (m_{i-k-1} - m0) / r_k [+ rho_last (m_new - m0)]).
        double w = -to.Alpha * bh;
        double ofM0 = -to.Alpha * phi1;
        Span<double> coefficient = stackalloc double[HistoryCapacity];
        for (int j = 0; j < used; j++)
        {
            coefficient[j] = w * rho[j] / r[j];
            ofM0 -= coefficient[j];
        }
        double ofNew = 0;
        if (corrector)
        {
            ofNew = w * rho[used];
            ofM0 -= ofNew;
        }
        var update = ratio * source + ofM0 * m0;
        for (int j = 0; j < used; j++) update += coefficient[j] * ring[i - j - 1];
        if (corrector) update += ofNew * ring[i + 1];
        state.Set(destination, update);
    }

    /// <summary><c>e^x - 1</c> without cancellation: <c>2 tanh(x/2) / (1 - tanh(x/2))</c>.</summary>
    private static double ExpM1(double x)
    {
        if (Math.Abs(x) >= 0.5) return Math.Exp(x) - 1;
        double t = Math.Tanh(0.5 * x);
        return 2 * t / (1 - t);
    }

    /// <summary>
    /// <c>g_n(x) = sum_{j &gt;= 1} x^j / (j + n)!</c>, i.e. <c>g_1 = (e^x - 1)/x - 1</c> and <c>g_{n+1} = g_n / x - 1/(n+1)!</c>:
    /// by the recurrence for <c>|x| &gt;= 1/2</c>, by the series (no cancellation) below.
    /// </summary>
    private static double G(int n, double x, double expM1)
    {
        if (Math.Abs(x) < 0.5)
        {
            double term = 1, sum = 0;
            for (int m = 1; m <= n; m++) term /= m;          // 1/n!
            for (int j = 1; j <= 30; j++)
            {
                term *= x / (j + n);                           // x^j / (j+n)!
                sum += term;
                if (Math.Abs(term) <= 1e-18 * Math.Abs(sum)) break;
            }
            return sum;
        }
        double g = expM1 / x - 1, factorial = 1;
        for (int m = 1; m < n; m++)
        {
            factorial *= m + 1;
            g = g / x - 1 / factorial;
        }
        return g;
    }

    /// <summary>Solves <c>sum_k r_k^n rho_k = b_n</c> (<c>n = 0 .. q-1</c>) for <c>q &lt;= 3</c> distinct nodes by Gaussian elimination with partial pivoting.</summary>
    private static void SolveVandermonde(ReadOnlySpan<double> r, ReadOnlySpan<double> b, Span<double> rho)
    {
        int q = r.Length;
        Span<double> a = stackalloc double[HistoryCapacity * HistoryCapacity];
        Span<double> y = stackalloc double[HistoryCapacity];
        for (int row = 0; row < q; row++)
        {
            y[row] = b[row];
            for (int col = 0; col < q; col++) a[row * q + col] = Math.Pow(r[col], row);
        }
        for (int col = 0; col < q; col++)
        {
            int pivot = col;
            for (int row = col + 1; row < q; row++) if (Math.Abs(a[row * q + col]) > Math.Abs(a[pivot * q + col])) pivot = row;
            if (pivot != col)
            {
                for (int c = 0; c < q; c++) (a[col * q + c], a[pivot * q + c]) = (a[pivot * q + c], a[col * q + c]);
                (y[col], y[pivot]) = (y[pivot], y[col]);
            }
            for (int row = col + 1; row < q; row++)
            {
                double f = a[row * q + col] / a[col * q + col];
                for (int c = col; c < q; c++) a[row * q + c] -= f * a[col * q + c];
                y[row] -= f * y[col];
            }
        }
        for (int row = q - 1; row >= 0; row--)
        {
            double s = y[row];
            for (int c = row + 1; c < q; c++) s -= a[row * q + c] * rho[c];
            rho[row] = s / a[row * q + row];
        }
    }
}
