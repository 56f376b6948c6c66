using System.Numerics;
using GenerativePaths.Paths;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

/// <summary>
/// DPM-Solver-fast (Lu, Zhou, Bao, Chen, Li and Zhu 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in
/// Around 10 Steps", section 3.4 and Algorithms 4-5): single-step DPM-Solver-3 steps, uniform in log-SNR, with a second- and first-order
/// step at the end so that the run spends a given number of model evaluations. k-diffusion's <c>sample_dpm_fast</c>.
/// </summary>
/// <remarks>
/// <para>With <c>lambda = log(alpha / sigma)</c>, <c>h = lambda' - lambda</c>, <c>eps</c> the noise prediction, and intermediate points at
/// <c>lambda + r h</c> (on the schedule's path):
/// DPM-Solver-1: <c>x' = (alpha'/alpha) x - sigma' (e^h - 1) eps</c>;
/// DPM-Solver-2 (<c>r_1 = 1/2</c>): <c>u = (alpha_1/alpha) x - sigma_1 (e^{r_1 h} - 1) eps</c>,
/// <c>x' = (alpha'/alpha) x - sigma' (e^h - 1) eps - sigma' (e^h - 1) (eps(u) - eps) / (2 r_1)</c>;
/// DPM-Solver-3 (<c>r_1 = 1/3, r_2 = 2/3</c>): <c>u_1</c> as above,
/// <c>u_2 = (alpha_2/alpha) x - sigma_2 (e^{r_2 h} - 1) eps - sigma_2 (r_2/r_1) ((e^{r_2 h} - 1)/(r_2 h) - 1) (eps(u_1) - eps)</c>,
/// <c>x' = (alpha'/alpha) x - sigma' (e^h - 1) eps - (sigma'/r_2) ((e^h - 1)/h - 1) (eps(u_2) - eps)</c>.</para>
/// <para>Orders: for <c>N</c> evaluations the plan has <c>M = floor(N/3) + 1</c> steps (<see cref="CreateSchedule"/>, uniform in
/// <c>lambda</c>), of orders <c>3, ..., 3, 2, 1</c> when <c>N mod 3 = 0</c>, else <c>3, ..., 3, N mod 3</c>. Without a given
/// <see cref="Evaluations"/> a schedule of <c>M</c> steps runs as <c>N = 3 (M - 1)</c>. A step to <c>sigma' = 0</c> is first order and returns
/// <c>alpha' x0hat</c>; a step from <c>alpha = 0</c> is the first-order step in its limit <c>x' = (sigma'/sigma) x + alpha' x0hat</c>.</para>
/// <para>With <c>eta &gt; 0</c> (in <c>s = sigma/alpha</c>): the step goes to <c>lambda_down = min(lambda_end, -log s_down)</c> of the ancestral split
/// of <c>s -&gt; s'</c> and adds <c>s_noise sqrt(s'^2 - s_down'^2) z</c> (drawn for the interval <c>(s, s')</c>, stream = step index).</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolverFastSampler : Sampler
{
    /// <summary>DPM-Solver-fast.</summary>
    /// <param name="evaluations">The model evaluations of the run (k-diffusion's <c>n</c>), at least 1; null: <c>3 (steps - 1)</c> for the schedule given.</param>
    /// <param name="eta">Ancestral noise level; finite and non-negative (k-diffusion's default 0).</param>
    /// <param name="sNoise">Scale of the added noise; finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public DpmSolverFastSampler(int? evaluations = null, double eta = 0.0, double sNoise = 1.0)
    {
        if (evaluations is < 1) throw new ArgumentOutOfRangeException(nameof(evaluations), evaluations, "The evaluation count must be at least 1.");
        if (!(eta >= 0) || double.IsInfinity(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be finite and non-negative.");
        if (!(sNoise >= 0) || double.IsInfinity(sNoise)) throw new ArgumentOutOfRangeException(nameof(sNoise), sNoise, "s_noise must be finite and non-negative.");
        Evaluations = evaluations;
        Eta = eta;
        SNoise = sNoise;
    }

    /// <summary>The model evaluations of the run, or null (three per step but the last two).</summary>
    public int? Evaluations { get; }

    /// <summary>The ancestral noise level.</summary>
    public double Eta { get; }

    /// <summary>The noise scale.</summary>
    public double SNoise { get; }

    /// <inheritdoc/>
    public override string Name => "dpm_fast";

    /// <summary>The number of steps of a run of <paramref name="evaluations"/> evaluations: <c>floor(N/3) + 1</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="evaluations"/> is below 1.</exception>
    public static int StepsFor(int evaluations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(evaluations, 1);
        return evaluations / 3 + 1;
    }

    /// <summary>
    /// k-diffusion's plan for DPM-Solver-fast: <c>StepsFor(N) + 1</c> points uniform in <c>lambda</c> from the point of
    /// <c>sigma/alpha = sigmaMax</c> to that of <c>sigmaMin</c> on <paramref name="path"/> (the run ends at <c>sigmaMin</c>, not at 0).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The noise range is not positive, finite and increasing, or <paramref name="evaluations"/> is below 1.</exception>
    public static StepSchedule CreateSchedule(NoisePath path, double sigmaMin, double sigmaMax, int evaluations)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin) || !double.IsFinite(sigmaMax))
            throw new ArgumentOutOfRangeException(nameof(sigmaMax), sigmaMax, $"The noise range must satisfy 0 < sigmaMin < sigmaMax < infinity; got [{sigmaMin}, {sigmaMax}].");
        int m = StepsFor(evaluations);
        double l0 = -Math.Log(sigmaMax), l1 = -Math.Log(sigmaMin);
        var points = new SchedulePoint[m + 1];
        for (int i = 0; i <= m; i++) points[i] = VeStepMath.PointAt(path, Math.Exp(-(l0 + (l1 - l0) * i / m)));
        return new StepSchedule(path, points);
    }

    /// <summary>The order of step <paramref name="index"/> of a run of <paramref name="steps"/> steps.</summary>
    /// <exception cref="InvalidOperationException"><see cref="Evaluations"/> is set and needs another step count.</exception>
    public int OrderOf(int index, int steps)
    {
        int n = Evaluations ?? 3 * (steps - 1);
        if (steps == 1 && Evaluations is null) n = 1;
        if (StepsFor(n) != steps)
            throw new InvalidOperationException($"DPM-Solver-fast with {n} evaluations takes {StepsFor(n)} steps, but the schedule has {steps}; build it with DpmSolverFastSampler.CreateSchedule.");
        if (n % 3 == 0) return index < steps - 2 ? 3 : index == steps - 2 ? 2 : 1;
        return index < steps - 1 ? 3 : n % 3;
    }

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var schedule = state.Schedule;
        var from = schedule[index];
        var to = schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        int order = OrderOf(index, schedule.StepCount);
        var x = state.X;
        var d = state.Denoise(x, from);
        if (to.Sigma == 0 || from.Alpha == 0 || to.Alpha == 0)
        {
            // The first-order step in its limit, x' = (sigma'/sigma) x + (alpha' - sigma' alpha / sigma) x0hat.
            var (ofX, ofD) = DeterministicMove(from, to);
            state.Set(x, ofX * x + ofD * d);
            return;
        }
        var path = schedule.Path;
        // The target of the solver step: the next point, or with eta the ancestral sigma_down (not beyond the plan's end).
        var target = to;
        double noise = 0;
        if (Eta > 0)
        {
            double s = from.SigmaOverAlpha, sNext = to.SigmaOverAlpha;
            var (down, up) = VeStepMath.Ancestral(s, sNext, Eta);
            double lambdaDown = Math.Min(schedule[schedule.StepCount].LogSnr, down > 0 ? -Math.Log(down) : double.PositiveInfinity);
            // No noise to add (up = 0, e.g. a zero-length step): the target is the next point itself, not -log(down), which may differ
            // from its log-SNR by rounding and would add noise of the square root of that rounding.
            if (up > 0 && double.IsFinite(lambdaDown) && lambdaDown > to.LogSnr)
            {
                target = VeStepMath.PointAt(path, Math.Exp(-lambdaDown));
                double sd = target.SigmaOverAlpha;
                noise = to.Alpha * SNoise * Math.Sqrt(Math.Max(0, sNext * sNext - sd * sd));
            }
        }
        double h = target.LogSnr - from.LogSnr;
        // DPM-Solver-1 to the target, x_t = (alpha_t/alpha) x - sigma_t (e^h - 1) eps; the higher orders add a correction to it.
        var eps = d.Eps;
        double ofX0 = target.Alpha / from.Alpha, ofE0 = -target.Sigma * double.ExpM1(h);
        double scale = to.Alpha / target.Alpha; // from the target point to the next point (1 without noise)
        BatchTensor<T>? z = null;
        if (noise > 0)
        {
            z = state.Buffer(NoiseBuffer);
            state.DrawNoise(index, from.SigmaOverAlpha, to.SigmaOverAlpha, z);
        }
        if (order == 1 || !(h > 0))
        {
            Finish(state, scale * (ofX0 * x + ofE0 * eps), noise, z);
            return;
        }
        // The intermediate points u_1 (and u_2) are written into one buffer: u_2 is computed from u_1 in place.
        var u = state.Buffer("dpm_fast_intermediate");
        if (order == 2)
        {
            const double r1 = 0.5;
            // u_1 = (alpha_1/alpha) x - sigma_1 (e^{r_1 h} - 1) eps; x_t = DPM-Solver-1 - sigma_t (e^h - 1) (eps(u_1) - eps) / (2 r_1).
            var eps1 = Intermediate(state, u, from, path, r1, h, x, eps, default).Eps;
            double k = -target.Sigma * double.ExpM1(h) / (2 * r1);
            Finish(state, scale * (ofX0 * x + ofE0 * eps + k * (eps1 - eps)), noise, z);
            return;
        }
        {
            const double r1 = 1.0 / 3, r2 = 2.0 / 3;
            var eps1 = Intermediate(state, u, from, path, r1, h, x, eps, default).Eps;
            // u_2 = (alpha_2/alpha) x - sigma_2 (e^{r_2 h} - 1) eps + c (eps(u_1) - eps), c = -sigma_2 (r_2/r_1) ((e^{r_2 h} - 1)/(r_2 h) - 1).
            double s2Sigma = VeStepMath.PointAt(path, Math.Exp(-(from.LogSnr + r2 * h))).Sigma;
            double c = -s2Sigma * (r2 / r1) * (double.ExpM1(r2 * h) / (r2 * h) - 1);
            var eps2 = Intermediate(state, u, from, path, r2, h, x, eps, c * (eps1 - eps)).Eps;
            // x_t = DPM-Solver-1 - (sigma_t / r_2) ((e^h - 1)/h - 1) (eps(u_2) - eps).
            double k = -target.Sigma / r2 * (double.ExpM1(h) / h - 1);
            Finish(state, scale * (ofX0 * x + ofE0 * eps + k * (eps2 - eps)), noise, z);
        }
    }

    /// <summary>
    /// The intermediate point at <c>lambda + r h</c>, <c>u = (alpha_r/alpha) x - sigma_r (e^{r h} - 1) eps + correction</c> (the correction
    /// <c>c (eps(u_1) - eps)</c> of <c>u_2</c>, or nothing), written into <paramref name="u"/> and evaluated there.
    /// </summary>
    private static Denoised<T> Intermediate<T>(SamplerState<T> state, BatchTensor<T> u, SchedulePoint from, NoisePath path, double r, double h,
        BatchTensor<T> x, TensorCombination<T> eps, TensorCombination<T> correction) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var point = VeStepMath.PointAt(path, Math.Exp(-(from.LogSnr + r * h)));
        double ofX = point.Alpha / from.Alpha, ofE = -point.Sigma * double.ExpM1(r * h);
        state.Set(u, correction.Count == 0 ? ofX * x + ofE * eps : ofX * x + ofE * eps + correction);
        return state.Denoise(u, point);
    }

    /// <summary><c>x' = x_t + noise z</c> (just <c>x_t</c> when no noise was drawn, <paramref name="z"/> null).</summary>
    private static void Finish<T>(SamplerState<T> state, TensorCombination<T> xTarget, double noise, BatchTensor<T>? z) where T : unmanaged, IFloatingPointIeee754<T>
        => state.Set(state.X, z is null ? xTarget : xTarget + noise * z);
}
