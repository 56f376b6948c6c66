using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>
/// An adaptive embedded Runge–Kutta integrator with a reusable workspace: after construction a solve allocates
/// its result once and nothing per step (unless dense output is kept).
/// </summary>
/// <remarks>
/// <para>Built from parts, as OrdinaryDiffEq.jl and diffrax are: the tableau and its interpolant (<see cref="EmbeddedTableau"/>),
/// a workspace, one Runge–Kutta step (stages and error norm), the initial-step heuristic, a step-size controller
/// (<see cref="IStepSizeController"/>) applied by the accept/reject bookkeeping, event location, save recording, and the
/// short loop of <see cref="Solve"/>. A new controller is one class; a new method is one tableau.</para>
/// <para>Step: the stages of <see cref="Method"/>, the error estimate <c>err = h sum_i e_i k_i</c> and its scaled RMS norm
/// <c>||err|| = sqrt(mean_i (err_i / (atol_i + rtol max(|y_i|, |y_new_i|)))^2)</c> (Hairer, Nørsett and Wanner,
/// <i>Solving ODEs I</i>, II.4). A step is accepted when <c>||err|| &lt;= 1</c>; the controller gives the next step
/// (<see cref="ProportionalIntegralController"/> by default, <c>p = min(order, embedded order) + 1</c>; no growth right after a rejection).</para>
/// <para>Initial step (Hairer et al., II.4, "Starting step size"): <c>d0 = ||y0||</c>, <c>d1 = ||f0||</c>,
/// <c>h0 = 0.01 d0/d1</c>, <c>d2 = ||f(t0 + h0, y0 + h0 f0) - f0|| / h0</c>,
/// <c>h = min(100 h0, (0.01 / max(d1, d2))^(1/(order+1)))</c>, with the scale <c>atol + rtol |y0|</c>; a NaN or non-positive
/// guess (a zero scale) falls back to <c>1e-6 |t1 - t0|</c>.</para>
/// <para>Under <see cref="StepSizeSharing.PerSample"/> each row has its own step, norm, controller memory, save cursor and
/// event, so a sample's result does not depend on the rest of the batch; samples that finished are carried with a zero step.</para>
/// <para>Thread safety: one solve at a time per instance (the workspace is reused); a second concurrent <see cref="Solve"/> on the
/// same instance throws <see cref="InvalidOperationException"/>. Use one integrator per thread, or <see cref="OdeSolver.Solve{T}(OdeProblem{T}, EmbeddedTableau, OdeOptions?, EventFunction{T}?, OdeObserver{T}?)"/>.
/// The problem, options and controllers may be shared.</para>
/// </remarks>
public sealed class AdaptiveIntegrator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly AdaptiveWorkspace<T> _w;

    /// <summary>Creates a workspace for batches of <paramref name="batchSize"/> samples of shape <paramref name="sampleShape"/>.</summary>
    public AdaptiveIntegrator(EmbeddedTableau method, int batchSize, params int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(method);
        _w = new AdaptiveWorkspace<T>(method, batchSize, sampleShape);
    }

    /// <summary>The method.</summary>
    public EmbeddedTableau Method => _w.Method;

    /// <summary>Solves <paramref name="problem"/>.</summary>
    /// <param name="problem">The problem; its initial state must have this workspace's shape.</param>
    /// <param name="options">Tolerances, limits, controller and outputs; null for the defaults.</param>
    /// <param name="terminalEvent">Optional terminal event <c>g(t, y)</c>, evaluated per sample after every accepted step; its
    /// sign change is located on the dense output by the Illinois method to <see cref="OdeOptions.EventTimeTolerance"/>.
    /// A NaN value ends the solve with <see cref="OdeStatus.NonFiniteEvent"/>.</param>
    /// <param name="observer">Optional cancellation, progress and per-step callback.</param>
    /// <returns>The result. Failures (non-finite values, budgets, underflow) are reported in its status, not thrown.</returns>
    /// <exception cref="ArgumentException">The initial state has the wrong shape, a tolerance array has the wrong length, or the save times are not inside the span in order.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A tolerance, a step bound or a limit is out of range.</exception>
    /// <exception cref="InvalidOperationException">Another thread is solving with this integrator.</exception>
    /// <exception cref="OperationCanceledException">The observer's token was cancelled (checked before every step attempt).</exception>
    public OdeResult<T> Solve(OdeProblem<T> problem, OdeOptions? options = null, EventFunction<T>? terminalEvent = null, OdeObserver<T>? observer = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var o = options ?? new OdeOptions();
        var controller = o.CustomController ?? (o.FixedStep ? ConstantStepController.Instance
            : o.Controller == StepSizeController.Integral ? IntegralController.Instance : ProportionalIntegralController.Instance);
        Validate(problem, o, controller);
        _w.Enter();
        try { return Run(problem, o, controller, terminalEvent, observer); }
        finally { _w.Exit(); }
    }

    private OdeResult<T> Run(OdeProblem<T> problem, OdeOptions o, IStepSizeController controller, EventFunction<T>? terminalEvent, OdeObserver<T>? observer)
    {
        var w = _w;
        var f = problem.Function;
        double t0 = problem.T0, t1 = problem.T1;
        double dir = t1 >= t0 ? 1 : -1;
        int B = w.Batch, D = w.Row;
        bool perSample = o.StepSizeSharing == StepSizeSharing.PerSample;
        double rtol = o.RelativeTolerance, atol = o.AbsoluteTolerance;
        var atolRow = o.AbsoluteTolerances;
        if (atolRow is not null && !perSample)
        {
            if (w.AtolExpanded.Length != B * D) w.AtolExpanded = new double[B * D];
            for (int b = 0; b < B; b++) atolRow.CopyTo(w.AtolExpanded, b * D);
        }
        double p = w.Method.ControllerOrder;
        var limits = new StepSizeLimits(o.Safety, o.MinFactor, o.MaxFactor);
        w.PrepareMemory(controller);
        var token = observer?.CancellationToken ?? default;
        var recorder = new SaveRecorder<T>(o.SaveTimes ?? [], dir, B, w.Shape, o.DenseOutput ? new OdeSolution<T>(w.Method, B, D) : null);
        var outcome = new SolveOutcome(B);
        long evaluations = 0, attempts = 0, accepted = 0, rejected = 0;
        long perStep = w.Stages - 1 + (w.Method.IsFsal ? 0 : 1);

        problem.InitialState.Span.CopyTo(w.Y.Span);
        Array.Fill(w.Time, t0);
        Array.Fill(w.Active, true);
        Array.Clear(w.LastRejected); Array.Clear(w.Evals); Array.Clear(w.Acc); Array.Clear(w.Rej); Array.Clear(w.NextSave);
        if (t0 == t1)
        {
            recorder.FillAll(w.Y);
            return Finish();
        }

        // First derivative, first step, event values at t0.
        f(w.Time, w.Y, w.K[0]);
        evaluations++;
        for (int b = 0; b < B; b++) w.Evals[b]++;
        for (int b = 0; b < B; b++)
            if (!TensorReductions.IsFinite<T>(w.K[0].Row(b))) outcome.Fail(w.Active, b, OdeStatus.NonFiniteState, t0);
        if (!perSample && outcome.HasFailed) outcome.EndAll(w.Active, OdeStatus.NonFiniteState);
        if (o.InitialStep is double h0) Array.Fill(w.H, h0);
        else if (w.AnyActive()) evaluations += InitialStepSize<T>.Choose(w, f, o, dir, t1 - t0, perSample, atolRow);
        if (terminalEvent is not null && EventLocator<T>.Start(w, terminalEvent, t0) >= 0)
        {
            for (int b = 0; b < B; b++) if (double.IsNaN(w.G[b]) && w.Active[b]) outcome.Fail(w.Active, b, OdeStatus.NonFiniteEvent, t0);
            if (!perSample) outcome.EndAll(w.Active, OdeStatus.NonFiniteEvent);
        }

        while (w.AnyActive())
        {
            token.ThrowIfCancellationRequested();
            if (attempts >= o.MaxSteps) { outcome.EndAll(w.Active, OdeStatus.MaxStepsReached); break; }
            if (evaluations + perStep > o.MaxEvaluations) { outcome.EndAll(w.Active, OdeStatus.EvaluationBudgetExhausted); break; }
            attempts++;
            if (!StepAcceptance<T>.ChooseSteps(w, outcome, o.MaxStep, t1, dir, perSample)) break;

            evaluations += RungeKuttaStep<T>.Stages(w, f, perSample);
            RungeKuttaStep<T>.ErrorNorms(w, controller.IsAdaptive, perSample, atol, atolRow, rtol);
            if (StepAcceptance<T>.Decide(w, outcome, controller, o, p, limits, t1, perSample)) accepted++;
            else { rejected++; continue; }
            if (!w.Method.IsFsal) { RungeKuttaStep<T>.NextFirstStage(w, f, t1); evaluations++; }

            for (int b = 0; b < B; b++)
            {
                w.Theta[b] = 1;
                w.TEnd[b] = w.Accepted[b] ? (w.Lands[b] ? t1 : w.Time[b] + w.Hs[b]) : w.Time[b];
            }
            Array.Clear(w.Crossed);
            if (terminalEvent is not null && !LocateEvents(terminalEvent)) break;
            recorder.Record(w);
            StepAcceptance<T>.Commit(w, outcome, controller, p, limits);
            w.CommitAccepted(perSample);
            if (observer is not null) Observe();
        }
        return Finish();

        // Events of this step; a NaN event value ends the sample (the batch, under shared control) without committing the step.
        bool LocateEvents(EventFunction<T> g)
        {
            EventLocator<T>.Locate(w, g, o.EventTimeTolerance, perSample);
            bool failed = false;
            for (int b = 0; b < B; b++)
            {
                if (!w.Accepted[b] || double.IsNaN(w.EventNaN[b])) continue;
                outcome.Fail(w.Active, b, OdeStatus.NonFiniteEvent, w.EventNaN[b]);
                w.Accepted[b] = false;
                w.Y.Row(b).CopyTo(w.YNew.Row(b));
                failed = true;
            }
            if (failed && !perSample) { outcome.EndAll(w.Active, OdeStatus.NonFiniteEvent); return false; }
            return true;
        }

        void Observe()
        {
            observer!.OnStep?.Invoke(w.Time, w.HTaken, w.Y);
            if (observer.Progress is { } progress)
            {
                // The least advanced sample's time (all equal under shared control).
                double slowest = w.Time[0];
                for (int b = 1; b < B; b++) if ((w.Time[b] - slowest) * dir < 0) slowest = w.Time[b];
                progress.Report(slowest);
            }
        }

        OdeResult<T> Finish()
        {
            var final = BatchTensor<T>.Allocate(B, w.Shape);
            w.Y.Span.CopyTo(final.Span);
            var stats = new OdeStatistics[B];
            for (int b = 0; b < B; b++) stats[b] = new OdeStatistics(w.Evals[b], w.Acc[b], w.Rej[b]);
            var overall = outcome.Overall();
            if (t0 == t1) Array.Fill(w.Time, t0);
            return new OdeResult<T>(overall, final, (double[])w.Time.Clone(), outcome.Status, new OdeStatistics(evaluations, accepted, rejected), stats,
                outcome.FailedSample, outcome.FailedTime, o.SaveTimes is null ? null : (double[])o.SaveTimes.Clone(), recorder.Saved,
                outcome.EventTimes, recorder.Solution);
        }
    }

    private void Validate(OdeProblem<T> problem, OdeOptions o, IStepSizeController controller)
    {
        var y0 = problem.InitialState;
        if (y0.BatchSize != _w.Batch || y0.RowLength != _w.Row)
            throw new ArgumentException($"The initial state has shape {y0.ShapeString}; this integrator was built for {_w.Batch} samples of {_w.Row} elements.", nameof(problem));
        if (!(o.RelativeTolerance >= 0) || double.IsInfinity(o.RelativeTolerance))
            throw new ArgumentOutOfRangeException(nameof(o.RelativeTolerance), o.RelativeTolerance, "The relative tolerance must be finite and non-negative.");
        if (o.AbsoluteTolerances is { } at)
        {
            if (at.Length != _w.Row) throw new ArgumentException($"AbsoluteTolerances has {at.Length} entries; a sample has {_w.Row} elements.", nameof(o.AbsoluteTolerances));
            for (int i = 0; i < at.Length; i++)
                if (!(at[i] >= 0) || double.IsInfinity(at[i]) || (at[i] == 0 && o.RelativeTolerance == 0))
                    throw new ArgumentOutOfRangeException(nameof(o.AbsoluteTolerances), at[i], $"Absolute tolerance {i} must be finite, non-negative, and not zero together with rtol.");
        }
        else if (!(o.AbsoluteTolerance >= 0) || double.IsInfinity(o.AbsoluteTolerance) || (o.AbsoluteTolerance == 0 && o.RelativeTolerance == 0))
            throw new ArgumentOutOfRangeException(nameof(o.AbsoluteTolerance), o.AbsoluteTolerance, "The absolute tolerance must be finite, non-negative, and not zero together with rtol.");
        if (o.InitialStep is double h && !(h > 0 && double.IsFinite(h)))
            throw new ArgumentOutOfRangeException(nameof(o.InitialStep), h, "The initial step must be positive and finite (its sign follows the direction of integration).");
        if (!controller.IsAdaptive && o.InitialStep is null)
            throw new ArgumentException("A non-adaptive solve needs InitialStep, the constant step size.", nameof(o.FixedStep));
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
