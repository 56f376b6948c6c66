using System.Numerics;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

// The sampler-authoring API: Denoise (a model call whose estimate stays a formula), Set (one fused, checked pass of an update written
// as the formula reads), named buffers, per-row coefficients and tagged history rings.
public sealed partial class SamplerState<T>
{
    private const int MaxEvaluationsPerStep = 16;
    private readonly List<(string Name, BatchTensor<T> Tensor)> _buffers = [];
    private readonly List<(string Name, SampleCoefficients Values)> _coefficients = [];
    private readonly List<HistoryRing<T>> _rings = [];
    private readonly List<BatchTensor<T>> _extraOutputs = [];
    private readonly List<(BatchTensor<T> Output, SampleCoefficients[] Coefficients)> _rowConversions = [];
    private int _evaluationsThisStep;

    /// <summary>
    /// Calls the model on <paramref name="x"/> at <paramref name="point"/> and returns its denoised estimate as a formula
    /// (<c>x0hat = c_x x + c_p p</c>) for the next <see cref="Set(BatchTensor{T}, in TensorCombination{T})"/>, which fuses the prediction
    /// conversion and the model output's finite check into its pass. Each call of a step writes its own output buffer
    /// (<see cref="ModelOutput"/>, then <see cref="SecondOutput"/>, then further ones), so estimates of one step never share one.
    /// </summary>
    /// <remarks>Formula: <c>x0hat = c_x x + c_p p</c> with <c>(c_x, c_p)</c> from <see cref="PredictionConversion"/> at the point (and,
    /// for a flow-velocity model, the rates of <see cref="VelocityPath"/>).</remarks>
    /// <exception cref="NonFiniteModelOutputException">The model returned NaN or infinity (raised by the combination that reads it).</exception>
    /// <exception cref="InvalidOperationException">The denoised estimate is undefined at the point, or a step made more than 16 evaluations.</exception>
    public Denoised<T> Denoise(BatchTensor<T> x, SchedulePoint point)
        => Denoise(x, point, NextOutput());

    /// <summary>As <see cref="Denoise(BatchTensor{T}, SchedulePoint)"/>, writing the raw model output to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> does not have the batch's shape, or is <paramref name="x"/>.</exception>
    public Denoised<T> Denoise(BatchTensor<T> x, SchedulePoint point, BatchTensor<T> output)
    {
        CheckBatch(x, nameof(x));
        CheckBatch(output, nameof(output));
        if (ReferenceEquals(x, output)) throw new ArgumentException("The model output must not overwrite the model's input.", nameof(output));
        var (cx, cp) = EvaluateDeferred(x, point, output);
        return new Denoised<T>(this, x, output, point, cx, cp, VersionOf(x), VersionOf(output));
    }

    /// <summary>
    /// Calls the model once on <paramref name="x"/> with row <c>b</c> at its own point <c>points[b]</c> (per-row model times), and returns
    /// the per-row denoised estimate: updates written with it get one coefficient per row (<see cref="SampleCoefficients"/>), so one
    /// fused pass advances rows that sit at different points of a schedule.
    /// </summary>
    /// <remarks>Formula: <c>x0hat[b] = c_x[b] x[b] + c_p[b] p[b]</c>. The model output is checked here (one read pass).</remarks>
    /// <exception cref="ArgumentException">The number of points is not the batch size.</exception>
    /// <exception cref="NonFiniteModelOutputException">The model returned NaN or infinity.</exception>
    /// <exception cref="InvalidOperationException">The denoised estimate is undefined at a row's point.</exception>
    public Denoised<T> Denoise(BatchTensor<T> x, ReadOnlySpan<SchedulePoint> points)
        => Denoise(x, points, NextOutput());

    /// <summary>As <see cref="Denoise(BatchTensor{T}, ReadOnlySpan{SchedulePoint})"/>, writing the raw model output to
    /// <paramref name="output"/> (for a step that makes more evaluations than the state's per-step buffers, e.g. an adaptive solver's
    /// attempts; an estimate made earlier into the same buffer is then invalid).</summary>
    /// <exception cref="ArgumentException">The number of points is not the batch size, or <paramref name="output"/> is <paramref name="x"/> or has another shape.</exception>
    /// <exception cref="NonFiniteModelOutputException">The model returned NaN or infinity.</exception>
    /// <exception cref="InvalidOperationException">The denoised estimate is undefined at a row's point.</exception>
    public Denoised<T> Denoise(BatchTensor<T> x, ReadOnlySpan<SchedulePoint> points, BatchTensor<T> output)
    {
        CheckBatch(x, nameof(x));
        CheckBatch(output, nameof(output));
        if (ReferenceEquals(x, output)) throw new ArgumentException("The model output must not overwrite the model's input.", nameof(output));
        if (points.Length != BatchSize) throw new ArgumentException($"{points.Length} points for a batch of {BatchSize}.", nameof(points));
        SampleCoefficients[]? c = null;
        foreach (var (o, coefficients) in _rowConversions)
            if (ReferenceEquals(o, output)) { c = coefficients; break; }
        if (c is null)
        {
            c = [new(BatchSize), new(BatchSize), new(BatchSize), new(BatchSize)];
            _rowConversions.Add((output, c));
        }
        EvaluateRows(x, points, output, c[0].Values, c[1].Values);
        for (int b = 0; b < BatchSize; b++)
        {
            var p = points[b];
            // epshat = ((1 - alpha c_x) / sigma) x - (alpha c_p / sigma) p; undefined (NaN) at sigma = 0.
            c[2][b] = p.Sigma == 0 ? double.NaN : (1 - p.Alpha * c[0][b]) / p.Sigma;
            c[3][b] = p.Sigma == 0 ? double.NaN : -p.Alpha * c[1][b] / p.Sigma;
        }
        return new Denoised<T>(this, x, output, c[0], c[1], c[2], c[3], VersionOf(x), VersionOf(output));
    }

    /// <summary>
    /// Writes <paramref name="update"/> into <paramref name="destination"/> in one fused pass and checks, in that pass, that what it
    /// wrote is finite: <c>state.Set(state.X, a * state.X + b * d + c * z)</c>.
    /// </summary>
    /// <remarks>
    /// <para>Formula: <c>destination = sum_j c_j x_j</c> (<see cref="TensorCombination{T}"/>; terms on the same tensor merged, at most six
    /// distinct tensors; per-row coefficients where a term has them). In place is safe.</para>
    /// <para>A non-finite result is blamed on the model (<see cref="NonFiniteModelOutputException"/>) when a model output the update read
    /// is non-finite, and on the update otherwise (<see cref="NonFiniteStateException"/>, naming the step, its model time and the first bad
    /// sample).</para>
    /// </remarks>
    /// <exception cref="InvalidOperationException">The update reads a denoised estimate whose input or model output has been overwritten
    /// since its evaluation, or it reads more than six distinct tensors.</exception>
    /// <exception cref="ArgumentException">A tensor's shape differs from the destination's, or partly overlaps it.</exception>
    public void Set(BatchTensor<T> destination, in TensorCombination<T> update)
    {
        ArgumentNullException.ThrowIfNull(destination);
        CheckGuards(update);
        bool finite = TensorKernels.EvaluateAllFinite(destination, update);
        AfterSet(destination, finite, update);
    }

    /// <summary>
    /// Two outputs in one pass, the update of a multistep data-prediction solver: stores <paramref name="denoised"/> into
    /// <paramref name="estimate"/> (e.g. a history entry), then writes <paramref name="update"/>, which may read <paramref name="estimate"/>
    /// as just written, into <paramref name="destination"/>.
    /// </summary>
    /// <remarks>Formula: <c>e = c_x x + c_p p</c>, then <c>destination = sum_j c_j x_j</c>; see
    /// <see cref="Set(BatchTensor{T}, in TensorCombination{T}, BatchTensor{T}, in TensorCombination{T})"/>.</remarks>
    /// <exception cref="InvalidOperationException">As <see cref="Set(BatchTensor{T}, in TensorCombination{T})"/>.</exception>
    public void Set(BatchTensor<T> estimate, in Denoised<T> denoised, BatchTensor<T> destination, in TensorCombination<T> update)
        => Set(estimate, denoised.Estimate, destination, update);

    /// <summary>
    /// Two outputs in one pass: stores <paramref name="value"/> into <paramref name="stored"/> (e.g. a history entry: the denoised
    /// estimate, or the noise estimate <c>d.Eps</c>), then writes <paramref name="update"/>, which may read <paramref name="stored"/> as
    /// just written, into <paramref name="destination"/>.
    /// </summary>
    /// <remarks>Formula: <c>e = value</c>, then <c>destination = sum_j c_j x_j</c>. When <paramref name="value"/> reads the destination and
    /// one other tensor <c>p</c> (as an estimate <c>c_x x + c_p p</c> does) and <paramref name="update"/> reads only the destination,
    /// <paramref name="stored"/> and at most one more tensor, all with scalar coefficients, both outputs come from one pass (5 memory
    /// transfers instead of 7), bit-identical to the two <see cref="Set(BatchTensor{T}, in TensorCombination{T})"/> calls it otherwise
    /// makes.</remarks>
    /// <exception cref="InvalidOperationException">As <see cref="Set(BatchTensor{T}, in TensorCombination{T})"/>.</exception>
    public void Set(BatchTensor<T> stored, in TensorCombination<T> value, BatchTensor<T> destination, in TensorCombination<T> update)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(destination);
        if (TrySetTwo(stored, value, destination, update)) return;
        Set(stored, value);
        Set(destination, update);
    }

    private bool TrySetTwo(BatchTensor<T> stored, in TensorCombination<T> value, BatchTensor<T> x, in TensorCombination<T> update)
    {
        if (value.HasSampleFactors || update.HasSampleFactors || ReferenceEquals(stored, x)) return false;
        var slots = new TensorSlots<T>();
        Span<BatchTensor<T>?> tensors = slots;
        Span<double> scalars = stackalloc double[TensorCombination<T>.MaxTensors];
        // The stored value: ce x + cp p.
        if (value.Merge(tensors, scalars) != 2) return false;
        double ce, cp;
        BatchTensor<T> p;
        if (ReferenceEquals(tensors[0], x)) { ce = scalars[0]; cp = scalars[1]; p = tensors[1]!; }
        else if (ReferenceEquals(tensors[1], x)) { ce = scalars[1]; cp = scalars[0]; p = tensors[0]!; }
        else return false;
        if (ReferenceEquals(p, stored)) return false;
        // The update: a x + b e (+ c q).
        int n = update.Merge(tensors, scalars);
        double a = 0, b = 0, c = 0;
        BatchTensor<T>? q = null;
        for (int j = 0; j < n; j++)
        {
            var t = tensors[j]!;
            if (ReferenceEquals(t, x)) a = scalars[j];
            else if (ReferenceEquals(t, stored)) b = scalars[j];
            else if (q is null) { q = t; c = scalars[j]; }
            else return false;
        }
        CheckGuards(value);
        CheckGuards(update);
        CheckTerms(x, p, stored, q ?? p);
        bool finite = TensorKernels.CombineWithEstimateAllFinite(x.Span, stored.Span, p.Span, q is null ? default : q.Span,
            T.CreateTruncating(ce), T.CreateTruncating(cp), T.CreateTruncating(a), T.CreateTruncating(b), T.CreateTruncating(c), q is not null);
        if (!finite)
        {
            for (int k = 0; k < _pendingCount; k++)
                if (value.Reads(_pending[k].Output) || update.Reads(_pending[k].Output)) ThrowIfNonFinite(_pending[k].Output, _pending[k].Point);
            ThrowIfPendingNonFinite();
            var bad = FiniteCheck.AllFinite<T>(stored.Span) ? x : stored;
            throw new NonFiniteStateException(StepIndex, Schedule[StepIndex].ModelTime, TensorReductions.FirstNonFiniteSample(bad), isInitialState: false);
        }
        // Both outputs were written from every element of p (and q): the fused check covers the pending outputs they read.
        AfterSet(stored, true, value);
        AfterSet(x, true, update);
        return true;
    }

    /// <summary>The run's buffer named <paramref name="name"/>, shaped like the batch, allocated on first use and kept for the run's
    /// state (e.g. <c>"x2"</c> for a predictor's point, <c>"noise"</c> for a draw). Names are the sampler author's; a sampler should
    /// prefix names that must not be shared with another sampler.</summary>
    /// <remarks>A lookup by name (no allocation after the first); the contents persist between steps.</remarks>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public BatchTensor<T> Buffer(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (var (n, t) in _buffers)
            if (string.Equals(n, name, StringComparison.Ordinal)) return t;
        var tensor = NewBuffer();
        _buffers.Add((name, tensor));
        return tensor;
    }

    /// <summary>The run's per-row coefficients named <paramref name="name"/> (one value per sample), allocated on first use; fill them
    /// and multiply a tensor or a combination by them for updates whose rows sit at different points.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public SampleCoefficients Coefficients(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (var (n, c) in _coefficients)
            if (string.Equals(n, name, StringComparison.Ordinal)) return c;
        var values = new SampleCoefficients(BatchSize);
        _coefficients.Add((name, values));
        return values;
    }

    /// <summary>
    /// The history ring of <paramref name="quantity"/> written by <paramref name="writer"/> (a sampler passes its <see cref="Sampler.Name"/>),
    /// with <paramref name="capacity"/> slots, made on first use. Each (writer, quantity) has its own ring, so a sampler never reads
    /// entries another sampler wrote, and the ring's step count makes a jump or a switch restart at first order.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty, or the ring exists with another capacity.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not in [1, 16].</exception>
    public HistoryRing<T> History(string writer, string quantity, int capacity)
    {
        ArgumentException.ThrowIfNullOrEmpty(writer);
        ArgumentException.ThrowIfNullOrEmpty(quantity);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 16);
        foreach (var ring in _rings)
        {
            if (!string.Equals(ring.Writer, writer, StringComparison.Ordinal) || !string.Equals(ring.Quantity, quantity, StringComparison.Ordinal)) continue;
            if (ring.Capacity != capacity)
                throw new ArgumentException($"The history '{quantity}' of '{writer}' has {ring.Capacity} slots, not {capacity}.", nameof(capacity));
            return ring;
        }
        var made = new HistoryRing<T>(this, writer, quantity, capacity);
        _rings.Add(made);
        return made;
    }

    internal BatchTensor<T> NewBuffer() => BatchTensor<T>.Allocate(BatchSize, _sampleShape);

    internal void NoteHistory(string writer, string quantity, int step, int entries)
        => HistoryTag = new HistoryTag(writer, quantity, step, entries);

    private void ClearHistories()
    {
        foreach (var ring in _rings) ring.Clear();
    }

    private void CopyAuthoringState(SamplerState<T> other)
    {
        foreach (var (name, t) in other._buffers) t.CopyTo(Buffer(name));
        foreach (var (name, c) in other._coefficients) c.Values.CopyTo(Coefficients(name).Values);
        foreach (var ring in other._rings) History(ring.Writer, ring.Quantity, ring.Capacity).CopyFrom(ring);
        for (int k = 0; k < other._extraOutputs.Count; k++)
        {
            while (_extraOutputs.Count <= k) _extraOutputs.Add(NewBuffer());
            other._extraOutputs[k].CopyTo(_extraOutputs[k]);
        }
        // Every estimate made before the copy refers to contents that changed.
        Bump(X); Bump(ModelOutput); Bump(SecondOutput);
        foreach (var t in _extraOutputs) Bump(t);
        foreach (var (_, t) in _buffers) Bump(t);
        foreach (var ring in _rings) ring.BumpSlots();
        _pendingCount = 0;
    }

    private BatchTensor<T> NextOutput()
    {
        int k = _evaluationsThisStep;
        if (k >= MaxEvaluationsPerStep)
            throw new InvalidOperationException($"Step {StepIndex}: more than {MaxEvaluationsPerStep} model evaluations in one step (is BeginStep called before each step?).");
        _evaluationsThisStep = k + 1;
        if (k == 0) return ModelOutput;
        if (k == 1) return SecondOutput;
        while (_extraOutputs.Count <= k - 2) _extraOutputs.Add(NewBuffer());
        return _extraOutputs[k - 2];
    }

    private void CheckBatch(BatchTensor<T> x, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.BatchSize != BatchSize || !x.SampleShape.SequenceEqual(_sampleShape))
            throw new ArgumentException($"Shape mismatch: {x.ShapeString} against the run's {X.ShapeString}.", name);
    }

    internal static long VersionOf(BatchTensor<T> tensor) => tensor.WriteVersion;

    internal static void Bump(BatchTensor<T> tensor) => tensor.WriteVersion++;

    private void CheckGuards(in TensorCombination<T> update)
    {
        for (int k = 0; k < update.Count; k++)
        {
            var term = update[k];
            if (term.Expect >= 0 && VersionOf(term.Tensor) != term.Expect)
                throw new InvalidOperationException($"Step {StepIndex}: the update reads a denoised estimate whose {(ReferenceEquals(term.Tensor, X) ? "input (the state X)" : "input or model output")} " +
                    "has been overwritten since the model call; store the estimate in a buffer (state.Set(buffer, d)) before overwriting what it reads.");
        }
    }

    private void AfterSet(BatchTensor<T> destination, bool finite, in TensorCombination<T> update)
    {
        if (!finite)
        {
            for (int k = 0; k < _pendingCount; k++)
                if (update.Reads(_pending[k].Output)) ThrowIfNonFinite(_pending[k].Output, _pending[k].Point);
            ThrowIfPendingNonFinite();
            throw new NonFiniteStateException(StepIndex, Schedule[StepIndex].ModelTime, TensorReductions.FirstNonFiniteSample(destination), isInitialState: false);
        }
        // Every pending output the update read was read in full: its values are finite (a NaN would have reached the result).
        for (int k = _pendingCount - 1; k >= 0; k--)
            if (update.Reads(_pending[k].Output)) RemovePendingAt(k);
        RemovePending(destination);
        Bump(destination);
        if (ReferenceEquals(destination, X)) _stateChecked = true;
    }

    private void AddPending(BatchTensor<T> output, SchedulePoint point)
    {
        RemovePending(output);
        if (_pendingCount == _pending.Length) Array.Resize(ref _pending, 2 * _pendingCount);
        _pending[_pendingCount++] = (output, point);
    }

    private void RemovePending(BatchTensor<T> output)
    {
        for (int k = _pendingCount - 1; k >= 0; k--)
            if (ReferenceEquals(_pending[k].Output, output)) RemovePendingAt(k);
    }

    private void RemovePendingAt(int k)
    {
        _pending[k] = _pending[--_pendingCount];
        _pending[_pendingCount] = default;
    }

    private void ThrowIfPendingNonFinite()
    {
        for (int k = 0; k < _pendingCount; k++) ThrowIfNonFinite(_pending[k].Output, _pending[k].Point);
    }
}
