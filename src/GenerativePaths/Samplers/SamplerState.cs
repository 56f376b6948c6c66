using System.Numerics;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

/// <summary>
/// The caller-owned state of a sampling run: the current sample <see cref="X"/>, the model and schedule, the model-output,
/// scratch and history buffers, per-sample coefficient buffers, the noise source and the evaluation count.
/// Samplers are stateless; everything that changes during a run lives here, so one sampler object can serve many runs and threads.
/// </summary>
/// <remarks>
/// <para>Every buffer is allocated once (scratch and history on first use), so steps after the first allocate nothing.
/// The state may be reused for another run of the same shape with <see cref="Reset"/>.</para>
/// <para>Thread safety: not thread-safe; one state per run (the sampler and schedule may be shared).</para>
/// <para>Finite checks: every combination of the state checks, in the pass that writes it, that what it wrote is finite. A non-finite
/// value is blamed on the model (<see cref="NonFiniteModelOutputException"/>) only when a model output it read is non-finite, and on the
/// update otherwise (<see cref="NonFiniteStateException"/>, naming the step, its model time and the first bad sample); the driver checks
/// the initial state once, and the state after a step only when the step wrote it by other means (one read pass then).</para>
/// <para>A model evaluation writes the raw prediction <c>p</c> and the per-sample coefficients of the denoised estimate
/// <c>x0hat = c_x x + c_p p</c> (<see cref="PredictionConversion"/>), so a sampler can fuse the conversion into its update.</para>
/// </remarks>
public sealed partial class SamplerState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _modelTimes;
    private readonly long[] _sampleIds;
    private readonly int[] _sampleShape;
    private BatchTensor<T>? _denoised;

    /// <summary>Creates the state of a run that advances <paramref name="x"/> in place.</summary>
    /// <param name="model">The model.</param>
    /// <param name="schedule">The points to visit.</param>
    /// <param name="x">The initial state in the path's coordinates (<c>x = alpha x0 + sigma eps</c> at the first point); overwritten with the sample.</param>
    /// <param name="noise">The noise source of stochastic samplers (stream = step index); null for deterministic runs.</param>
    /// <param name="sampleIds">Each row's identity for the noise source (default <c>0 .. B-1</c>); lets a split batch draw the same noise.</param>
    /// <param name="velocityPath">The path whose time a flow-velocity model differentiates. Default: the schedule's path, except that a
    /// <see cref="RectifiedFlowPath"/> with a time shift is replaced by the unshifted one (flow models predict <c>d x / d sigma = eps - x0</c>).</param>
    /// <param name="condition">Each row's condition (a class label or a conditioning tensor, one row per sample), handed to every model call; default none.</param>
    /// <exception cref="ArgumentException">The sample ids or the condition rows do not match the batch.</exception>
    public SamplerState(IGenerativeModel<T> model, StepSchedule schedule, BatchTensor<T> x, NoiseSource? noise = null, ReadOnlySpan<long> sampleIds = default, NoisePath? velocityPath = null, ModelCondition condition = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(x);
        if (!sampleIds.IsEmpty && sampleIds.Length != x.BatchSize)
            throw new ArgumentException($"{sampleIds.Length} sample ids for a batch of {x.BatchSize}.", nameof(sampleIds));
        condition.EnsureRows(x.BatchSize, nameof(condition));
        Model = model;
        Condition = condition;
        Schedule = schedule;
        X = x;
        Noise = noise;
        // A flow model's velocity is d/dsigma of (1 - sigma) x0 + sigma eps whatever time warp (shift) the path uses.
        VelocityPath = velocityPath ?? (schedule.Path is RectifiedFlowPath ? new RectifiedFlowPath() : schedule.Path);
        _sampleShape = x.SampleShape.ToArray();
        _sampleIds = new long[x.BatchSize];
        for (int b = 0; b < _sampleIds.Length; b++) _sampleIds[b] = sampleIds.IsEmpty ? b : sampleIds[b];
        _modelTimes = new double[x.BatchSize];
        ModelOutput = BatchTensor<T>.Allocate(x.BatchSize, _sampleShape);
        SecondOutput = BatchTensor<T>.Allocate(x.BatchSize, _sampleShape);
    }

    /// <summary>The model.</summary>
    public IGenerativeModel<T> Model { get; }

    /// <summary>The rows' condition, passed to every model call (<see cref="ModelCondition.None"/> for an unconditional run).</summary>
    public ModelCondition Condition { get; }

    /// <summary>The schedule.</summary>
    public StepSchedule Schedule { get; }

    /// <summary>The current sample, advanced in place by each step.</summary>
    public BatchTensor<T> X { get; }

    /// <summary>The noise source (null for a deterministic run).</summary>
    public NoiseSource? Noise { get; }

    /// <summary>The path whose time derivative defines a flow-velocity prediction.</summary>
    public NoisePath VelocityPath { get; }

    /// <summary>Number of samples.</summary>
    public int BatchSize => X.BatchSize;

    /// <summary>The sample ids handed to the noise source.</summary>
    public ReadOnlySpan<long> SampleIds => _sampleIds;

    /// <summary>Model evaluations so far (one per batched call).</summary>
    public long ModelEvaluations { get; private set; }

    /// <summary>The step being taken (set by <see cref="BeginStep"/>); reported by errors.</summary>
    public int StepIndex { get; private set; }

    /// <summary>The primary model-output buffer.</summary>
    public BatchTensor<T> ModelOutput { get; }

    /// <summary>A second model-output buffer (for samplers that evaluate twice per step).</summary>
    public BatchTensor<T> SecondOutput { get; }

    /// <summary>When true, the first evaluation of each step also writes its denoised estimate to <see cref="Denoised"/> (for callbacks).</summary>
    public bool TrackDenoised { get; set; }

    /// <summary>The denoised estimate of the current step's first evaluation; valid when <see cref="TrackDenoised"/> is set.</summary>
    public BatchTensor<T> Denoised => _denoised ??= BatchTensor<T>.Allocate(BatchSize, _sampleShape);

    /// <summary>The last history entry recorded in this state (<see cref="HistoryRing{T}.Record"/>): the writing sampler, the quantity,
    /// the step and the writer's consecutive entries; null after <see cref="Reset"/> or before any.</summary>
    public HistoryTag? HistoryTag { get; private set; }

    private bool _firstEvaluationOfStep;

    // A model output of EvaluateDeferred whose finite check waits for the combination that consumes it.
    // Model outputs whose finite check waits for the combination that consumes them (at most a few per step).
    private (BatchTensor<T> Output, SchedulePoint Point)[] _pending = new (BatchTensor<T>, SchedulePoint)[4];
    private int _pendingCount;

    // Whether the last write to X in the current step was a checked (finite) combination.
    private bool _stateChecked;

    /// <summary>True when the last write to <see cref="X"/> during the current step went through one of this state's combinations
    /// (all of which check what they write); the driver scans <see cref="X"/> only when it is false.</summary>
    internal bool StateChecked => _stateChecked;

    /// <summary>Marks the start of step <paramref name="index"/> (the driver calls this).</summary>
    public void BeginStep(int index)
    {
        StepIndex = index;
        _firstEvaluationOfStep = true;
        _stateChecked = false;
        _pendingCount = 0;
        _evaluationsThisStep = 0;
    }

    /// <summary>Prepares the state for a new run from the current contents of <see cref="X"/>: clears the history and the evaluation count.</summary>
    public void Reset()
    {
        ClearHistories();
        ModelEvaluations = 0;
        HistoryTag = null;
        StepIndex = 0;
    }

    /// <summary>
    /// Makes this state a copy of <paramref name="other"/> at the same point of a run: the sample, the model-output, scratch, history and
    /// denoised buffers (allocating those this state lacks) and the history marker. Used by the parallel-in-time driver to restart a sweep
    /// from the last converged step. Both states must belong to runs of the same shape.
    /// </summary>
    internal void CopyFrom(SamplerState<T> other)
    {
        other.X.CopyTo(X);
        other.ModelOutput.CopyTo(ModelOutput);
        other.SecondOutput.CopyTo(SecondOutput);
        if (other._denoised is { } d) d.CopyTo(Denoised);
        HistoryTag = other.HistoryTag;
        StepIndex = other.StepIndex;
        CopyAuthoringState(other);
    }

    /// <summary>
    /// Calls the model on <paramref name="x"/> at <paramref name="point"/>, writes its raw prediction to <paramref name="output"/> and
    /// returns the coefficients of the denoised estimate <c>x0hat = ofState * x + ofOutput * output</c>, with the finite check of
    /// <paramref name="output"/> left to the combination that reads it (checked eagerly when the denoised estimate is tracked).
    /// </summary>
    /// <remarks>A combination that reads <c>p</c> with any coefficient writes a non-finite element wherever <c>p</c> is non-finite
    /// (<c>0 * NaN</c>, <c>0 * inf</c> and <c>inf - inf</c> are NaN), so the fused check of the written values sees every bad model
    /// value without a separate read pass over the model output.</remarks>
    internal (double OfState, double OfOutput) EvaluateDeferred(BatchTensor<T> x, SchedulePoint point, BatchTensor<T> output)
    {
        bool checkNow = TrackDenoised && _firstEvaluationOfStep;
        var result = Evaluate(x, point, output, checkNow);
        if (!checkNow) AddPending(output, point);
        return result;
    }

    private (double OfState, double OfOutput) Evaluate(BatchTensor<T> x, SchedulePoint point, BatchTensor<T> output, bool checkNow)
    {
        Array.Fill(_modelTimes, point.ModelTime);
        Model.Evaluate(x, _modelTimes, Condition, output);
        ModelEvaluations++;
        Bump(output);
        if (checkNow) ThrowIfNonFinite(output, point);
        var level = new NoiseLevel(point.Alpha, point.Sigma);
        if (Model.Prediction == Prediction.FlowVelocity)
        {
            double t = VelocityPath.TimeFromLogSnr(point.LogSnr);
            level = level with { AlphaRate = VelocityPath.AlphaDerivative(t), SigmaRate = VelocityPath.SigmaDerivative(t) };
        }
        if (!PredictionConversion.TryGetCoefficients(Model.Prediction, Prediction.Data, level, out double cx, out double cp))
            throw new InvalidOperationException($"Step {StepIndex}: a {Model.Prediction} model gives no denoised estimate at alpha = {point.Alpha}, sigma = {point.Sigma} (model time {point.ModelTime}). " +
                (point.Alpha == 0 ? "A schedule starting at alpha = 0 (zero terminal SNR) needs a v-, x0- or flow-prediction model." : "Samplers do not evaluate models at sigma = 0."));
        if (TrackDenoised && _firstEvaluationOfStep)
            CombineTerms(Denoised, 2, cx, x, cp, output);
        _firstEvaluationOfStep = false;
        return (cx, cp);
    }

    /// <summary>
    /// Calls the model on <paramref name="x"/> with each row at its own point (<paramref name="points"/>, one per row; for samplers with
    /// per-sample steps), checks the output is finite and writes each row's coefficients of <c>x0hat = ofState x + ofOutput output</c>
    /// (and, on the step's first evaluation with <see cref="TrackDenoised"/>, the denoised estimate).
    /// </summary>
    /// <exception cref="NonFiniteModelOutputException">The model returned NaN or infinity.</exception>
    /// <exception cref="InvalidOperationException">The denoised estimate is undefined at a row's point.</exception>
    internal void EvaluateRows(BatchTensor<T> x, ReadOnlySpan<SchedulePoint> points, BatchTensor<T> output, Span<double> ofState, Span<double> ofOutput)
    {
        for (int b = 0; b < _modelTimes.Length; b++) _modelTimes[b] = points[b].ModelTime;
        Model.Evaluate(x, _modelTimes, Condition, output);
        ModelEvaluations++;
        Bump(output);
        if (!FiniteCheck.AllFinite<T>(output.Span))
        {
            int bad = TensorReductions.FirstNonFiniteSample(output);
            throw new NonFiniteModelOutputException(StepIndex, points[Math.Max(bad, 0)].ModelTime, bad);
        }
        for (int b = 0; b < _modelTimes.Length; b++)
        {
            var point = points[b];
            var level = new NoiseLevel(point.Alpha, point.Sigma);
            if (Model.Prediction == Prediction.FlowVelocity)
            {
                double t = VelocityPath.TimeFromLogSnr(point.LogSnr);
                level = level with { AlphaRate = VelocityPath.AlphaDerivative(t), SigmaRate = VelocityPath.SigmaDerivative(t) };
            }
            if (!PredictionConversion.TryGetCoefficients(Model.Prediction, Prediction.Data, level, out ofState[b], out ofOutput[b]))
                throw new InvalidOperationException($"Step {StepIndex}: a {Model.Prediction} model gives no denoised estimate at alpha = {point.Alpha}, sigma = {point.Sigma} (model time {point.ModelTime}, sample {b}).");
            if (TrackDenoised && _firstEvaluationOfStep)
            {
                Span<T> d = Denoised.Row(b), xr = x.Row(b), pr = output.Row(b);
                T a = T.CreateTruncating(ofState[b]), c = T.CreateTruncating(ofOutput[b]);
                for (int i = 0; i < d.Length; i++) d[i] = a * xr[i] + c * pr[i];
            }
        }
        _firstEvaluationOfStep = false;
    }

    private void ThrowIfNonFinite(BatchTensor<T> output, SchedulePoint point)
    {
        if (!FiniteCheck.AllFinite<T>(output.Span))
            throw new NonFiniteModelOutputException(StepIndex, point.ModelTime, TensorReductions.FirstNonFiniteSample(output));
    }

    /// <summary>
    /// Records a combination into <paramref name="destination"/> that reported <paramref name="allFinite"/>. A non-finite write is blamed on
    /// the model when a model output it may have read (<paramref name="output"/> or a still unchecked deferred one) is non-finite, and on the
    /// update otherwise (<see cref="NonFiniteStateException"/>).
    /// </summary>
    private void AfterWrite(BatchTensor<T> destination, bool allFinite, BatchTensor<T>? output, SchedulePoint point)
    {
        if (!allFinite)
        {
            if (output is not null) ThrowIfNonFinite(output, point);
            ThrowIfPendingNonFinite();
            throw new NonFiniteStateException(StepIndex, Schedule[StepIndex].ModelTime, TensorReductions.FirstNonFiniteSample(destination), isInitialState: false);
        }
        if (output is not null) RemovePending(output);
        RemovePending(destination);
        Bump(destination);
        if (ReferenceEquals(destination, X)) _stateChecked = true;
    }

    /// <summary>Checks the initial state before the first step.</summary>
    /// <exception cref="NonFiniteStateException">The state holds NaN or infinity.</exception>
    internal void CheckInitialState()
    {
        if (Schedule.Count > 0 && !FiniteCheck.AllFinite<T>(X.Span))
            throw new NonFiniteStateException(0, Schedule[0].ModelTime, TensorReductions.FirstNonFiniteSample(X), isInitialState: true);
    }

    /// <summary>Checks the state after a step whose last write to <see cref="X"/> was not checked (one read pass), and the step's model
    /// outputs that no combination read.</summary>
    internal void CheckStateAfterStep()
    {
        if (!_stateChecked && !FiniteCheck.AllFinite<T>(X.Span))
        {
            ThrowIfPendingNonFinite();
            throw new NonFiniteStateException(StepIndex, Schedule[StepIndex].ModelTime, TensorReductions.FirstNonFiniteSample(X), isInitialState: false);
        }
        // A model output of the step that no combination read (a branch that does not need it, e.g. a zero-SNR step): scanned once,
        // so a model that returns NaN or infinity is reported at the step it did so (none is pending when every output was read).
        ThrowIfPendingNonFinite();
        _pendingCount = 0;
    }

    private void CombineChecked(BatchTensor<T> destination, in TensorKernels.Terms<T> terms, BatchTensor<T>? output, SchedulePoint point)
        => AfterWrite(destination, TensorKernels.CombineAllFinite(destination.Span, terms), output, point);

    private static void CheckTerms(BatchTensor<T> destination, params ReadOnlySpan<BatchTensor<T>> inputs)
    {
        foreach (var x in inputs)
        {
            if (!destination.HasSameShape(x))
                throw new ArgumentException($"Shape mismatch: {x.ShapeString} against {destination.ShapeString}.", nameof(inputs));
            ShapeCheck.NoPartialOverlap<T>(x.Span, destination.Span, nameof(inputs));
        }
    }

    /// <summary>Fills <paramref name="destination"/> with standard normals for stream <paramref name="stream"/> from <see cref="Noise"/>.</summary>
    /// <exception cref="InvalidOperationException">No noise source was given.</exception>
    public void DrawNoise(long stream, BatchTensor<T> destination)
    {
        if (Noise is null) throw new InvalidOperationException($"Step {StepIndex}: this sampler is stochastic and needs a noise source, but none was given.");
        Noise.Fill(destination, stream, _sampleIds);
        Bump(destination);
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with the noise of the interval from noise level <paramref name="from"/> to <paramref name="to"/>
    /// (<c>sigma / alpha</c>): asked of an <see cref="IIntervalNoiseSource"/> (a Brownian path, an interval-keyed replay) by the interval,
    /// of any other source by stream <paramref name="stream"/> alone.
    /// </summary>
    /// <exception cref="InvalidOperationException">No noise source was given.</exception>
    public void DrawNoise(long stream, double from, double to, BatchTensor<T> destination)
    {
        if (Noise is null) throw new InvalidOperationException($"Step {StepIndex}: this sampler is stochastic and needs a noise source, but none was given.");
        if (Noise is IIntervalNoiseSource interval) interval.FillInterval(destination, from, to, stream, _sampleIds);
        else Noise.Fill(destination, stream, _sampleIds);
        Bump(destination);
    }

    private static T C(double value) => T.CreateTruncating(value);

    private void CombineTerms(BatchTensor<T> destination, int count, double c0, BatchTensor<T> x0, double c1 = 0, BatchTensor<T>? x1 = null, double c2 = 0, BatchTensor<T>? x2 = null,
        double c3 = 0, BatchTensor<T>? x3 = null, double c4 = 0, BatchTensor<T>? x4 = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        CheckTerms(destination, x0, x1 ?? x0, x2 ?? x0, x3 ?? x0, x4 ?? x0);
        var terms = new TensorKernels.Terms<T>(count, C(c0), x0.Span, C(c1), x1 is null ? default : x1.Span, C(c2), x2 is null ? default : x2.Span,
            C(c3), x3 is null ? default : x3.Span, C(c4), x4 is null ? default : x4.Span, T.Zero, default);
        CombineChecked(destination, terms, null, default);
    }


}
