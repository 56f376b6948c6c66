using System.Numerics;
using System.Runtime.InteropServices;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.ParallelInTime;

/// <summary>One model call of one step: the input and time it was last evaluated at, the output, and what the last sweep asked.</summary>
internal sealed class CallSlot<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public CallSlot(int batch, int[] shape)
    {
        Input = BatchTensor<T>.Allocate(batch, shape);
        Output = BatchTensor<T>.Allocate(batch, shape);
        Recorded = BatchTensor<T>.Allocate(batch, shape);
        InputTimes = new double[batch];
        RecordedTimes = new double[batch];
    }

    public BatchTensor<T> Input { get; }
    public BatchTensor<T> Output { get; }
    public BatchTensor<T> Recorded { get; }
    public double[] InputTimes { get; }
    public double[] RecordedTimes { get; }
    public bool HasEval { get; set; }
    public bool HasRecorded { get; set; }
    public AndersonHistory<T>? History { get; set; }

    /// <summary>The slot's row block in the current round's batch, or -1 when it is not evaluated this round.</summary>
    public int RoundRow { get; set; } = -1;

    public void Clear()
    {
        HasEval = false;
        HasRecorded = false;
        History?.Clear();
    }

    /// <summary>True when the last sweep asked exactly for what was evaluated (same bits, same times).</summary>
    public bool RecordedMatchesEvaluation
        => HasEval && HasRecorded && BitEqual(Recorded.Span, Input.Span) && RecordedTimes.AsSpan().SequenceEqual(InputTimes);

    public static bool BitEqual(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
        => MemoryMarshal.AsBytes(a).SequenceEqual(MemoryMarshal.AsBytes(b));
}

/// <summary>What the driver keeps per step: its calls and the state after it in the last sweep.</summary>
internal sealed class StepRecord<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public StepRecord(int batch, int[] shape) => After = BatchTensor<T>.Allocate(batch, shape);

    public List<CallSlot<T>> Calls { get; } = [];
    public int CallCount { get; set; }
    public int CallIndex { get; set; }
    public BatchTensor<T> After { get; }
    public bool HasAfter { get; set; }
    public bool AllExact { get; set; }
    public bool AllEvaluated { get; set; }

    public void Clear()
    {
        foreach (var c in Calls) c.Clear();
        CallCount = 0;
        HasAfter = false;
    }
}

/// <summary>The model a sweep's sampler sees: answers each call from the last round's evaluations, records what was asked.</summary>
internal sealed class ReplayModel<T>(ParallelRun<T> run, Prediction prediction) : IGenerativeModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Prediction Prediction { get; } = prediction;

    public void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<T> output)
        => run.Answer(x, modelTime, output);
}

/// <summary>The state of one parallel-in-time run (see <see cref="ParallelSampling"/>).</summary>
internal sealed class ParallelRun<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IGenerativeModel<T> _model;
    private readonly BatchTensor<T> _x;
    private readonly StepSchedule _schedule;
    private readonly Sampler _sampler;
    private readonly ParallelSamplingOptions<T> _options;
    private readonly int _batch, _steps, _window;
    private readonly int[] _shape;
    private readonly SamplerState<T> _working, _checkpoint;
    private readonly StepRecord<T>?[] _records;
    private readonly Stack<StepRecord<T>> _free = new();
    private readonly ConditionBuffer _conditions = new();
    private readonly List<CallSlot<T>> _round = [];
    private readonly List<CallSlot<T>> _windowSlots = [];
    private readonly AndersonMixer<T>? _anderson;
    private readonly int[] _roundOfStep;
    private BatchTensor<T>? _batchIn, _batchOut;
    private double[] _batchTimes = [];
    private StepRecord<T>? _current;
    private BatchTensor<T>? _lastOutput;
    private int _accepted, _rounds;
    private long _rows;
    private double _largestAccepted;
    private bool _converged = true;

    public ParallelRun(IGenerativeModel<T> model, BatchTensor<T> x, StepSchedule schedule, Sampler sampler, NoiseSource? noise, ParallelSamplingOptions<T> options)
    {
        _model = model;
        _x = x;
        _schedule = schedule;
        _sampler = sampler;
        _options = options;
        _batch = x.BatchSize;
        _shape = x.SampleShape.ToArray();
        _steps = schedule.StepCount;
        _window = Math.Min(options.Window, Math.Max(1, _steps));
        var replay = new ReplayModel<T>(this, model.Prediction);
        var ids = options.SampleIds.Span;
        _working = new SamplerState<T>(replay, schedule, x, noise, ids);
        _checkpoint = new SamplerState<T>(replay, schedule, x.Clone(), noise, ids);
        _records = new StepRecord<T>?[_steps];
        _roundOfStep = new int[_steps];
        if (options.Acceleration == ParallelAcceleration.Anderson) _anderson = new AndersonMixer<T>(options.AndersonMemory, _batch, x.RowLength);
    }

    public ParallelSamplingResult<T> Execute()
    {
        _working.Reset();
        _checkpoint.Reset();
        _working.CheckInitialState();
        int stalled = 0;
        if (_steps > 0) Sweep(final: false);
        while (_accepted < _steps)
        {
            _options.CancellationToken.ThrowIfCancellationRequested();
            if (_options.MaxRounds > 0 && _rounds >= _options.MaxRounds)
            {
                Sweep(final: true);
                break;
            }
            int before = _accepted;
            EvaluateWindow();
            Sweep(final: false);
            _options.Progress?.Report(_accepted);
            stalled = _accepted == before ? stalled + 1 : 0;
            if (stalled > 16 + MaxCallsPerStep())
                throw new InvalidOperationException($"Step {_accepted}: the sampler '{_sampler.Name}' did not reproduce its step from the same inputs in {stalled} rounds; parallel-in-time sampling needs a step that depends only on its inputs, its state and a counter-based noise source.");
        }
        if (_converged) _checkpoint.X.CopyTo(_x);
        // else: the final sweep left the carried-on state in _working.X, which is _x.
        var stats = new ParallelSamplingStatistics(_steps, _rounds, _rows, _callsOfAcceptedSteps, _roundOfStep, _converged, _largestAccepted);
        return new ParallelSamplingResult<T>(_x, stats);
    }

    private int MaxCallsPerStep()
    {
        int m = 1;
        foreach (var r in _records) if (r is not null) m = Math.Max(m, r.CallCount);
        return m;
    }

    // The model calls of the accepted steps: what the sequential run makes (the same steps make the same calls).
    private long _callsOfAcceptedSteps;

    private StepRecord<T> Record(int step)
    {
        if (_records[step] is { } r) return r;
        r = _free.Count > 0 ? _free.Pop() : new StepRecord<T>(_batch, _shape);
        r.Clear();
        _records[step] = r;
        return r;
    }

    /// <summary>Re-runs the sampler from the last accepted step over the window, answering calls from the last round, and accepts the
    /// exact (or, with a tolerance, converged) prefix. A final sweep carries on to the end of the schedule.</summary>
    private void Sweep(bool final)
    {
        _working.CopyFrom(_checkpoint);
        _lastOutput = null;
        double tol2 = _options.Tolerance * _options.Tolerance;
        bool prefix = true;
        int start = _accepted;
        for (int i = start; i < _steps && (final || i < _accepted + _window); i++)
        {
            var rec = Record(i);
            rec.CallIndex = 0;
            rec.AllExact = true;
            rec.AllEvaluated = true;
            _current = rec;
            _working.BeginStep(i);
            try
            {
                _sampler.Step(_working, i);
                _working.CheckStateAfterStep();
            }
            catch (Exception e) when (!final && e is NonFiniteStateException or NonFiniteModelOutputException && !(i == _accepted && rec.AllExact))
            {
                // A step fed with outputs of an earlier iterate went non-finite (a model finite only near the true trajectory, a
                // stale guess far from it). That is not the sequential run failing: stop this sweep here; the next round evaluates what
                // it asked, and the frontier step, which is exact, always advances. The same error at the exact frontier is real.
                rec.HasAfter = false;
                break;
            }
            for (int k = rec.CallIndex; k < rec.CallCount; k++) rec.Calls[k].Clear();
            rec.CallCount = rec.CallIndex;
            double err = rec.HasAfter ? ErrorRatio(_working.X, rec.After, i) : double.PositiveInfinity;
            _working.X.CopyTo(rec.After);
            rec.HasAfter = true;
            bool ok = rec.AllExact || (tol2 > 0 && rec.AllEvaluated && err <= tol2);
            if (prefix && ok)
            {
                _checkpoint.CopyFrom(_working);
                _accepted = i + 1;
                _roundOfStep[i] = Math.Max(1, _rounds);
                _callsOfAcceptedSteps += rec.CallCount;
                if (!rec.AllExact) _largestAccepted = Math.Max(_largestAccepted, err);
            }
            else prefix = false;
        }
        _current = null;
        if (final && _accepted < _steps)
        {
            _converged = false;
            for (int i = _accepted; i < _steps; i++)
            {
                _roundOfStep[i] = _rounds;
                _callsOfAcceptedSteps += _records[i]?.CallCount ?? 0;
            }
        }
        // Steps before the window are final: recycle their storage.
        for (int i = start; i < _accepted; i++)
            if (_records[i] is { } done) { _records[i] = null; _free.Push(done); }
    }

    /// <summary>The sampler's model call during a sweep.</summary>
    internal void Answer(BatchTensor<T> x, ReadOnlySpan<double> modelTime, BatchTensor<T> output)
    {
        var rec = _current ?? throw new InvalidOperationException("The sampler kept the model and called it outside its step; parallel-in-time sampling cannot replay such a call.");
        int k = rec.CallIndex++;
        if (k == rec.Calls.Count) rec.Calls.Add(new CallSlot<T>(_batch, _shape));
        if (k >= rec.CallCount) rec.CallCount = k + 1;
        var slot = rec.Calls[k];
        x.CopyTo(slot.Recorded);
        modelTime.CopyTo(slot.RecordedTimes);
        slot.HasRecorded = true;
        if (slot.HasEval)
        {
            if (!slot.RecordedMatchesEvaluation) rec.AllExact = false;
            slot.Output.CopyTo(output);
            _lastOutput = slot.Output;
        }
        else if (_lastOutput is null)
        {
            // Nothing to guess from: evaluate this call now (exact for the input it was given).
            EvaluateNow(slot);
            slot.Output.CopyTo(output);
            _lastOutput = slot.Output;
        }
        else
        {
            rec.AllExact = false;
            rec.AllEvaluated = false;
            _lastOutput.CopyTo(output);
        }
    }

    private void EvaluateNow(CallSlot<T> slot)
    {
        slot.Recorded.CopyTo(slot.Input);
        slot.RecordedTimes.CopyTo(slot.InputTimes, 0);
        _model.Evaluate(slot.Input, slot.InputTimes, _options.Condition, slot.Output);
        slot.HasEval = true;
        _rounds++;
        _rows += _batch;
    }

    /// <summary>One round: evaluates, in one batched call, every call of the window whose input changed since it was last evaluated.</summary>
    private void EvaluateWindow()
    {
        _round.Clear();
        _windowSlots.Clear();
        int end = Math.Min(_steps, _accepted + _window);
        for (int i = _accepted; i < end; i++)
        {
            if (_records[i] is not { } rec) continue;
            for (int k = 0; k < rec.CallCount; k++)
            {
                var slot = rec.Calls[k];
                if (!slot.HasRecorded) continue;
                _windowSlots.Add(slot);
                if (!slot.RecordedMatchesEvaluation) _round.Add(slot);
            }
        }
        int count = _round.Count;
        if (count == 0)
            throw new InvalidOperationException($"Step {_accepted}: nothing left to evaluate but the step was not accepted.");
        int rows = count * _batch;
        if (_batchIn is null || _batchIn.BatchSize < rows)
        {
            int capacity = Math.Max(rows, (_batchIn?.BatchSize ?? 0) * 2);
            _batchIn = BatchTensor<T>.Allocate(capacity, _shape);
            _batchOut = BatchTensor<T>.Allocate(capacity, _shape);
            _batchTimes = new double[capacity];
        }
        var input = _batchIn.Rows(0, rows);
        var output = _batchOut!.Rows(0, rows);
        foreach (var slot in _windowSlots) slot.RoundRow = -1;
        for (int r = 0; r < count; r++) _round[r].RoundRow = r;
        int firstStepCalls = _records[_accepted]?.CallCount ?? 0;
        if (_anderson is not null) _anderson.Extrapolate(_windowSlots, firstStepCalls, input);
        for (int r = 0; r < count; r++)
        {
            var slot = _round[r];
            if (_anderson is null) slot.Recorded.Span.CopyTo(input.Rows(r * _batch, _batch).Span);
            slot.RecordedTimes.CopyTo(_batchTimes, r * _batch);
        }
        var condition = _options.Condition.Kind == ConditionKind.None ? ModelCondition.None : _conditions.Repeat(_options.Condition, count);
        _model.Evaluate(input, _batchTimes.AsSpan(0, rows), condition, output);
        for (int r = 0; r < count; r++)
        {
            var slot = _round[r];
            input.Rows(r * _batch, _batch).Span.CopyTo(slot.Input.Span);
            output.Rows(r * _batch, _batch).Span.CopyTo(slot.Output.Span);
            slot.RecordedTimes.CopyTo(slot.InputTimes, 0);
            slot.HasEval = true;
        }
        _rounds++;
        _rows += rows;
    }

    /// <summary>ParaDiGMS' per-step error: the largest over samples of <c>||a - b||^2 / (sigma^2 D)</c>.</summary>
    private double ErrorRatio(BatchTensor<T> a, BatchTensor<T> b, int step)
    {
        double sigma = _schedule[step + 1].Sigma;
        if (sigma == 0) sigma = _schedule[step].Sigma;
        double scale = 1 / (sigma * sigma * a.RowLength);
        double worst = 0;
        for (int s = 0; s < a.BatchSize; s++)
        {
            var ra = a.Row(s);
            var rb = b.Row(s);
            double sum = 0;
            for (int j = 0; j < ra.Length; j++)
            {
                double d = double.CreateTruncating(ra[j]) - double.CreateTruncating(rb[j]);
                sum += d * d;
            }
            double e = sigma == 0 ? (sum == 0 ? 0 : double.PositiveInfinity) : sum * scale;
            if (!(e <= worst)) worst = e;
        }
        return worst;
    }
}
