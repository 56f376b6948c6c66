using System.Numerics;
using GenerativePaths.Noise;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

/// <summary>How <see cref="DpmSolverAdaptiveSampler"/> controls its step size.</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
public enum AdaptiveStepControl
{
    /// <summary>k-diffusion's controller: one step size for the whole batch, from one error norm over the whole tensor (a sample's result
    /// then depends on the other samples of its batch).</summary>
    SharedBatch,

    /// <summary>A step size, an error norm and a controller per sample: each sample takes its own steps (the model is called with
    /// per-sample times) and its result does not depend on its batch.</summary>
    PerSample,
}

/// <summary>What one attempt of <see cref="DpmSolverAdaptiveSampler"/> did (for <see cref="IAdaptiveAttemptObserver"/>).</summary>
/// <param name="StepIndex">The schedule step being integrated.</param>
/// <param name="Attempt">The attempt's number within the step, from 0.</param>
/// <param name="Accepted">How many sample groups accepted it (with shared control: 1 or 0).</param>
/// <param name="Error">The error norm of the first group (the batch's with shared control).</param>
/// <param name="NextStepSize">The first group's step size in log-SNR after the controller's update.</param>
/// <param name="LogSnr">The first group's log-SNR after the attempt.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public readonly record struct AdaptiveAttempt(int StepIndex, int Attempt, int Accepted, double Error, double NextStepSize, double LogSnr);

/// <summary>Receives each attempt of <see cref="DpmSolverAdaptiveSampler"/> with the state after it (for diagnostics and k-diffusion's per-attempt callback).</summary>
/// <remarks>Thread safety: called on the thread that runs the step, never concurrently within one run; an observer shared by concurrent runs must be thread safe itself.</remarks>
public interface IAdaptiveAttemptObserver
{
    /// <summary>Called after attempt <paramref name="attempt"/>; <paramref name="x"/> is the run's state (read it during the call, do not keep it).</summary>
    void OnAttempt<T>(in AdaptiveAttempt attempt, BatchTensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>
/// DPM-Solver-12 and -23 with adaptive step size (Lu, Zhou, Bao, Chen, Li and Zhu 2022, "DPM-Solver", section 3.3 and Algorithm 5):
/// embedded pairs of single-step DPM-Solvers in log-SNR with a PID step-size controller. k-diffusion's <c>sample_dpm_adaptive</c>.
/// </summary>
/// <remarks>
/// <para>One <see cref="Step"/> integrates from point <c>i</c> to point <c>i + 1</c> of the schedule in as many internal steps as the
/// controller chooses (k-diffusion's run is the one-step plan <c>[sigma_max, sigma_min]</c>, see <see cref="CreateSchedule"/>). With
/// <c>lambda = log(alpha/sigma)</c>, from <c>lambda_s</c> the step <c>h</c> proposes <c>lambda_t = min(lambda_end, lambda_s + h)</c>; order 3
/// compares DPM-Solver-2 (<c>r_1 = 1/3</c>) with DPM-Solver-3 (<c>r_1 = 1/3, r_2 = 2/3</c>, sharing the evaluation at <c>r_1</c>; 3 evaluations),
/// order 2 compares DPM-Solver-1 with DPM-Solver-2 (<c>r_1 = 1/2</c>; 2 evaluations); see <see cref="DpmSolverFastSampler"/> for the formulas.
/// The error is <c>E = ||(x_low - x_high) / delta||_2 / sqrt(n)</c>, <c>delta = max(atol, rtol max(|x_low|, |x_prev|))</c> with <c>x_prev</c> the
/// last accepted low-order solution (at first the start). The PID controller (Söderlind 2003; k-diffusion's <c>PIDStepSizeController</c>):
/// <c>e_k = 1/(E + 1e-8)</c>, <c>f = e_0^{b_1} e_1^{b_2} e_2^{b_3}</c>, <c>b_1 = (p + i + d)/k</c>, <c>b_2 = -(p + 2d)/k</c>,
/// <c>b_3 = d/k</c> (<c>k</c> = order, or 1.5 with <c>eta &gt; 0</c>), limited to <c>1 + atan(f - 1)</c>; the step is accepted when
/// <c>f &gt;= accept_safety</c>, and <c>h</c> is multiplied by <c>f</c> either way. The loop ends when <c>lambda_s &gt;= lambda_end - 1e-5</c>; a group still short of <c>lambda_end</c> then takes one DPM-Solver-1 step to it
/// (one more evaluation), so the state always ends at the schedule's next point.</para>
/// <para>With <c>eta &gt; 0</c> each step goes to the ancestral <c>lambda_down = min(lambda_end, -log s_down)</c> of <c>s -&gt; s_t</c> and adds
/// <c>s_noise sqrt(s_t^2 - s_down'^2) z</c> on acceptance (interval <c>(s, s_t)</c>; stream <c>NoiseStreams.Start + k 2^32 + i</c> for the
/// k-th accepted step of step <c>i</c> when the source is asked by stream only).</para>
/// <para><see cref="AdaptiveStepControl.SharedBatch"/> (the default) is k-diffusion's controller; <see cref="AdaptiveStepControl.PerSample"/>
/// runs one controller per sample. A step to <c>sigma' = 0</c> returns <c>alpha' x0hat</c> (the log-SNR is infinite there), a step from
/// <c>alpha = 0</c> is the first-order limit <c>x' = (sigma'/sigma) x + alpha' x0hat</c>. A run that needs more than
/// <see cref="MaxEvaluations"/> evaluations in one step, or whose step size falls below <c>1e-10</c>, raises an exception.</para>
/// <para>The step allocates its per-sample controller arrays (a few doubles per sample) once per call; its attempts allocate nothing
/// (with per-sample control and noise, one small row view per drawn row). Its tensors are the state's named buffers
/// <c>dpm_adaptive_*</c> and the noise buffer, its per-row coefficients the state's <c>dpm_adaptive_*</c> coefficients; it writes no
/// history ring, so a multistep sampler that follows it starts again from first order.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolverAdaptiveSampler : Sampler
{
    /// <summary>DPM-Solver-12 / -23 with adaptive steps (k-diffusion's defaults).</summary>
    /// <param name="order">2 or 3.</param>
    /// <param name="rtol">Relative tolerance (positive).</param>
    /// <param name="atol">Absolute tolerance (positive).</param>
    /// <param name="hInit">First step size in log-SNR (positive).</param>
    /// <param name="pcoeff">Proportional coefficient of the controller.</param>
    /// <param name="icoeff">Integral coefficient.</param>
    /// <param name="dcoeff">Derivative coefficient.</param>
    /// <param name="acceptSafety">Acceptance threshold of the limited factor.</param>
    /// <param name="eta">Ancestral noise level (non-negative).</param>
    /// <param name="sNoise">Scale of the added noise (non-negative).</param>
    /// <param name="control">Shared (k-diffusion) or per-sample step control.</param>
    /// <param name="maxEvaluations">The most model evaluations one step may spend.</param>
    /// <param name="observer">Receives every attempt with the state after it (optional).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public DpmSolverAdaptiveSampler(int order = 3, double rtol = 0.05, double atol = 0.0078, double hInit = 0.05, double pcoeff = 0, double icoeff = 1,
        double dcoeff = 0, double acceptSafety = 0.81, double eta = 0, double sNoise = 1, AdaptiveStepControl control = AdaptiveStepControl.SharedBatch,
        int maxEvaluations = 100_000, IAdaptiveAttemptObserver? observer = null)
    {
        Observer = observer;
        if (order is not (2 or 3)) throw new ArgumentOutOfRangeException(nameof(order), order, "The order must be 2 or 3.");
        if (!(rtol > 0) || !double.IsFinite(rtol)) throw new ArgumentOutOfRangeException(nameof(rtol), rtol, "rtol must be positive and finite.");
        if (!(atol > 0) || !double.IsFinite(atol)) throw new ArgumentOutOfRangeException(nameof(atol), atol, "atol must be positive and finite.");
        if (!(hInit > 0) || !double.IsFinite(hInit)) throw new ArgumentOutOfRangeException(nameof(hInit), hInit, "h_init must be positive and finite.");
        if (!double.IsFinite(pcoeff) || !double.IsFinite(icoeff) || !double.IsFinite(dcoeff)) throw new ArgumentOutOfRangeException(nameof(icoeff), "The controller coefficients must be finite.");
        if (!(acceptSafety > 0) || !double.IsFinite(acceptSafety)) throw new ArgumentOutOfRangeException(nameof(acceptSafety), acceptSafety, "accept_safety must be positive and finite.");
        if (!(eta >= 0) || double.IsInfinity(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be finite and non-negative.");
        if (!(sNoise >= 0) || double.IsInfinity(sNoise)) throw new ArgumentOutOfRangeException(nameof(sNoise), sNoise, "s_noise must be finite and non-negative.");
        if (!Enum.IsDefined(control)) throw new ArgumentOutOfRangeException(nameof(control), control, "Unknown step control.");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvaluations, 1);
        Order = order; RTol = rtol; ATol = atol; HInit = hInit; PCoeff = pcoeff; ICoeff = icoeff; DCoeff = dcoeff; AcceptSafety = acceptSafety;
        Eta = eta; SNoise = sNoise; Control = control; MaxEvaluations = maxEvaluations;
    }

    /// <summary>The order of the higher solution (2 or 3).</summary>
    public int Order { get; }

    /// <summary>Relative tolerance.</summary>
    public double RTol { get; }

    /// <summary>Absolute tolerance.</summary>
    public double ATol { get; }

    /// <summary>First step size in log-SNR.</summary>
    public double HInit { get; }

    /// <summary>Proportional coefficient.</summary>
    public double PCoeff { get; }

    /// <summary>Integral coefficient.</summary>
    public double ICoeff { get; }

    /// <summary>Derivative coefficient.</summary>
    public double DCoeff { get; }

    /// <summary>Acceptance threshold.</summary>
    public double AcceptSafety { get; }

    /// <summary>Ancestral noise level.</summary>
    public double Eta { get; }

    /// <summary>Noise scale.</summary>
    public double SNoise { get; }

    /// <summary>Shared or per-sample step control.</summary>
    public AdaptiveStepControl Control { get; }

    /// <summary>The most model evaluations one step may spend.</summary>
    public int MaxEvaluations { get; }

    /// <summary>The observer of attempts, or null.</summary>
    public IAdaptiveAttemptObserver? Observer { get; }

    /// <inheritdoc/>
    public override string Name => "dpm_adaptive";

    /// <summary>k-diffusion's plan: the one step from the point of <c>sigma/alpha = sigmaMax</c> to that of <c>sigmaMin</c> on <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The noise range is not positive, finite and increasing.</exception>
    public static StepSchedule CreateSchedule(Paths.NoisePath path, double sigmaMin, double sigmaMax)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!(sigmaMin > 0) || !(sigmaMax > sigmaMin) || !double.IsFinite(sigmaMax))
            throw new ArgumentOutOfRangeException(nameof(sigmaMax), sigmaMax, $"The noise range must satisfy 0 < sigmaMin < sigmaMax < infinity; got [{sigmaMin}, {sigmaMax}].");
        return new StepSchedule(path, [VeStepMath.PointAt(path, sigmaMax), VeStepMath.PointAt(path, sigmaMin)]);
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
        if (to.Sigma == 0 || from.Alpha == 0 || to.Alpha == 0 || !(to.LogSnr > from.LogSnr))
        {
            // The first-order limit x' = (sigma'/sigma) x + (alpha' - sigma' alpha / sigma) x0hat.
            var d = state.Denoise(x, from);
            var (ofX, ofD) = DeterministicMove(from, to);
            state.Set(x, ofX * x + ofD * d);
            return;
        }
        new Run<T>(this, state, index, from, to).Solve();
    }

    /// <summary>The per-call working set of one adaptive step (rows' controllers, points, buffers and per-row coefficients).</summary>
    private sealed class Run<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly DpmSolverAdaptiveSampler _o;
        private readonly SamplerState<T> _state;
        private readonly int _index, _rows, _groups;
        private readonly SchedulePoint _to;
        private readonly double _lambdaEnd;
        private readonly double[] _s, _h, _e0, _e1, _e2, _err;
        private readonly long[] _count;
        private readonly int[] _accepted;
        private readonly bool[] _errsSet, _active, _accept;
        private readonly SchedulePoint[] _pS, _p1, _p2, _pT, _pNext, _pEval;
        private readonly double[] _su;
        private readonly BatchTensor<T> _x, _p, _u, _eps, _eps1, _eps2, _xLow, _xHigh, _xPrev;
        // Per-sample control: the rows' coefficients of a formula (of x, eps and the third tensor) and of the move (of x, x_high, z
        // and, for x_prev, x_low).
        private readonly SampleCoefficients _ofX, _ofEps, _ofOther, _ofHigh, _ofNoise, _ofLow;
        private readonly double _b1, _b2, _b3;
        private int _attempts;

        public Run(DpmSolverAdaptiveSampler o, SamplerState<T> state, int index, SchedulePoint from, SchedulePoint to)
        {
            _o = o; _state = state; _index = index; _to = to;
            _rows = state.BatchSize;
            _groups = o.Control == AdaptiveStepControl.PerSample ? _rows : 1;
            _lambdaEnd = to.LogSnr;
            _s = new double[_groups]; _h = new double[_groups]; _e0 = new double[_groups]; _e1 = new double[_groups]; _e2 = new double[_groups];
            _err = new double[_groups]; _count = new long[_groups]; _accepted = new int[_groups];
            _errsSet = new bool[_groups]; _active = new bool[_groups]; _accept = new bool[_groups];
            _su = new double[_groups];
            _pS = new SchedulePoint[_groups]; _p1 = new SchedulePoint[_groups]; _p2 = new SchedulePoint[_groups]; _pT = new SchedulePoint[_groups];
            _pNext = new SchedulePoint[_groups]; _pEval = new SchedulePoint[_rows];
            Array.Fill(_s, from.LogSnr);
            Array.Fill(_h, o.HInit);
            Array.Fill(_active, true);
            Array.Fill(_pS, from);
            double k = o.Eta > 0 ? 1.5 : o.Order;
            _b1 = (o.PCoeff + o.ICoeff + o.DCoeff) / k; _b2 = -(o.PCoeff + 2 * o.DCoeff) / k; _b3 = o.DCoeff / k;
            _x = state.X; _p = state.ModelOutput;
            _u = state.Buffer("dpm_adaptive_intermediate");
            _eps = state.Buffer("dpm_adaptive_eps"); _eps1 = state.Buffer("dpm_adaptive_eps1"); _eps2 = state.Buffer("dpm_adaptive_eps2");
            _xLow = state.Buffer("dpm_adaptive_low"); _xHigh = state.Buffer("dpm_adaptive_high"); _xPrev = state.Buffer("dpm_adaptive_previous");
            _ofX = state.Coefficients("dpm_adaptive_of_x"); _ofEps = state.Coefficients("dpm_adaptive_of_eps"); _ofOther = state.Coefficients("dpm_adaptive_of_other");
            _ofHigh = state.Coefficients("dpm_adaptive_of_high"); _ofNoise = state.Coefficients("dpm_adaptive_of_noise"); _ofLow = state.Coefficients("dpm_adaptive_of_low");
            // The last accepted low-order solution, at first the start.
            state.Set(_xPrev, _x);
        }

        private int Group(int row) => _groups == 1 ? 0 : row;

        private SchedulePoint At(double lambda) => lambda == _lambdaEnd ? _to : VeStepMath.PointAt(_state.Schedule.Path, Math.Exp(-lambda));

        public void Solve()
        {
            var o = _o;
            long spent = 0;
            int perAttempt = o.Order;
            while (true)
            {
                bool any = false;
                for (int g = 0; g < _groups; g++)
                {
                    _active[g] = _s[g] < _lambdaEnd - 1e-5;
                    any |= _active[g];
                }
                if (!any) { CloseGap(); break; }
                if (spent + perAttempt > o.MaxEvaluations)
                    throw new InvalidOperationException($"Step {_index}: DPM-Solver adaptive exhausted its budget of {o.MaxEvaluations} model evaluations before reaching the step's end (log-SNR {_lambdaEnd}).");
                for (int g = 0; g < _groups; g++)
                {
                    if (!_active[g]) { _pT[g] = _pNext[g] = _p1[g] = _p2[g] = _pS[g]; continue; }
                    if (!(_h[g] >= 1e-10))
                        throw new InvalidOperationException($"Step {_index}: DPM-Solver adaptive's step size fell to {_h[g]:E3} (sample group {g}, log-SNR {_s[g]}).");
                    double t = Math.Min(_lambdaEnd, _s[g] + _h[g]), tDown = t;
                    _su[g] = 0;
                    _pNext[g] = At(t);
                    if (o.Eta > 0)
                    {
                        double sFrom = Math.Exp(-_s[g]), sTo = Math.Exp(-t);
                        var (down, _) = VeStepMath.Ancestral(sFrom, sTo, o.Eta);
                        tDown = Math.Min(_lambdaEnd, -Math.Log(down));
                        double sd = Math.Exp(-tDown);
                        _su[g] = Math.Sqrt(Math.Max(0, sTo * sTo - sd * sd));
                    }
                    double hh = tDown - _s[g];
                    _pT[g] = At(tDown);
                    _p1[g] = VeStepMath.PointAt(_state.Schedule.Path, Math.Exp(-(_s[g] + (o.Order == 3 ? 1.0 / 3 : 0.5) * hh)));
                    _p2[g] = VeStepMath.PointAt(_state.Schedule.Path, Math.Exp(-(_s[g] + 2.0 / 3 * hh)));
                }
                Attempt();
                spent += perAttempt;
                if (o.Observer is { } observer)
                {
                    int accepted = 0;
                    for (int g = 0; g < _groups; g++) if (_accept[g]) accepted++;
                    observer.OnAttempt(new AdaptiveAttempt(_index, _attempts, accepted, _err[0], _h[0], _s[0]), _x);
                }
                _attempts++;
            }
        }

        /// <summary>
        /// Groups that stopped short of the step's end (within the loop's 1e-5 in log-SNR, or on a step shorter than that) take one
        /// DPM-Solver-1 step to it, <c>x' = (alpha'/alpha) x - sigma' (e^h - 1) eps</c>, so the state ends at the schedule's next point.
        /// </summary>
        private void CloseGap()
        {
            bool any = false;
            for (int g = 0; g < _groups; g++)
            {
                _active[g] = _s[g] < _lambdaEnd;
                any |= _active[g];
                _pT[g] = _active[g] ? _to : _pS[g];
            }
            if (!any) return;
            NoiseEstimate(_x, _pS, _eps);
            Write(_x, Formula.Order1, 0, _eps, null);
            for (int g = 0; g < _groups; g++) if (_active[g]) { _s[g] = _lambdaEnd; _pS[g] = _to; }
        }

        /// <summary>One attempt of every active group: the embedded pair, the error, the controller and (on acceptance) the move.</summary>
        private void Attempt()
        {
            var o = _o;
            // eps at the current points.
            NoiseEstimate(_x, _pS, _eps);
            double r1 = o.Order == 3 ? 1.0 / 3 : 0.5;
            // u_1 = (alpha_1/alpha) x - sigma_1 (e^{r1 h} - 1) eps; eps_1 = eps(u_1).
            Write(_u, Formula.FirstIntermediate, r1, _eps, null);
            NoiseEstimate(_u, _p1, _eps1);
            if (o.Order == 2)
            {
                // low: DPM-Solver-1; high: DPM-Solver-2 (r1 = 1/2).
                Write(_xLow, Formula.Order1, 0, _eps, null);
                Write(_xHigh, Formula.Order2, r1, _eps, _eps1);
            }
            else
            {
                // low: DPM-Solver-2 with r1 = 1/3.
                Write(_xLow, Formula.Order2, r1, _eps, _eps1);
                // u_2 = (alpha_2/alpha) x - sigma_2 (e^{r2 h} - 1) eps - sigma_2 (r2/r1) ((e^{r2 h} - 1)/(r2 h) - 1) (eps_1 - eps).
                Write(_u, Formula.SecondIntermediate, r1, _eps, _eps1);
                NoiseEstimate(_u, _p2, _eps2);
                // high: x' = (alpha'/alpha) x - sigma' (e^h - 1) eps - (sigma'/r2) ((e^h - 1)/h - 1) (eps_2 - eps).
                Write(_xHigh, Formula.Order3, r1, _eps, _eps2);
            }
            ErrorNorms();
            for (int g = 0; g < _groups; g++)
            {
                if (!_active[g]) { _accept[g] = false; continue; }
                double inv = 1 / (_err[g] + 1e-8);
                if (!_errsSet[g]) { _e0[g] = _e1[g] = _e2[g] = inv; _errsSet[g] = true; }
                _e0[g] = inv;
                double factor = Math.Pow(_e0[g], _b1) * Math.Pow(_e1[g], _b2) * Math.Pow(_e2[g], _b3);
                factor = 1 + Math.Atan(factor - 1);
                _accept[g] = factor >= o.AcceptSafety;
                if (_accept[g]) { _e2[g] = _e1[g]; _e1[g] = _e0[g]; }
                _h[g] *= factor;
            }
            Move();
        }

        private double H(int g) => _pT[g].LogSnr - _pS[g].LogSnr;

        /// <summary>Accepted groups: <c>x_prev = x_low</c>, <c>x = (alpha_next/alpha_t) x_high + alpha_next s_noise s_up z</c>, <c>lambda = lambda_next</c>;
        /// the rows of the other groups keep <c>x</c> and <c>x_prev</c>.</summary>
        private void Move()
        {
            var o = _o;
            bool anyAccepted = false, anyNoise = false;
            for (int g = 0; g < _groups; g++)
            {
                anyAccepted |= _accept[g];
                anyNoise |= _accept[g] && _su[g] * o.SNoise > 0;
            }
            if (!anyAccepted) return;
            var z = anyNoise ? _state.Buffer(NoiseBuffer) : null;
            if (z is not null) DrawNoise(z);
            if (_groups == 1)
            {
                double scale = _pNext[0].Alpha / _pT[0].Alpha, noise = _pNext[0].Alpha * o.SNoise * _su[0];
                _state.Set(_xPrev, _xLow);
                _state.Set(_x, z is not null ? scale * _xHigh + noise * z : scale * _xHigh);
            }
            else
            {
                // Per row: x = s x_high + n z on acceptance (s = alpha_next / alpha_t, n = alpha_next s_noise s_up), x otherwise.
                for (int b = 0; b < _rows; b++)
                {
                    bool accept = _accept[b];
                    _ofLow[b] = accept ? 1 : 0;
                    _ofX[b] = accept ? 0 : 1;
                    _ofHigh[b] = accept ? _pNext[b].Alpha / _pT[b].Alpha : 0;
                    _ofNoise[b] = accept && _su[b] * o.SNoise > 0 ? _pNext[b].Alpha * o.SNoise * _su[b] : 0;
                }
                _state.Set(_xPrev, _ofLow * _xLow + _ofX * _xPrev);
                _state.Set(_x, z is not null ? _ofHigh * _xHigh + _ofX * _x + _ofNoise * z : _ofHigh * _xHigh + _ofX * _x);
            }
            for (int g = 0; g < _groups; g++)
                if (_accept[g]) { _s[g] = _pNext[g].LogSnr; _pS[g] = _pNext[g]; _accepted[g]++; }
        }

        /// <summary>The noise of the accepted groups' intervals <c>(s, s_t)</c> into <paramref name="z"/>.</summary>
        private void DrawNoise(BatchTensor<T> z)
        {
            if (_groups == 1)
            {
                _state.DrawNoise(VeStepMath.SubstepStream(_index, _accepted[0] + 1), _pS[0].SigmaOverAlpha, _pNext[0].SigmaOverAlpha, z);
                return;
            }
            // Each row its own stream and interval: the state draws for the whole batch only, so the rows are asked of the source one by one.
            var noise = _state.Noise ?? throw new InvalidOperationException($"Step {_index}: this sampler is stochastic (eta > 0) and needs a noise source, but none was given.");
            var ids = _state.SampleIds;
            for (int b = 0; b < _rows; b++)
            {
                if (!_accept[b] || !(_su[b] * _o.SNoise > 0)) continue;
                var row = z.Rows(b, 1);
                long stream = VeStepMath.SubstepStream(_index, _accepted[b] + 1);
                if (noise is IIntervalNoiseSource interval) interval.FillInterval(row, _pS[b].SigmaOverAlpha, _pNext[b].SigmaOverAlpha, stream, ids.Slice(b, 1));
                else noise.Fill(row, stream, ids.Slice(b, 1));
            }
        }

        /// <summary>The per-group error norms <c>||(x_low - x_high) / delta||_2 / sqrt(n)</c>.</summary>
        private void ErrorNorms()
        {
            Array.Clear(_err);
            Array.Clear(_count);
            for (int b = 0; b < _rows; b++)
            {
                int g = Group(b);
                Span<T> lo = _xLow.Row(b), hi = _xHigh.Row(b), prev = _xPrev.Row(b);
                double sum = 0;
                for (int i = 0; i < lo.Length; i++)
                {
                    double l = double.CreateTruncating(lo[i]), hv = double.CreateTruncating(hi[i]), pv = double.CreateTruncating(prev[i]);
                    double delta = Math.Max(_o.ATol, _o.RTol * Math.Max(Math.Abs(l), Math.Abs(pv)));
                    double e = (l - hv) / delta;
                    sum += e * e;
                }
                _err[g] += sum;
                _count[g] += lo.Length;
            }
            for (int g = 0; g < _groups; g++)
            {
                _err[g] = Math.Sqrt(_err[g]) / Math.Sqrt(Math.Max(1, _count[g]));
                if (_active[g] && !double.IsFinite(_err[g]))
                    throw new NonFiniteStateException(_index, _state.Schedule[_index].ModelTime, _groups == 1 ? TensorReductions.FirstNonFiniteSample(_xHigh) : g, isInitialState: false);
            }
        }

        /// <summary>Evaluates the model on <paramref name="u"/> with each row at its group's point and writes the noise estimate
        /// <c>eps = (u - alpha x0hat) / sigma</c> into <paramref name="eps"/>.</summary>
        private void NoiseEstimate(BatchTensor<T> u, SchedulePoint[] points, BatchTensor<T> eps)
        {
            if (_groups == 1)
            {
                // Shared control: one point for the batch. The model output goes to the one buffer p (a step may make any number of
                // evaluations); its estimate is consumed here, before the next evaluation overwrites p.
                var d = _state.Denoise(u, points[0], _p);
                _state.Set(eps, d.Eps);
                return;
            }
            // Per-sample control: each row at its own point, one model call; the estimate is consumed before p is reused.
            for (int b = 0; b < _rows; b++) _pEval[b] = points[b];
            var rows = _state.Denoise(u, _pEval, _p);
            _state.Set(eps, rows.Eps);
        }

        /// <summary>The single-step formulas, each <c>destination = c0 x + c1 eps (+ c2 other)</c> with per-group coefficients.</summary>
        private enum Formula { Order1, FirstIntermediate, Order2, SecondIntermediate, Order3 }

        /// <summary>The coefficients of <paramref name="formula"/> for group <paramref name="g"/> (<paramref name="r1"/>: the first intermediate's position).</summary>
        private (double C0, double C1, double C2) Coefficients(Formula formula, double r1, int g)
        {
            const double r2 = 2.0 / 3;
            double h = H(g);
            SchedulePoint s = _pS[g], t = _pT[g];
            switch (formula)
            {
                case Formula.Order1:
                    return (t.Alpha / s.Alpha, -t.Sigma * double.ExpM1(h), 0);
                case Formula.FirstIntermediate:
                    return (_p1[g].Alpha / s.Alpha, -_p1[g].Sigma * double.ExpM1(r1 * h), 0);
                case Formula.Order2:
                {
                    double e = -t.Sigma * double.ExpM1(h);
                    return (t.Alpha / s.Alpha, e * (1 - 1 / (2 * r1)), e / (2 * r1));
                }
                case Formula.SecondIntermediate:
                {
                    var p2 = _p2[g];
                    double k = -p2.Sigma * (r2 / r1) * (double.ExpM1(r2 * h) / (r2 * h) - 1);
                    return (p2.Alpha / s.Alpha, -p2.Sigma * double.ExpM1(r2 * h) - k, k);
                }
                default:
                {
                    double k = -t.Sigma / r2 * (double.ExpM1(h) / h - 1);
                    return (t.Alpha / s.Alpha, -t.Sigma * double.ExpM1(h) - k, k);
                }
            }
        }

        /// <summary><c>destination = c0 x + c1 eps (+ c2 other)</c> with each row's group coefficients (active groups only; the rows of
        /// inactive groups get <c>x</c>: <c>c0 = 1</c>, <c>c1 = c2 = 0</c>).</summary>
        private void Write(BatchTensor<T> destination, Formula formula, double r1, BatchTensor<T> eps, BatchTensor<T>? other)
        {
            if (_groups == 1)
            {
                // Shared control: the group is active whenever a formula is written.
                var (c0, c1, c2) = Coefficients(formula, r1, 0);
                _state.Set(destination, other is null ? c0 * _x + c1 * eps : c0 * _x + c1 * eps + c2 * other);
                return;
            }
            for (int b = 0; b < _rows; b++)
            {
                var (c0, c1, c2) = _active[b] ? Coefficients(formula, r1, b) : (1.0, 0.0, 0.0);
                _ofX[b] = c0; _ofEps[b] = c1; _ofOther[b] = c2;
            }
            _state.Set(destination, other is null ? _ofX * _x + _ofEps * eps : _ofX * _x + _ofEps * eps + _ofOther * other);
        }
    }
}
