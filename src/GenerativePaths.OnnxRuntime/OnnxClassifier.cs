using GenerativePaths.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GenerativePaths.OnnxRuntime;

/// <summary>
/// A classifier network in an ONNX file (card kind <c>classifier</c>): maps samples to class logits and, when the card names a
/// <c>features</c> output, a feature vector per sample (for feature-distance quality measures).
/// </summary>
/// <remarks>
/// <para>Row <c>r</c> of the input (<c>sample_shape</c> elements) gives logits <c>[r * Classes, (r + 1) * Classes)</c> and features
/// <c>[r * FeatureLength, (r + 1) * FeatureLength)</c>. Inputs and outputs go through pinned staging buffers bound once per row
/// count; after the first call with a row count, a call allocates nothing on the managed heap.</para>
/// <para>Thread safety: one instance serves one call at a time (it owns the bound buffers); a second concurrent call raises
/// <see cref="InvalidOperationException"/>.</para>
/// </remarks>
public sealed class OnnxClassifier : IDisposable
{
    private readonly InferenceSession _session;
    private readonly bool _ownsSession;
    private readonly RunOptions _runOptions = new();
    private readonly TensorElementType _type;
    private readonly int _maxBatch;
    private readonly Dictionary<int, (OrtIoBinding Io, OrtValue[] Values)> _bindings = [];
    private Array? _x, _logits, _features;
    private int _capacity, _busy;
    private bool _disposed;

    /// <summary>Wraps a caller's session with its card.</summary>
    /// <exception cref="ModelCardException">The card is not a classifier or disagrees with the graph.</exception>
    public OnnxClassifier(InferenceSession session, ModelCard card, OnnxModelOptions? options = null, bool ownsSession = false)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(card);
        if (card.Kind != ModelCardKind.Classifier) throw card.Error("kind", $"OnnxClassifier runs classifiers; this card describes a {card.Kind}");
        _session = session;
        _ownsSession = ownsSession;
        Card = card;
        var x = OnnxSessions.Input(session, card, "sample", card.SampleInput!);
        OnnxSessions.RequireTensor(card, "inputs.sample", card.SampleInput!, x, TensorElementType.Float, TensorElementType.Float16);
        OnnxSessions.CheckSampleDims(card, "inputs.sample", card.SampleInput!, x);
        _type = x.ElementDataType;
        foreach (var name in session.InputMetadata.Keys)
            if (name != card.SampleInput) throw card.Error("inputs", $"the graph has an input '{name}' the card does not name (inputs: {OnnxSessions.Names(session.InputMetadata.Keys)})");
        var logits = OnnxSessions.Output(session, card, "output", card.Output);
        OnnxSessions.RequireTensor(card, "output", card.Output, logits, _type);
        if (logits.Dimensions.Length != 2 || (logits.Dimensions[1] > 0 && logits.Dimensions[1] != card.Classes))
            throw card.Error("classes", $"graph output '{card.Output}' has shape {OnnxSessions.Dims(logits.Dimensions)}; expected [batch, {card.Classes}]");
        Classes = card.Classes!.Value;
        if (card.Features is not null)
        {
            var f = OnnxSessions.Output(session, card, "features", card.Features);
            OnnxSessions.RequireTensor(card, "features", card.Features, f, _type);
            if (f.Dimensions.Length != 2 || f.Dimensions[1] <= 0)
                throw card.Error("features", $"graph output '{card.Features}' has shape {OnnxSessions.Dims(f.Dimensions)}; expected [batch, n] with a fixed n");
            FeatureLength = f.Dimensions[1];
        }
        _maxBatch = options?.MaxBatch ?? int.MaxValue;
        if (_maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(options), _maxBatch, "MaxBatch must be at least 1.");
    }

    /// <summary>Loads <paramref name="modelPath"/> with its card (explicit path, <c>NAME.onnx.json</c> beside it, or metadata_props <c>gpaths</c>).</summary>
    /// <exception cref="FileNotFoundException">The model file is missing.</exception>
    /// <exception cref="ModelCardException">No card, or an invalid card or one that disagrees with the graph.</exception>
    public static OnnxClassifier Load(string modelPath, string? cardPath = null, OnnxModelOptions? options = null)
    {
        options ??= new OnnxModelOptions();
        var session = OnnxSessions.Create(modelPath, options);
        try { return new OnnxClassifier(session, OnnxSessions.ResolveCard(modelPath, cardPath, session), options, ownsSession: true); }
        catch { session.Dispose(); throw; }
    }

    /// <summary>The card.</summary>
    public ModelCard Card { get; }

    /// <summary>Logits per sample.</summary>
    public int Classes { get; }

    /// <summary>Features per sample (0 when the card names no <c>features</c> output).</summary>
    public int FeatureLength { get; }

    /// <summary>Elements per input sample.</summary>
    public int SampleLength => Card.SampleLength;

    /// <summary>Classifies <paramref name="rows"/> samples.</summary>
    /// <param name="x">The samples, <c>rows * SampleLength</c> values.</param>
    /// <param name="rows">Number of samples.</param>
    /// <param name="logits">Receives <c>rows * Classes</c> logits.</param>
    /// <param name="features">Receives <c>rows * FeatureLength</c> features, or empty to skip them.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or features are asked of a card without a features output.</exception>
    /// <exception cref="InvalidOperationException">Another thread is using the instance.</exception>
    public unsafe void Evaluate(ReadOnlySpan<float> x, int rows, Span<float> logits, Span<float> features = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        int len = SampleLength;
        if (x.Length != rows * len) throw new ArgumentException($"{x.Length} input values for {rows} samples of {len}.", nameof(x));
        if (logits.Length != rows * Classes) throw new ArgumentException($"{logits.Length} logit slots for {rows} samples of {Classes} classes.", nameof(logits));
        if (!features.IsEmpty && FeatureLength == 0) throw new ArgumentException($"Card '{Card.SourceName}' names no features output.", nameof(features));
        if (!features.IsEmpty && features.Length != rows * FeatureLength) throw new ArgumentException($"{features.Length} feature slots for {rows} samples of {FeatureLength}.", nameof(features));
        if (rows == 0) return;
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException($"OnnxClassifier '{Card.SourceName}' is already evaluating on another thread; one instance serves one call at a time.");
        try
        {
            for (int start = 0; start < rows; start += _maxBatch)
            {
                int n = Math.Min(_maxBatch, rows - start);
                Ensure(n);
                var (io, _) = BindingFor(n);
                OnnxSessions.ToGraph(x.Slice(start * len, n * len), _type, OnnxSessions.AddressOf(_x!));
                _session.RunWithBinding(_runOptions, io);
                OnnxSessions.FromGraph(OnnxSessions.AddressOf(_logits!), _type, logits.Slice(start * Classes, n * Classes));
                if (!features.IsEmpty) OnnxSessions.FromGraph(OnnxSessions.AddressOf(_features!), _type, features.Slice(start * FeatureLength, n * FeatureLength));
            }
        }
        finally { Volatile.Write(ref _busy, 0); }
    }

    private void Ensure(int rows)
    {
        if (rows <= _capacity) return;
        foreach (var (io, values) in _bindings.Values) { io.Dispose(); foreach (var v in values) v.Dispose(); }
        _bindings.Clear();
        _x = OnnxSessions.AllocatePinned(_type, rows * SampleLength);
        _logits = OnnxSessions.AllocatePinned(_type, rows * Classes);
        if (FeatureLength > 0) _features = OnnxSessions.AllocatePinned(_type, rows * FeatureLength);
        _capacity = rows;
    }

    private (OrtIoBinding, OrtValue[]) BindingFor(int rows)
    {
        if (_bindings.TryGetValue(rows, out var b)) return b;
        var io = _session.CreateIoBinding();
        var xv = OnnxSessions.Tensor(_type, OnnxSessions.AddressOf(_x!), [rows, .. Card.SampleShape.Select(d => (long)d)]);
        var lv = OnnxSessions.Tensor(_type, OnnxSessions.AddressOf(_logits!), [rows, Classes]);
        io.BindInput(Card.SampleInput!, xv);
        io.BindOutput(Card.Output, lv);
        var values = new List<OrtValue> { xv, lv };
        if (FeatureLength > 0)
        {
            var fv = OnnxSessions.Tensor(_type, OnnxSessions.AddressOf(_features!), [rows, FeatureLength]);
            io.BindOutput(Card.Features!, fv);
            values.Add(fv);
        }
        return _bindings[rows] = (io, values.ToArray());
    }

    /// <summary>Releases the bindings, and the session when this instance owns it.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (io, values) in _bindings.Values) { io.Dispose(); foreach (var v in values) v.Dispose(); }
        _bindings.Clear();
        _runOptions.Dispose();
        if (_ownsSession) _session.Dispose();
    }
}
