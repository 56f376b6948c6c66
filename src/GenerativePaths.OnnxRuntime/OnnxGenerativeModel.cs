using System.Numerics;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GenerativePaths.OnnxRuntime;

/// <summary>
/// A trained denoiser (diffusion or flow network) in an ONNX file, described by a <see cref="ModelCard"/>, behind the
/// library's <see cref="IGenerativeModel{T}"/> contract: any sampler runs it, with class or tensor conditions and
/// classifier-free guidance.
/// </summary>
/// <remarks>
/// <para>For each row at library model time <c>t</c> the adapter sends the network <c>c_in(t) x</c> and the time input
/// <see cref="ModelCard.NetworkTime"/>(t), and turns the network output <c>o</c> into <see cref="Prediction"/> as
/// <c>p = a(t) x + b(t) o</c> with <c>(a, b) = </c><see cref="ModelCard.OutputMap"/>(t) (EDM: <c>D = c_skip x + c_out F</c>;
/// a <c>data_minus_noise</c> flow velocity is negated), using <see cref="TensorKernels.LinearCombination{T}(Span{T}, T, ReadOnlySpan{T}, T, ReadOnlySpan{T})"/>.
/// Schedules for the model come from <see cref="CreateSchedule"/> (or any schedule on <see cref="Card"/>'s <see cref="ModelCard.Path"/>).</para>
/// <para>Data movement: when the graph's sample type is <typeparamref name="T"/> the caller's input (unless <c>c_in != 1</c>) and
/// output memory are handed to ONNX Runtime without a copy, through IO bindings cached per (input address, output address, rows):
/// after the first call with given buffers, a call allocates nothing on the managed heap. float16 graphs, and
/// <typeparamref name="T"/> = double on a float32 graph, convert at the boundary through pinned staging buffers. Time
/// (float32, float16, float64 or int64), class labels (int64) and a condition tensor (float32) go through staging buffers.</para>
/// <para>Conditions: a card with <c>inputs.class</c> needs class labels in <c>[0, classes]</c> (or the unconditional class) on every
/// call; a card with <c>inputs.condition</c> needs a tensor condition; an unconditional card ignores the condition.</para>
/// <para>Non-finite network outputs are returned as they are; samplers raise <see cref="Samplers.NonFiniteModelOutputException"/>.</para>
/// <para>Thread safety: one instance serves one call at a time (it owns the bound buffers); a second concurrent call raises
/// <see cref="InvalidOperationException"/>. Create one instance per thread to evaluate in parallel.</para>
/// </remarks>
/// <typeparam name="T">The element type of the library's tensors: float or double.</typeparam>
public sealed class OnnxGenerativeModel<T> : IGenerativeModel<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int CacheSize = 8;
    private readonly InferenceSession _session;
    private readonly bool _ownsSession;
    private readonly RunOptions _runOptions = new();
    private readonly TensorElementType _sampleType, _timeType;
    private readonly int _timeRank, _staticBatch;
    private readonly int _maxBatch;
    private readonly bool _direct, _unitScale;
    private readonly string _name;
    private readonly Binding?[] _cache = new Binding?[CacheSize];
    private long _useClock;
    private int _capacity;
    private Array? _xStage, _outStage, _timeStage, _condStage;
    private long[]? _classStage;
    private T[]? _scaled;
    private double[] _a = [], _b = [];
    private int[] _condShape = [];
    private int _condRowLength;
    private int _busy;
    private bool _disposed;

    /// <summary>Wraps a caller's session with its card.</summary>
    /// <param name="session">The session (kept by the caller unless <paramref name="ownsSession"/>).</param>
    /// <param name="card">The model's card (a <see cref="ModelCardKind.Denoiser"/>).</param>
    /// <param name="options">Batching options (<see cref="OnnxModelOptions.MaxBatch"/>; session settings are the session's own).</param>
    /// <param name="ownsSession">Whether <see cref="Dispose"/> disposes <paramref name="session"/>.</param>
    /// <exception cref="ModelCardException">The card is not a denoiser or disagrees with the graph (the message names the key and lists the graph's names).</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public OnnxGenerativeModel(InferenceSession session, ModelCard card, OnnxModelOptions? options = null, bool ownsSession = false)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(card);
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"OnnxGenerativeModel supports float and double tensors, not {typeof(T).Name}.");
        options ??= new OnnxModelOptions();
        if (options.MaxBatch is int mb && mb < 1) throw new ArgumentOutOfRangeException(nameof(options), mb, "MaxBatch must be at least 1.");
        if (card.Kind != ModelCardKind.Denoiser) throw card.Error("kind", $"OnnxGenerativeModel runs denoisers; this card describes a {card.Kind}");
        _session = session;
        _ownsSession = ownsSession;
        Card = card;
        _name = card.SourceName;

        var sample = OnnxSessions.Input(session, card, "sample", card.SampleInput!);
        OnnxSessions.RequireTensor(card, "inputs.sample", card.SampleInput!, sample, TensorElementType.Float, TensorElementType.Float16, TensorElementType.Double);
        _staticBatch = OnnxSessions.CheckSampleDims(card, "inputs.sample", card.SampleInput!, sample);
        _sampleType = sample.ElementDataType;
        var output = OnnxSessions.Output(session, card, "output", card.Output);
        OnnxSessions.RequireTensor(card, "output", card.Output, output, _sampleType);
        OnnxSessions.CheckSampleDims(card, "output", card.Output, output);

        var time = OnnxSessions.Input(session, card, "time", card.TimeInput!);
        OnnxSessions.RequireTensor(card, "inputs.time", card.TimeInput!, time, TensorElementType.Float, TensorElementType.Float16, TensorElementType.Double, TensorElementType.Int64);
        _timeType = time.ElementDataType;
        _timeRank = time.Dimensions.Length;
        if (_timeRank is not (1 or 2) || (_timeRank == 2 && time.Dimensions[1] is not (1 or -1)))
            throw card.Error("inputs.time", $"graph input '{card.TimeInput}' has shape {OnnxSessions.Dims(time.Dimensions)}; expected [batch] or [batch, 1]");
        if (card.ClassInput is not null)
        {
            var c = OnnxSessions.Input(session, card, "class", card.ClassInput);
            OnnxSessions.RequireTensor(card, "inputs.class", card.ClassInput, c, TensorElementType.Int64);
            if (c.Dimensions.Length != 1) throw card.Error("inputs.class", $"graph input '{card.ClassInput}' has shape {OnnxSessions.Dims(c.Dimensions)}; expected [batch]");
        }
        if (card.ConditionInput is not null)
        {
            var c = OnnxSessions.Input(session, card, "condition", card.ConditionInput);
            OnnxSessions.RequireTensor(card, "inputs.condition", card.ConditionInput, c, TensorElementType.Float);
            if (c.Dimensions.Length < 2) throw card.Error("inputs.condition", $"graph input '{card.ConditionInput}' has shape {OnnxSessions.Dims(c.Dimensions)}; expected [batch, ...]");
        }
        var known = new HashSet<string?> { card.SampleInput, card.TimeInput, card.ClassInput, card.ConditionInput };
        foreach (var name in session.InputMetadata.Keys)
            if (!known.Contains(name))
                throw card.Error(name == "c" || name.Contains("class", StringComparison.OrdinalIgnoreCase) ? "inputs.class" : "inputs",
                    $"the graph has an input '{name}' the card does not name (inputs: {OnnxSessions.Names(session.InputMetadata.Keys)}); a class-conditional graph needs inputs.class and classes in its card");

        _unitScale = card.HasUnitInputScale;
        _direct = _sampleType == (typeof(T) == typeof(float) ? TensorElementType.Float : TensorElementType.Double);
        _maxBatch = options.MaxBatch ?? int.MaxValue;
        if (_staticBatch > 0) _maxBatch = Math.Min(_maxBatch, _staticBatch);
        Prediction = card.Prediction;
        TimeMap = card.TimeMap;
    }

    /// <summary>
    /// Loads <paramref name="modelPath"/> with its card: <paramref name="cardPath"/> if given, else <c>NAME.onnx.json</c> beside the
    /// model, else the card JSON stored in the model's <c>metadata_props</c> under the key <c>gpaths</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">The model file is missing.</exception>
    /// <exception cref="ModelCardException">No card is found, or the card is invalid or disagrees with the graph.</exception>
    /// <exception cref="InvalidOperationException">ONNX Runtime cannot load the model, or the CUDA provider is unavailable (the message names the package).</exception>
    public static OnnxGenerativeModel<T> Load(string modelPath, string? cardPath = null, OnnxModelOptions? options = null)
    {
        options ??= new OnnxModelOptions();
        var session = OnnxSessions.Create(modelPath, options);
        try
        {
            var card = OnnxSessions.ResolveCard(modelPath, cardPath, session);
            return new OnnxGenerativeModel<T>(session, card, options, ownsSession: true);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The model's card.</summary>
    public ModelCard Card { get; }

    /// <summary>The underlying session.</summary>
    public InferenceSession Session => _session;

    /// <inheritdoc/>
    public Prediction Prediction { get; }

    /// <summary>The model's point on its path at each library model time (<see cref="ModelCard.TimeMap"/>).</summary>
    public Func<double, NoiseLevel> TimeMap { get; }

    /// <summary>The path schedules for this model are built on (<see cref="ModelCard.Path"/>).</summary>
    public NoisePath Path => Card.Path;

    /// <summary>The largest number of rows per network call (<see cref="int.MaxValue"/> for no limit).</summary>
    public int MaxBatch => _maxBatch;

    /// <summary>Whether the graph's sample is float16 (converted at the boundary).</summary>
    public bool IsFloat16 => _sampleType == TensorElementType.Float16;

    /// <summary>The card's default plan of <paramref name="steps"/> steps (<see cref="ModelCard.CreateSchedule"/>).</summary>
    public StepSchedule CreateSchedule(int steps) => Card.CreateSchedule(steps);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Shapes disagree with each other or with the card's <c>sample_shape</c>; a class model gets no
    /// class labels or a label outside <c>[0, classes]</c>; a condition model gets no tensor condition; an int64 time input gets a
    /// fractional time (the message names the row).</exception>
    /// <exception cref="InvalidOperationException">Another thread is using the instance, or ONNX Runtime fails (e.g. the graph's output shape disagrees).</exception>
    public unsafe void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<T> output)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(output);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!x.HasSameShape(output)) throw new ArgumentException($"Shape mismatch: output {output.ShapeString}, input {x.ShapeString}.", nameof(output));
        if (x.RowLength != Card.SampleLength)
            throw new ArgumentException($"Input rows have {x.RowLength} elements; model '{_name}' takes samples of shape [{string.Join(", ", Card.SampleShape)}] ({Card.SampleLength} elements).", nameof(x));
        if (modelTime.Length != x.BatchSize) throw new ArgumentException($"{modelTime.Length} model times for a batch of {x.BatchSize}.", nameof(modelTime));
        CheckCondition(condition, x.BatchSize);
        if (x.BatchSize == 0) return;
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException($"OnnxGenerativeModel '{_name}' is already evaluating on another thread; one instance serves one call at a time (it owns its bound buffers). Use one instance per thread.");
        try
        {
            EnsureCapacity(Math.Min(x.BatchSize, _maxBatch), condition);
            using var xPin = x.Memory.Pin();
            using var outPin = output.Memory.Pin();
            for (int start = 0; start < x.BatchSize; start += _maxBatch)
            {
                int rows = Math.Min(_maxBatch, x.BatchSize - start);
                RunChunk(x, output, (nint)xPin.Pointer, (nint)outPin.Pointer, start, rows, modelTime.Slice(start, rows), condition);
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void CheckCondition(in ModelCondition condition, int batch)
    {
        if (Card.ClassInput is not null)
        {
            if (condition.Kind != ConditionKind.Class)
                throw new ArgumentException(
                    $"Model '{_name}' is class-conditional ({Card.Classes} classes, input '{Card.ClassInput}') and got {(condition.Kind == ConditionKind.None ? "no condition" : "a " + condition.Kind + " condition")}: " +
                    $"pass one class label per row (e.g. SamplingOptions.Condition = ModelCondition.FromClasses(...)), or wrap the model in ClassifierFreeGuidance with the unconditional class{(Card.UnconditionalClass is int u ? $" ({u})" : "")}.",
                    nameof(condition));
            condition.EnsureRows(batch, nameof(condition));
            var labels = condition.Classes;
            int classes = Card.Classes!.Value;
            for (int i = 0; i < labels.Length; i++)
                if (labels[i] < 0 || (labels[i] > classes && labels[i] != Card.UnconditionalClass))
                    throw new ArgumentException($"Row {i}: class label {labels[i]} is outside [0, {classes}] for model '{_name}'.", nameof(condition));
        }
        else if (Card.ConditionInput is not null)
        {
            if (condition.Kind != ConditionKind.Tensor)
                throw new ArgumentException($"Model '{_name}' takes a conditioning tensor (input '{Card.ConditionInput}') and got {(condition.Kind == ConditionKind.None ? "no condition" : "a " + condition.Kind + " condition")}: pass ModelCondition.FromTensor(...) (for guidance, an explicit unconditional tensor).", nameof(condition));
            condition.EnsureRows(batch, nameof(condition));
            var dims = _session.InputMetadata[Card.ConditionInput].Dimensions;
            var rs = condition.RowShape;
            bool ok = dims.Length == rs.Length + 1;
            for (int i = 0; ok && i < rs.Length; i++) ok = dims[i + 1] <= 0 || dims[i + 1] == rs[i];
            if (!ok) throw new ArgumentException($"Model '{_name}': the condition rows have shape [{string.Join(", ", rs.ToArray())}]; input '{Card.ConditionInput}' has shape {OnnxSessions.Dims(dims)}.", nameof(condition));
        }
    }

    private void EnsureCapacity(int rows, in ModelCondition condition)
    {
        bool condChanged = Card.ConditionInput is not null && !condition.RowShape.SequenceEqual(_condShape);
        if (rows <= _capacity && !condChanged) return;
        ClearCache();
        int cap = Math.Max(rows, _capacity);
        int len = Card.SampleLength;
        if (!_direct || !_unitScale) _xStage = OnnxSessions.AllocatePinned(_sampleType, cap * len);
        if (!_direct) _outStage = OnnxSessions.AllocatePinned(_sampleType, cap * len);
        if (!_unitScale && !_direct) _scaled = new T[len];
        _timeStage = OnnxSessions.AllocatePinned(_timeType, cap);
        if (Card.ClassInput is not null) _classStage = GC.AllocateArray<long>(cap, pinned: true);
        if (Card.ConditionInput is not null)
        {
            _condShape = condition.RowShape.ToArray();
            _condRowLength = condition.RowLength;
            _condStage = OnnxSessions.AllocatePinned(TensorElementType.Float, cap * _condRowLength);
        }
        _a = new double[cap];
        _b = new double[cap];
        _capacity = cap;
    }

    private unsafe void RunChunk(BatchTensor<T> x, BatchTensor<T> output, nint xBase, nint outBase, int start, int rows, ReadOnlySpan<double> times, in ModelCondition condition)
    {
        if (_staticBatch > 0 && rows != _staticBatch)
            throw new ArgumentException($"Model '{_name}' has a fixed batch of {_staticBatch} rows; got a call of {rows} rows. Use batches of exactly {_staticBatch} (or a multiple of it).", nameof(x));
        int len = Card.SampleLength;
        var xs = x.Span.Slice(start * len, rows * len);
        var os = output.Span.Slice(start * len, rows * len);
        FillTime(times, start);
        if (_classStage is not null)
        {
            var labels = condition.Classes.Slice(start, rows);
            for (int i = 0; i < rows; i++) _classStage[i] = labels[i];
        }
        if (_condStage is not null)
            condition.Values.Slice(start * _condRowLength, rows * _condRowLength).CopyTo(((float[])_condStage).AsSpan());

        nint xAddr, outAddr;
        if (_direct && _unitScale) xAddr = xBase + start * len * sizeof(T);
        else
        {
            xAddr = OnnxSessions.AddressOf(_xStage!);
            for (int r = 0; r < rows; r++)
            {
                var row = xs.Slice(r * len, len);
                double cin = Card.InputScale(times[r]);
                nint dst = xAddr + r * len * OnnxSessions.SizeOf(_sampleType);
                if (_direct) TensorKernels.LinearCombination(new Span<T>((void*)dst, len), T.CreateTruncating(cin), row);
                else if (cin == 1) OnnxSessions.ToGraph<T>(row, _sampleType, dst);
                else
                {
                    TensorKernels.LinearCombination(_scaled.AsSpan(), T.CreateTruncating(cin), row);
                    OnnxSessions.ToGraph<T>(_scaled, _sampleType, dst);
                }
            }
        }
        outAddr = _direct ? outBase + start * len * sizeof(T) : OnnxSessions.AddressOf(_outStage!);

        var binding = GetBinding(xAddr, outAddr, rows);
        try { _session.RunWithBinding(_runOptions, binding.IoBinding); }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException(
                $"Model '{_name}' failed on {rows} rows (output '{Card.Output}' bound as [{rows}, {string.Join(", ", Card.SampleShape)}] {_sampleType}): {e.Message}", e);
        }

        if (!_direct) OnnxSessions.FromGraph(outAddr, _sampleType, os);
        for (int r = 0; r < rows; r++)
        {
            var (a, b) = Card.OutputMap(times[r]);
            if (a == 0 && b == 1) continue;
            var o = os.Slice(r * len, len);
            if (a == 0) TensorKernels.LinearCombination(o, T.CreateTruncating(b), o);
            else TensorKernels.LinearCombination(o, T.CreateTruncating(b), o, T.CreateTruncating(a), xs.Slice(r * len, len));
        }
    }

    private unsafe void FillTime(ReadOnlySpan<double> times, int start)
    {
        nint addr = OnnxSessions.AddressOf(_timeStage!);
        for (int r = 0; r < times.Length; r++)
        {
            double v = Card.NetworkTime(times[r]);
            switch (_timeType)
            {
                case TensorElementType.Int64:
                    double rounded = Math.Round(v);
                    if (!double.IsFinite(v) || Math.Abs(v - rounded) > 1e-6 * Math.Max(1, Math.Abs(v)))
                        throw new ArgumentException(
                            $"Row {start + r}: model '{_name}' takes an int64 time input ('{Card.TimeInput}') but the time is {v} (model time {times[r]}), not an integer; " +
                            "use a schedule with integer timesteps (the card's scheduler config with DDIM/DDPM, or leading/trailing spacing).", "modelTime");
                    ((long*)addr)[r] = (long)rounded;
                    break;
                case TensorElementType.Float: ((float*)addr)[r] = (float)v; break;
                case TensorElementType.Float16: ((Half*)addr)[r] = (Half)v; break;
                default: ((double*)addr)[r] = v; break;
            }
        }
    }

    private Binding GetBinding(nint xAddr, nint outAddr, int rows)
    {
        long now = ++_useClock;
        int victim = 0;
        for (int i = 0; i < _cache.Length; i++)
        {
            var e = _cache[i];
            if (e is not null && e.X == xAddr && e.Out == outAddr && e.Rows == rows) { e.LastUse = now; return e; }
            if (e is null) { victim = i; break; }
            if (e.LastUse < _cache[victim]!.LastUse) victim = i;
        }
        _cache[victim]?.Dispose();
        var b = CreateBinding(xAddr, outAddr, rows);
        b.LastUse = now;
        return _cache[victim] = b;
    }

    private Binding CreateBinding(nint xAddr, nint outAddr, int rows)
    {
        var values = new List<OrtValue>(5);
        var io = _session.CreateIoBinding();
        try
        {
            long[] sampleShape = [rows, .. Card.SampleShape.Select(d => (long)d)];
            var xv = OnnxSessions.Tensor(_sampleType, xAddr, sampleShape); values.Add(xv);
            io.BindInput(Card.SampleInput!, xv);
            var tv = OnnxSessions.Tensor(_timeType, OnnxSessions.AddressOf(_timeStage!), _timeRank == 1 ? [rows] : [rows, 1]); values.Add(tv);
            io.BindInput(Card.TimeInput!, tv);
            if (_classStage is not null)
            {
                var cv = OnnxSessions.Tensor(TensorElementType.Int64, OnnxSessions.AddressOf(_classStage), [rows]); values.Add(cv);
                io.BindInput(Card.ClassInput!, cv);
            }
            if (_condStage is not null)
            {
                var cv = OnnxSessions.Tensor(TensorElementType.Float, OnnxSessions.AddressOf(_condStage), [rows, .. _condShape.Select(d => (long)d)]); values.Add(cv);
                io.BindInput(Card.ConditionInput!, cv);
            }
            var ov = OnnxSessions.Tensor(_sampleType, outAddr, sampleShape); values.Add(ov);
            io.BindOutput(Card.Output, ov);
            return new Binding(xAddr, outAddr, rows, io, values);
        }
        catch
        {
            io.Dispose();
            foreach (var v in values) v.Dispose();
            throw;
        }
    }

    private void ClearCache()
    {
        for (int i = 0; i < _cache.Length; i++) { _cache[i]?.Dispose(); _cache[i] = null; }
    }

    /// <summary>Releases the bindings, and the session when this instance owns it.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        ClearCache();
        _runOptions.Dispose();
        if (_ownsSession) _session.Dispose();
    }

    /// <summary>A description: the card, prediction and graph sample type.</summary>
    public override string ToString() => $"OnnxGenerativeModel<{typeof(T).Name}>('{_name}', {Card.CardPrediction} on {Card.PathKind}, {_sampleType})";

    private sealed class Binding(nint x, nint output, int rows, OrtIoBinding ioBinding, List<OrtValue> values) : IDisposable
    {
        public nint X { get; } = x;
        public nint Out { get; } = output;
        public int Rows { get; } = rows;
        public OrtIoBinding IoBinding { get; } = ioBinding;
        public long LastUse { get; set; }

        public void Dispose()
        {
            IoBinding.Dispose();
            foreach (var v in values) v.Dispose();
        }
    }
}
