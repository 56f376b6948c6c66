using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>
/// An adaptive embedded Runge–Kutta integrator with a reusable workspace: after construction a solve allocates
/// its result once and nothing per step (unless dense output is kept).
/// </summary>
/// <remarks>
/// <para>Step: the stages of <see cref="Method"/>, the error estimate <c>err = h sum_i e_i k_i</c> and its scaled RMS norm
/// <c>||err|| = sqrt(mean_i (err_i / (atol_i + rtol max(|y_i|, |y_new_i|)))^2)</c> (Hairer, Nørsett and Wanner,
/// <i>Solving ODEs I</i>, II.4). A step is accepted when <c>||err|| &lt;= 1</c>.</para>
/// <para>Step-size control (PI, Gustafsson 1991; Söderlind 2002), with <c>p = min(order, embedded order) + 1</c>:
/// accepted: <c>h_new = h clamp(0.9 ||err||^(-0.7/p) ||err_prev||^(0.4/p), 0.2, 10)</c> (no growth right after a rejection);
/// rejected: <c>h_new = h max(0.2, 0.9 ||err||^(-0.7/p))</c>. The I controller uses exponents <c>1/p</c> and 0.</para>
/// <para>Initial step (Hairer et al., II.4, "Starting step size"): <c>d0 = ||y0||</c>, <c>d1 = ||f0||</c>,
/// <c>h0 = 0.01 d0/d1</c>, <c>d2 = ||f(t0 + h0, y0 + h0 f0) - f0|| / h0</c>,
/// <c>h = min(100 h0, (0.01 / max(d1, d2))^(1/(order+1)))</c>, with the scale <c>atol + rtol |y0|</c>.</para>
/// <para>Under <see cref="StepControl.PerSample"/> each row has its own step, norm, controller memory, save cursor and
/// event, so a sample's result does not depend on the rest of the batch; samples that finished are carried with a zero step.</para>
/// </remarks>
public sealed class AdaptiveIntegrator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly EmbeddedTableau _m;
    private readonly int _s, _batch, _row;
    private readonly int[] _shape;
    private BatchTensor<T> _y, _yNew;
    private readonly BatchTensor<T> _yStage, _err;
    private readonly BatchTensor<T>[] _k;
    private readonly Terms[] _stage;
    private readonly Terms _b, _e;
    private readonly double[] _eventNaN;
    private readonly double[] _t, _h, _hs, _tStage, _norm, _errPrev, _g, _weights, _tEnd, _theta;
    private readonly bool[] _active, _lastRejected, _accepted, _nonFinite, _lands, _crossed;
    private readonly long[] _evals, _acc, _rej;
    private readonly int[] _nextSave;
    private readonly T[][] _coef;
    private readonly T[] _ones, _rowBuf;
    private double[] _atolExpanded = [];

    /// <summary>Creates a workspace for batches of <paramref name="batchSize"/> samples of shape <paramref name="sampleShape"/>.</summary>
    public AdaptiveIntegrator(EmbeddedTableau method, int batchSize, params int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(method);
        _m = method;
        _s = method.Stages;
        _y = BatchTensor<T>.Allocate(batchSize, sampleShape);
        _shape = (int[])sampleShape.Clone();
        _batch = batchSize;
        _row = _y.RowLength;
        _yNew = BatchTensor<T>.Allocate(batchSize, sampleShape);
        _yStage = BatchTensor<T>.Allocate(batchSize, sampleShape);
        _err = BatchTensor<T>.Allocate(batchSize, sampleShape);
        _k = new BatchTensor<T>[_s + 1];
        for (int i = 0; i < _s; i++) _k[i] = BatchTensor<T>.Allocate(batchSize, sampleShape);
        _k[_s] = method.IsFsal ? _k[_s - 1] : BatchTensor<T>.Allocate(batchSize, sampleShape);
        _stage = new Terms[_s];
        for (int i = 0; i < _s; i++) _stage[i] = new Terms(method.ARow(i));
        _b = new Terms(method.B);
        _e = new Terms(method.ErrorWeights);
        _t = new double[batchSize]; _h = new double[batchSize]; _hs = new double[batchSize]; _tStage = new double[batchSize];
        _norm = new double[batchSize]; _errPrev = new double[batchSize]; _g = new double[batchSize];
        _tEnd = new double[batchSize]; _theta = new double[batchSize]; _eventNaN = new double[batchSize];
        _weights = new double[_s + 1];
        _active = new bool[batchSize]; _lastRejected = new bool[batchSize]; _accepted = new bool[batchSize];
        _nonFinite = new bool[batchSize]; _lands = new bool[batchSize]; _crossed = new bool[batchSize];
        _evals = new long[batchSize]; _acc = new long[batchSize]; _rej = new long[batchSize];
        _nextSave = new int[batchSize];
        _coef = new T[6][];
        for (int i = 0; i < 6; i++) _coef[i] = new T[batchSize];
        _ones = new T[batchSize];
        Array.Fill(_ones, T.One);
        _rowBuf = new T[_row];
    }

    /// <summary>The method.</summary>
    public EmbeddedTableau Method => _m;

    /// <summary>Solves <paramref name="problem"/>.</summary>
    /// <param name="problem">The problem; its initial state must have this workspace's shape.</param>
    /// <param name="options">Tolerances, limits and outputs; null for the defaults.</param>
    /// <param name="terminalEvent">Optional terminal event <c>g(t, y)</c>, evaluated per sample after every accepted step; its
    /// sign change is located on the dense output by the Illinois method to <see cref="OdeOptions.EventTimeTolerance"/>.</param>
    /// <returns>The result. Failures (non-finite values, budgets, underflow) are reported in its status, not thrown.</returns>
    /// <exception cref="ArgumentException">The initial state has the wrong shape, a tolerance array has the wrong length, or the save times are not inside the span in order.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A tolerance, a step bound or a limit is out of range.</exception>
    public OdeResult<T> Solve(OdeProblem<T> problem, OdeOptions? options = null, EventFunction<T>? terminalEvent = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var o = options ?? new OdeOptions();
        Validate(problem, o);
        var f = problem.Function;
        double t0 = problem.T0, t1 = problem.T1;
        double dir = t1 >= t0 ? 1 : -1;
        int B = _batch, D = _row, s = _s;
        bool perSample = o.StepControl == StepControl.PerSample;
        double rtol = o.RelativeTolerance, atol = o.AbsoluteTolerance;
        var atolRow = o.AbsoluteTolerances;
        if (atolRow is not null && !perSample)
        {
            if (_atolExpanded.Length != B * D) _atolExpanded = new double[B * D];
            for (int b = 0; b < B; b++) atolRow.CopyTo(_atolExpanded, b * D);
        }
        double p = _m.ControllerOrder;
        double beta1 = o.Controller == StepSizeController.ProportionalIntegral ? 0.7 / p : 1.0 / p;
        double beta2 = o.Controller == StepSizeController.ProportionalIntegral ? 0.4 / p : 0;
        var saveTimes = o.SaveTimes ?? [];
        int nSave = saveTimes.Length;

        problem.InitialState.Span.CopyTo(_y.Span);
        var saved = new BatchTensor<T>[nSave];
        for (int i = 0; i < nSave; i++) { saved[i] = BatchTensor<T>.Allocate(B, _shape); saved[i].Span.Fill(T.NaN); }
        var eventTimes = new double[B];
        Array.Fill(eventTimes, double.NaN);
        var solution = o.DenseOutput ? new OdeSolution<T>(_m, B, D) : null;
        var status = new OdeStatus[B];
        int failedSample = -1;
        double failedTime = double.NaN;
        long evaluations = 0, attempts = 0, accepted = 0, rejected = 0;

        Array.Fill(_t, t0);
        Array.Fill(_active, true);
        Array.Clear(_lastRejected); Array.Clear(_evals); Array.Clear(_acc); Array.Clear(_rej); Array.Clear(_nextSave);
        Array.Fill(_errPrev, 1e-4);

        if (t0 == t1)
        {
            for (int i = 0; i < nSave; i++) _y.Span.CopyTo(saved[i].Span);
            return Finish();
        }

        // First derivative.
        f(_t, _y, _k[0]);
        evaluations++;
        for (int b = 0; b < B; b++) _evals[b]++;
        for (int b = 0; b < B; b++)
            if (!TensorReductions.IsFinite<T>(_k[0].Row(b))) Fail(b, OdeStatus.NonFiniteState, t0);
        if (AnyActive() && perSample == false && failedSample >= 0) DeactivateAll(OdeStatus.NonFiniteState);

        // Initial step.
        if (o.InitialStep is double h0) Array.Fill(_h, h0);
        else if (AnyActive()) InitialStep(f, o, dir, t1 - t0, perSample, atolRow, ref evaluations);

        if (terminalEvent is not null)
        {
            for (int b = 0; b < B; b++)
            {
                _g[b] = terminalEvent(t0, _y.Row(b));
                if (double.IsNaN(_g[b]) && _active[b]) Fail(b, OdeStatus.NonFiniteEvent, t0);
            }
            if (failedSample >= 0 && !perSample) DeactivateAll(status[failedSample]);
        }

        while (AnyActive())
        {
            if (attempts >= o.MaxSteps) { DeactivateAll(OdeStatus.MaxStepsReached); break; }
            long needed = s - 1 + (_m.IsFsal ? 0 : 1);
            if (evaluations + needed > o.MaxEvaluations) { DeactivateAll(OdeStatus.EvaluationBudgetExhausted); break; }
            attempts++;

            // Step sizes: clamp, land exactly on t1.
            for (int b = 0; b < B; b++)
            {
                if (!_active[b]) { _hs[b] = 0; _lands[b] = false; continue; }
                double remaining = Math.Abs(t1 - _t[b]);
                double hb = Math.Min(_h[b], o.MaxStep);
                if (double.IsNaN(hb) || double.IsInfinity(hb)) { Fail(b, OdeStatus.NonFiniteStepSize, _t[b]); _hs[b] = 0; continue; }
                _lands[b] = hb >= remaining;
                if (_lands[b]) hb = remaining;
                else if (_t[b] + dir * hb == _t[b]) { Fail(b, OdeStatus.StepSizeUnderflow, _t[b]); _hs[b] = 0; continue; }
                _hs[b] = dir * hb;
            }
            if (failedSample >= 0 && !perSample) { DeactivateAll(status[failedSample]); break; }
            if (!AnyActive()) break;

            // Stages 2..s; the last stage of an FSAL pair is evaluated at y_new.
            for (int i = 1; i < s; i++)
            {
                var dest = (_m.IsFsal && i == s - 1) ? _yNew : _yStage;
                var terms = _stage[i];
                if (perSample) LinearSums.CombinePerSample(dest, _y, _hs, terms.Index, terms.Weight, terms.Count, _k, _coef, _ones);
                else LinearSums.Combine(dest.Span, _y.Span, _hs[0], terms.Index, terms.Weight, terms.Count, _k);
                double ci = _m.C[i];
                for (int b = 0; b < B; b++) _tStage[b] = ci == 1 ? _t[b] + _hs[b] : _t[b] + ci * _hs[b];
                f(_tStage, dest, _k[i]);
                evaluations++;
                for (int b = 0; b < B; b++) if (_active[b]) _evals[b]++;
            }
            if (!_m.IsFsal)
            {
                if (perSample) LinearSums.CombinePerSample(_yNew, _y, _hs, _b.Index, _b.Weight, _b.Count, _k, _coef, _ones);
                else LinearSums.Combine(_yNew.Span, _y.Span, _hs[0], _b.Index, _b.Weight, _b.Count, _k);
            }

            // Error norms and finiteness.
            // Double states fuse the error estimate into the norm (one pass, no err tensor written); see OdeNorms.FusedErrorNorm.
            bool fused = typeof(T) == typeof(double);
            if (o.Adaptive && !fused)
            {
                if (perSample) LinearSums.CombinePerSample(_err, null, _hs, _e.Index, _e.Weight, _e.Count, _k, _coef, _ones);
                else LinearSums.Combine(_err.Span, ReadOnlySpan<T>.Empty, _hs[0], _e.Index, _e.Weight, _e.Count, _k);
            }
            if (perSample)
            {
                for (int b = 0; b < B; b++)
                {
                    if (!_active[b]) continue;
                    double n = 0;
                    bool finite;
                    if (o.Adaptive && fused)
                        n = OdeNorms.FusedErrorNorm(AsDouble(_y.Row(b)), AsDouble(_yNew.Row(b)), _hs[b], _e.Index, _e.Weight, _e.Count,
                            Unsafe.As<BatchTensor<double>[]>(_k), b * D, atol, atolRow, rtol, out finite);
                    else if (o.Adaptive) n = OdeNorms.ErrorNorm<T>(_err.Row(b), _y.Row(b), _yNew.Row(b), atol, atolRow, rtol, out finite);
                    else finite = TensorReductions.IsFinite<T>(_yNew.Row(b));
                    _norm[b] = n;
                    _nonFinite[b] = !double.IsFinite(n) || !finite;
                }
            }
            else
            {
                double n = 0;
                bool finite;
                if (o.Adaptive && fused)
                    n = OdeNorms.FusedErrorNorm(AsDouble(_y.Span), AsDouble(_yNew.Span), _hs[0], _e.Index, _e.Weight, _e.Count,
                        Unsafe.As<BatchTensor<double>[]>(_k), 0, atol, atolRow is null ? default : _atolExpanded, rtol, out finite);
                else if (o.Adaptive) n = OdeNorms.ErrorNorm<T>(_err.Span, _y.Span, _yNew.Span, atol, atolRow is null ? default : _atolExpanded, rtol, out finite);
                else finite = TensorReductions.IsFinite<T>(_yNew.Span);
                bool bad = !double.IsFinite(n) || !finite;
                for (int b = 0; b < B; b++) { _norm[b] = n; _nonFinite[b] = bad; }
            }

            // Accept or reject, per sample (identical decisions under shared control).
            bool anyAccepted = false;
            for (int b = 0; b < B; b++)
            {
                _accepted[b] = false;
                if (!_active[b]) continue;
                double hb = Math.Abs(_hs[b]);
                double err = _norm[b];
                if (!_nonFinite[b] && (err <= 1 || !o.Adaptive))
                {
                    _accepted[b] = true;
                    anyAccepted = true;
                    continue;
                }
                // Rejected.
                _rej[b]++;
                double fac = _nonFinite[b] ? o.MinFactor : Math.Max(o.MinFactor, o.Safety * Math.Pow(err, -beta1));
                _h[b] = hb * fac;
                _lastRejected[b] = true;
                double hMin = Math.Max(o.MinStep, 16 * double.Epsilon + 1e-14 * Math.Max(Math.Abs(_t[b]), Math.Abs(t1)));
                // Under shared control the whole batch fails together; the culprit is the first sample with a non-finite value.
                int culprit = perSample || !_nonFinite[b] ? b : NonFiniteCulprit();
                if (_nonFinite[b] && (!TensorReductions.IsFinite<T>(_k[0].Row(b)) || !o.Adaptive))
                    Fail(culprit, OdeStatus.NonFiniteState, _t[b]);
                else if (_h[b] < hMin)
                    Fail(culprit, _nonFinite[b] ? OdeStatus.NonFiniteState : OdeStatus.StepSizeUnderflow, _t[b]);
                if (!perSample && failedSample >= 0) break;
            }
            if (!perSample && failedSample >= 0) DeactivateAll(_nonFinite[0] ? OdeStatus.NonFiniteState : OdeStatus.StepSizeUnderflow);
            if (anyAccepted) accepted++; else { rejected++; continue; }

            // Non-FSAL pairs: the next first stage f(t_new, y_new); rejected rows re-evaluate at their unchanged state.
            if (!_m.IsFsal)
            {
                for (int b = 0; b < B; b++)
                {
                    if (_accepted[b]) _tStage[b] = _lands[b] ? t1 : _t[b] + _hs[b];
                    else { _tStage[b] = _t[b]; _y.Row(b).CopyTo(_yNew.Row(b)); }
                }
                f(_tStage, _yNew, _k[s]);
                evaluations++;
                for (int b = 0; b < B; b++) if (_active[b]) _evals[b]++;
            }

            // Events, then saves and dense storage, for each accepted sample.
            for (int b = 0; b < B; b++)
            {
                _theta[b] = 1;
                _tEnd[b] = _accepted[b] ? (_lands[b] ? t1 : _t[b] + _hs[b]) : _t[b];
            }
            Array.Clear(_crossed);
            if (terminalEvent is not null)
            {
                LocateEvents(terminalEvent, o.EventTimeTolerance, perSample);
                bool eventFailed = false;
                for (int b = 0; b < B; b++)
                {
                    if (!_accepted[b] || double.IsNaN(_eventNaN[b])) continue;
                    // The step is not committed: the sample keeps its last accepted state.
                    Fail(b, OdeStatus.NonFiniteEvent, _eventNaN[b]);
                    _accepted[b] = false;
                    _y.Row(b).CopyTo(_yNew.Row(b));
                    eventFailed = true;
                }
                if (eventFailed && !perSample) { DeactivateAll(OdeStatus.NonFiniteEvent); break; }
            }

            for (int b = 0; b < B; b++)
            {
                if (!_accepted[b]) continue;
                int off = b * D;
                double tb = _t[b], hsb = _hs[b];
                while (_nextSave[b] < nSave)
                {
                    double ts = saveTimes[_nextSave[b]];
                    if ((ts - _tEnd[b]) * dir > 0) break;
                    var dest = saved[_nextSave[b]].Row(b);
                    if (ts == _tEnd[b] && _theta[b] == 1) _yNew.Row(b).CopyTo(dest);
                    else
                    {
                        _m.DenseWeights(Math.Clamp((ts - tb) / hsb, 0, 1), _weights);
                        LinearSums.CombineRow<T>(dest, _y.Row(b), hsb, _weights, _k, off, D);
                    }
                    _nextSave[b]++;
                }
                solution?.Add(b, tb, hsb, _y.Row(b), _k);
                if (_theta[b] < 1)
                {
                    // A terminal event: the state at the event time.
                    _m.DenseWeights(_theta[b], _weights);
                    LinearSums.CombineRow<T>(_yNew.Row(b), _y.Row(b), hsb, _weights, _k, off, D);
                }
            }

            // Commit accepted samples and choose the next step.
            for (int b = 0; b < B; b++)
            {
                if (!_accepted[b]) continue;
                _acc[b]++;
                double hb = Math.Abs(_hs[b]);
                _t[b] = _tEnd[b];
                if (o.Adaptive)
                {
                    double err = _norm[b];
                    double fac = err == 0 ? o.MaxFactor : o.Safety * Math.Pow(err, -beta1) * Math.Pow(_errPrev[b], beta2);
                    fac = Math.Clamp(fac, o.MinFactor, o.MaxFactor);
                    if (_lastRejected[b]) fac = Math.Min(fac, 1);
                    // A step shortened to land on t1 says little about the step the solution allows.
                    _h[b] = _lands[b] ? _h[b] : hb * fac;
                    _errPrev[b] = Math.Max(err, 1e-4);
                }
                _lastRejected[b] = false;
                if (_theta[b] < 1 || _crossed[b])
                {
                    // Under shared control the batch stops with the first event; only samples whose function crossed record a time.
                    _active[b] = false;
                    status[b] = OdeStatus.TerminatedByEvent;
                    if (_crossed[b]) eventTimes[b] = _tEnd[b];
                }
                else if (_lands[b]) { _active[b] = false; status[b] = OdeStatus.Success; }
            }

            if (!perSample || AllAcceptedOrInactive())
            {
                (_y, _yNew) = (_yNew, _y);
                if (_m.IsFsal) { (_k[0], _k[s - 1]) = (_k[s - 1], _k[0]); _k[s] = _k[s - 1]; }
                else (_k[0], _k[s]) = (_k[s], _k[0]);
            }
            else
            {
                var first = _m.IsFsal ? _k[s - 1] : _k[s];
                for (int b = 0; b < B; b++)
                {
                    if (!_accepted[b]) continue;
                    _yNew.Row(b).CopyTo(_y.Row(b));
                    first.Row(b).CopyTo(_k[0].Row(b));
                }
            }
        }
        return Finish();

        OdeResult<T> Finish()
        {
            var final = BatchTensor<T>.Allocate(B, _shape);
            _y.Span.CopyTo(final.Span);
            var stats = new OdeStatistics[B];
            for (int b = 0; b < B; b++) stats[b] = new OdeStatistics(_evals[b], _acc[b], _rej[b]);
            OdeStatus overall = OdeStatus.Success;
            for (int b = 0; b < B; b++)
            {
                if (status[b] is OdeStatus.Success) continue;
                if (status[b] is OdeStatus.TerminatedByEvent) { if (overall == OdeStatus.Success) overall = status[b]; continue; }
                overall = status[failedSample >= 0 ? failedSample : b];
                if (failedSample < 0) failedSample = b;
                break;
            }
            if (t0 == t1) Array.Fill(_t, t0);
            return new OdeResult<T>(overall, final, (double[])_t.Clone(), status, new OdeStatistics(evaluations, accepted, rejected), stats,
                failedSample, failedTime, o.SaveTimes is null ? null : (double[])o.SaveTimes.Clone(), saved, eventTimes, solution);
        }

        void Fail(int b, OdeStatus st, double time)
        {
            _active[b] = false;
            status[b] = st;
            if (failedSample < 0) { failedSample = b; failedTime = time; }
        }

        void DeactivateAll(OdeStatus st)
        {
            for (int b = 0; b < B; b++)
                if (_active[b]) { _active[b] = false; status[b] = st; }
        }
    }

    private int NonFiniteCulprit()
    {
        int b = TensorReductions.FirstNonFiniteSample(_yNew);
        for (int i = 0; b < 0 && i < _s; i++) b = TensorReductions.FirstNonFiniteSample(_k[i]);
        if (b < 0)
        {
            // The fused norm of double states does not write the error estimate: form it here (shared control only).
            LinearSums.Combine(_err.Span, ReadOnlySpan<T>.Empty, _hs[0], _e.Index, _e.Weight, _e.Count, _k);
            b = TensorReductions.FirstNonFiniteSample(_err);
        }
        return Math.Max(b, 0);
    }

    private static ReadOnlySpan<double> AsDouble(ReadOnlySpan<T> x) => MemoryMarshal.Cast<T, double>(x);

    private bool AnyActive()
    {
        foreach (var a in _active) if (a) return true;
        return false;
    }

    private bool AllAcceptedOrInactive()
    {
        for (int b = 0; b < _batch; b++) if (!_accepted[b] && Math.Abs(_hs[b]) > 0 && _active[b]) return false;
        return true;
    }

    private void InitialStep(OdeFunction<T> f, OdeOptions o, double dir, double span, bool perSample, double[]? atolRow, ref long evaluations)
    {
        int B = _batch;
        double rtol = o.RelativeTolerance, atol = o.AbsoluteTolerance;
        double Norm(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<double> atolSpan)
            => atolRow is null ? TensorReductions.ErrorNorm(x, y, y, atol, rtol) : TensorReductions.ErrorNorm(x, y, y, atolSpan, rtol);
        Span<double> d1s = B <= 256 ? stackalloc double[B] : new double[B];
        int groups = perSample ? B : 1;
        for (int g = 0; g < groups; g++)
        {
            var y = perSample ? _y.Row(g) : _y.Span;
            var k0 = perSample ? _k[0].Row(g) : _k[0].Span;
            ReadOnlySpan<double> at = atolRow is null ? default : perSample ? atolRow : _atolExpanded;
            double d0 = Norm(y, y, at), d1 = Norm(k0, y, at);
            double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
            h0 = Math.Min(Math.Min(h0, o.MaxStep), Math.Abs(span));
            // A zero scale (atol = 0 at a zero component) makes the norms 0/0 = NaN or infinite; as in Hairer's DOPRI5 and
            // OrdinaryDiffEq.jl, a guess that is NaN or not positive falls back to a small fraction of the span.
            if (!(h0 > 0)) h0 = Math.Min(1e-6 * Math.Abs(span), o.MaxStep);
            if (perSample) { _h[g] = h0; d1s[g] = d1; }
            else { Array.Fill(_h, h0); d1s.Fill(d1); }
        }
        for (int b = 0; b < B; b++) _hs[b] = _active[b] ? dir * _h[b] : 0;
        var one = new Terms([1.0]);
        if (perSample) LinearSums.CombinePerSample(_yStage, _y, _hs, one.Index, one.Weight, 1, _k, _coef, _ones);
        else LinearSums.Combine(_yStage.Span, _y.Span, _hs[0], one.Index, one.Weight, 1, _k);
        for (int b = 0; b < B; b++) _tStage[b] = _t[b] + _hs[b];
        f(_tStage, _yStage, _k[1]);
        evaluations++;
        for (int b = 0; b < B; b++) if (_active[b]) _evals[b]++;
        for (int g = 0; g < groups; g++)
        {
            double h0 = _h[perSample ? g : 0];
            var y = perSample ? _y.Row(g) : _y.Span;
            var k0 = perSample ? _k[0].Row(g) : _k[0].Span;
            var k1 = perSample ? _k[1].Row(g) : _k[1].Span;
            var e = perSample ? _err.Row(g) : _err.Span;
            T c = T.CreateTruncating(1 / h0);
            TensorKernels.LinearCombination(e, c, k1, -c, k0);
            ReadOnlySpan<double> at = atolRow is null ? default : perSample ? atolRow : _atolExpanded;
            double d2 = Norm(e, y, at);
            double d1 = d1s[g];
            double m = Math.Max(d1, d2);
            double h1 = !double.IsFinite(m) ? h0 * 1e-3 : m <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / m, 1.0 / (_m.Order + 1));
            double h = Math.Min(Math.Min(100 * h0, h1), o.MaxStep);
            if (!(h > 0)) h = h0;
            if (perSample) _h[g] = h; else Array.Fill(_h, h);
        }
    }

    private void LocateEvents(EventFunction<T> g, double tol, bool perSample)
    {
        int B = _batch, D = _row;
        double thetaMin = 1;
        Array.Fill(_eventNaN, double.NaN);
        for (int b = 0; b < B; b++)
        {
            if (!_accepted[b]) continue;
            double gNew = g(_tEnd[b], _yNew.Row(b));
            if (double.IsNaN(gNew)) { _eventNaN[b] = _tEnd[b]; continue; }
            double gOld = _g[b];
            _g[b] = gNew;
            bool crossed = (gOld < 0 && gNew >= 0) || (gOld > 0 && gNew <= 0);
            if (!crossed) continue;
            // Illinois iteration on theta in [0, 1] using the dense output.
            double a = 0, fa = gOld, c = 1, fc = gNew;
            int side = 0;
            double hb = Math.Abs(_hs[b]);
            for (int it = 0; it < 200 && (c - a) * hb > tol; it++)
            {
                double th = (a * fc - c * fa) / (fc - fa);
                if (!(th > a && th < c)) th = 0.5 * (a + c);
                _m.DenseWeights(th, _weights);
                LinearSums.CombineRow<T>(_rowBuf, _y.Row(b), _hs[b], _weights, _k, b * D, D);
                double ft = g(_t[b] + th * _hs[b], _rowBuf);
                if (double.IsNaN(ft)) { _eventNaN[b] = _t[b] + th * _hs[b]; break; }
                if (ft == 0) { a = c = th; break; }
                if (Math.Sign(ft) == Math.Sign(fc)) { c = th; fc = ft; if (side == 1) fa *= 0.5; side = 1; }
                else { a = th; fa = ft; if (side == -1) fc *= 0.5; side = -1; }
            }
            if (!double.IsNaN(_eventNaN[b])) { _g[b] = gOld; continue; }
            _theta[b] = c;
            _crossed[b] = true;
            if (c < thetaMin) thetaMin = c;
        }
        bool any = false;
        for (int b = 0; b < B; b++) any |= _crossed[b];
        if (!perSample && any)
        {
            // Shared stepping stops the whole batch at the earliest event; later crossings in this step have not happened yet.
            for (int b = 0; b < B; b++)
            {
                if (!_accepted[b]) continue;
                if (_crossed[b] && _theta[b] > thetaMin) _crossed[b] = false;
                _theta[b] = thetaMin;
            }
        }
        for (int b = 0; b < B; b++)
            if (_accepted[b] && _theta[b] < 1)
                _tEnd[b] = _t[b] + _theta[b] * _hs[b];
    }

    private void Validate(OdeProblem<T> problem, OdeOptions o)
    {
        var y0 = problem.InitialState;
        if (y0.BatchSize != _batch || y0.RowLength != _row)
            throw new ArgumentException($"The initial state has shape {y0.ShapeString}; this integrator was built for {_batch} samples of {_row} elements.", nameof(problem));
        if (!(o.RelativeTolerance >= 0) || double.IsInfinity(o.RelativeTolerance))
            throw new ArgumentOutOfRangeException(nameof(o.RelativeTolerance), o.RelativeTolerance, "The relative tolerance must be finite and non-negative.");
        if (o.AbsoluteTolerances is { } at)
        {
            if (at.Length != _row) throw new ArgumentException($"AbsoluteTolerances has {at.Length} entries; a sample has {_row} elements.", nameof(o.AbsoluteTolerances));
            for (int i = 0; i < at.Length; i++)
                if (!(at[i] >= 0) || double.IsInfinity(at[i]) || (at[i] == 0 && o.RelativeTolerance == 0))
                    throw new ArgumentOutOfRangeException(nameof(o.AbsoluteTolerances), at[i], $"Absolute tolerance {i} must be finite, non-negative, and not zero together with rtol.");
        }
        else if (!(o.AbsoluteTolerance >= 0) || double.IsInfinity(o.AbsoluteTolerance) || (o.AbsoluteTolerance == 0 && o.RelativeTolerance == 0))
            throw new ArgumentOutOfRangeException(nameof(o.AbsoluteTolerance), o.AbsoluteTolerance, "The absolute tolerance must be finite, non-negative, and not zero together with rtol.");
        if (o.InitialStep is double h && !(h > 0 && double.IsFinite(h)))
            throw new ArgumentOutOfRangeException(nameof(o.InitialStep), h, "The initial step must be positive and finite (its sign follows the direction of integration).");
        if (!o.Adaptive && o.InitialStep is null)
            throw new ArgumentException("A non-adaptive solve needs InitialStep, the constant step size.", nameof(o.Adaptive));
        if (!(o.MinStep >= 0)) throw new ArgumentOutOfRangeException(nameof(o.MinStep), o.MinStep, "MinStep must be non-negative.");
        if (!(o.MaxStep > 0)) throw new ArgumentOutOfRangeException(nameof(o.MaxStep), o.MaxStep, "MaxStep must be positive.");
        if (o.MaxSteps <= 0) throw new ArgumentOutOfRangeException(nameof(o.MaxSteps), o.MaxSteps, "MaxSteps must be positive.");
        if (o.MaxEvaluations <= 0) throw new ArgumentOutOfRangeException(nameof(o.MaxEvaluations), o.MaxEvaluations, "MaxEvaluations must be positive.");
        if (!(o.Safety > 0 && o.Safety <= 1)) throw new ArgumentOutOfRangeException(nameof(o.Safety), o.Safety, "Safety must be in (0, 1].");
        if (!(o.MinFactor > 0 && o.MinFactor < 1)) throw new ArgumentOutOfRangeException(nameof(o.MinFactor), o.MinFactor, "MinFactor must be in (0, 1).");
        if (!(o.MaxFactor > 1)) throw new ArgumentOutOfRangeException(nameof(o.MaxFactor), o.MaxFactor, "MaxFactor must exceed 1.");
        if (!(o.EventTimeTolerance > 0)) throw new ArgumentOutOfRangeException(nameof(o.EventTimeTolerance), o.EventTimeTolerance, "EventTimeTolerance must be positive.");
        if (o.SaveTimes is { } st)
        {
            double t0 = problem.T0, t1 = problem.T1, dir = t1 >= t0 ? 1 : -1;
            for (int i = 0; i < st.Length; i++)
            {
                if (!double.IsFinite(st[i]) || (st[i] - t0) * dir < 0 || (st[i] - t1) * dir > 0)
                    throw new ArgumentException($"Save time {i} ({st[i]}) lies outside the span [{t0}, {t1}].", nameof(o.SaveTimes));
                if (i > 0 && (st[i] - st[i - 1]) * dir < 0)
                    throw new ArgumentException($"Save times must be ordered in the direction of integration; time {i} ({st[i]}) comes before time {i - 1} ({st[i - 1]}).", nameof(o.SaveTimes));
            }
        }
    }
}
