using GenerativePaths.Decoding;
using GenerativePaths.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GenerativePaths.OnnxRuntime;

/// <summary>
/// A causal language model in an ONNX file (card kind <c>causal_lm</c>) behind the library's <see cref="ICausalTokenModel"/>
/// contract, with its vocabulary: the greedy, Jacobi and lookahead decoders of <see cref="TokenDecoder"/> run it.
/// </summary>
/// <remarks>
/// <para>The graph takes int64 (or int32) tokens <c>[batch, sequence]</c> under the card's <c>inputs.tokens</c> and returns float32
/// logits <c>[batch, sequence, V]</c> under <c>output</c>, both axes dynamic, where <c>V</c> is the number of tokens in the card's
/// <c>vocabulary</c> file; the logits at position <c>j</c> must depend on tokens <c>0..j</c> only (a causal mask), which is what
/// makes right padding harmless. The card's <c>context</c>, when given, is <see cref="ContextLength"/>: longer rows are refused
/// with <see cref="ArgumentException"/>.</para>
/// <para>Data movement: tokens are widened into a pinned staging buffer and the logits come back through a pinned buffer bound as
/// the output (IO binding, one binding per (rows, stride) shape, at most 1024 kept), then copied into the caller's span; after the
/// first call of a given shape a call allocates nothing on the managed heap.</para>
/// <para>Exactness: ONNX Runtime may sum in a different order for a different batch shape, so logits can differ in the last bits
/// between a greedy single-row call and a batched parallel round; a parallel decoder's tokens equal greedy's unless two logits of
/// a position are that close (the decoding tests check the shipped model on many prompts).</para>
/// <para>Thread safety: one instance serves one call at a time (it owns the bound buffers); a second concurrent call raises
/// <see cref="InvalidOperationException"/>. Create one instance per thread to evaluate in parallel.</para>
/// </remarks>
public sealed class OnnxCausalLm : ICausalTokenModel, IDisposable
{
    private const int MaxBindings = 1024;
    private readonly InferenceSession _session;
    private readonly bool _ownsSession;
    private readonly RunOptions _runOptions = new();
    private readonly TensorElementType _tokenType;
    private readonly int _maxBatch;
    private readonly Dictionary<(int Rows, int Stride), (OrtIoBinding Io, OrtValue[] Values)> _bindings = [];
    private Array? _tokens;
    private float[]? _logits;
    private int _tokenCapacity, _busy;
    private bool _disposed;

    /// <summary>Wraps a caller's session with its card and vocabulary.</summary>
    /// <param name="session">The session (kept by the caller unless <paramref name="ownsSession"/>).</param>
    /// <param name="card">The card (kind <c>causal_lm</c>).</param>
    /// <param name="vocabulary">The vocabulary; null to load the card's <see cref="ModelCard.VocabularyPath"/>.</param>
    /// <param name="options">Batching options (<see cref="OnnxModelOptions.MaxBatch"/> rows per call).</param>
    /// <param name="ownsSession">Whether <see cref="Dispose"/> disposes <paramref name="session"/>.</param>
    /// <exception cref="ModelCardException">The card is not a <c>causal_lm</c>, its vocabulary file is missing or invalid, or the card
    /// disagrees with the graph (the message names the key and lists the graph's names).</exception>
    public OnnxCausalLm(InferenceSession session, ModelCard card, TokenVocabulary? vocabulary = null, OnnxModelOptions? options = null, bool ownsSession = false)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(card);
        if (card.Kind != ModelCardKind.CausalLm) throw card.Error("kind", $"OnnxCausalLm runs causal_lm models; this card describes a {card.Kind}");
        _maxBatch = options?.MaxBatch ?? int.MaxValue;
        if (_maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(options), _maxBatch, "MaxBatch must be at least 1.");
        _session = session;
        _ownsSession = ownsSession;
        Card = card;
        Vocabulary = vocabulary ?? LoadVocabulary(card);

        var tokens = OnnxSessions.Input(session, card, "tokens", card.TokensInput!);
        OnnxSessions.RequireTensor(card, "inputs.tokens", card.TokensInput!, tokens, TensorElementType.Int64, TensorElementType.Int32);
        if (tokens.Dimensions.Length != 2)
            throw card.Error("inputs.tokens", $"graph input '{card.TokensInput}' has shape {OnnxSessions.Dims(tokens.Dimensions)}; expected [batch, sequence]");
        if (tokens.Dimensions[0] > 0 || tokens.Dimensions[1] > 0)
            throw card.Error("inputs.tokens", $"graph input '{card.TokensInput}' has shape {OnnxSessions.Dims(tokens.Dimensions)}; the batch and sequence axes must be dynamic (export with dynamic_axes)");
        _tokenType = tokens.ElementDataType;
        foreach (var name in session.InputMetadata.Keys)
            if (name != card.TokensInput)
                throw card.Error("inputs", $"the graph has an input '{name}' the card does not name (inputs: {OnnxSessions.Names(session.InputMetadata.Keys)}); a causal_lm graph takes only its tokens");
        var logits = OnnxSessions.Output(session, card, "output", card.Output);
        OnnxSessions.RequireTensor(card, "output", card.Output, logits, TensorElementType.Float);
        if (logits.Dimensions.Length != 3)
            throw card.Error("output", $"graph output '{card.Output}' has shape {OnnxSessions.Dims(logits.Dimensions)}; expected [batch, sequence, vocabulary]");
        if (logits.Dimensions[2] > 0 && logits.Dimensions[2] != Vocabulary.Count)
            throw card.Error("vocabulary", $"graph output '{card.Output}' has {logits.Dimensions[2]} logits per position; the vocabulary file has {Vocabulary.Count} tokens");
    }

    /// <summary>Loads <paramref name="modelPath"/> with its card (explicit path, <c>NAME.onnx.json</c> beside it, or metadata_props
    /// <c>gpaths</c>) and the card's vocabulary file.</summary>
    /// <exception cref="FileNotFoundException">The model file is missing.</exception>
    /// <exception cref="ModelCardException">No card, an invalid card or vocabulary, or one that disagrees with the graph.</exception>
    /// <exception cref="InvalidOperationException">ONNX Runtime cannot load the model.</exception>
    public static OnnxCausalLm Load(string modelPath, string? cardPath = null, OnnxModelOptions? options = null)
    {
        options ??= new OnnxModelOptions();
        var session = OnnxSessions.Create(modelPath, options);
        try { return new OnnxCausalLm(session, OnnxSessions.ResolveCard(modelPath, cardPath, session), null, options, ownsSession: true); }
        catch { session.Dispose(); throw; }
    }

    private static TokenVocabulary LoadVocabulary(ModelCard card)
    {
        string path = card.VocabularyPath!;
        if (!File.Exists(path)) throw card.Error("vocabulary", $"no such file: {Path.GetFullPath(path)}");
        try { return TokenVocabulary.Load(path); }
        catch (FormatException e) { throw card.Error("vocabulary", e.Message, e); }
        catch (IOException e) { throw card.Error("vocabulary", $"cannot read {path}: {e.Message}", e); }
    }

    /// <summary>The model's card.</summary>
    public ModelCard Card { get; }

    /// <summary>The token strings.</summary>
    public TokenVocabulary Vocabulary { get; }

    /// <summary>The underlying session.</summary>
    public InferenceSession Session => _session;

    /// <inheritdoc/>
    public int VocabularySize => Vocabulary.Count;

    /// <inheritdoc/>
    /// <remarks>The card's <c>context</c>.</remarks>
    public int? ContextLength => Card.Context;

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Another thread is using the instance, or ONNX Runtime fails.</exception>
    public unsafe void Evaluate(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int stride, Span<float> logits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        int rows = lengths.Length, v = Vocabulary.Count;
        if (tokens.Length != (long)rows * stride) throw new ArgumentException($"{tokens.Length} tokens for {rows} rows of {stride}.", nameof(tokens));
        if (logits.Length != (long)rows * stride * v) throw new ArgumentException($"{logits.Length} logit slots for {rows} rows of {stride} positions and {v} tokens.", nameof(logits));
        if (ContextLength is int c && stride > c)
        {
            int longest = 0;
            foreach (int l in lengths) longest = Math.Max(longest, l);
            if (longest > c) throw new ArgumentException($"A row of {longest} tokens exceeds the context of {c} tokens of model '{Card.SourceName}'.", nameof(lengths));
        }
        for (int r = 0; r < rows; r++)
            if (lengths[r] < 1 || lengths[r] > stride) throw new ArgumentException($"Row {r} has length {lengths[r]}, outside 1..{stride}.", nameof(lengths));
        for (int i = 0; i < tokens.Length; i++)
            if ((uint)tokens[i] >= (uint)v) throw new ArgumentException($"Token {tokens[i]} at row {i / stride}, position {i % stride} is outside the vocabulary 0..{v - 1}.", nameof(tokens));
        if (rows == 0) return;
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException($"OnnxCausalLm '{Card.SourceName}' is already evaluating on another thread; one instance serves one call at a time.");
        try
        {
            // Sequence positions beyond the context cannot occur here; rows of a chunk are padded to the common stride.
            for (int start = 0; start < rows; start += _maxBatch)
            {
                int n = Math.Min(_maxBatch, rows - start);
                Ensure(n * stride, (long)n * stride * v);
                var io = BindingFor(n, stride);
                var src = tokens.Slice(start * stride, n * stride);
                nint addr = OnnxSessions.AddressOf(_tokens!);
                if (_tokenType == TensorElementType.Int64) { var dst = new Span<long>((void*)addr, src.Length); for (int i = 0; i < src.Length; i++) dst[i] = src[i]; }
                else src.CopyTo(new Span<int>((void*)addr, src.Length));
                try { _session.RunWithBinding(_runOptions, io); }
                catch (OnnxRuntimeException e)
                {
                    throw new InvalidOperationException($"Model '{Card.SourceName}' failed on {n} rows of {stride} tokens (output '{Card.Output}' bound as [{n}, {stride}, {v}]): {e.Message}", e);
                }
                _logits.AsSpan(0, n * stride * v).CopyTo(logits.Slice(start * stride * v, n * stride * v));
            }
        }
        finally { Volatile.Write(ref _busy, 0); }
    }

    private void Ensure(int tokenCount, long logitCount)
    {
        if (tokenCount <= _tokenCapacity && _logits is not null && logitCount <= _logits.Length) return;
        ClearBindings();
        int cap = Math.Max(tokenCount, _tokenCapacity * 2);
        _tokens = OnnxSessions.AllocatePinned(_tokenType, cap);
        _logits = GC.AllocateArray<float>(checked((int)Math.Max(logitCount, (long)cap * Vocabulary.Count)), pinned: true);
        _tokenCapacity = cap;
    }

    private OrtIoBinding BindingFor(int rows, int stride)
    {
        if (_bindings.TryGetValue((rows, stride), out var b)) return b.Io;
        if (_bindings.Count >= MaxBindings) ClearBindings();
        var io = _session.CreateIoBinding();
        var tv = OnnxSessions.Tensor(_tokenType, OnnxSessions.AddressOf(_tokens!), [rows, stride]);
        var lv = OnnxSessions.Tensor(TensorElementType.Float, OnnxSessions.AddressOf(_logits!), [rows, stride, Vocabulary.Count]);
        io.BindInput(Card.TokensInput!, tv);
        io.BindOutput(Card.Output, lv);
        _bindings[(rows, stride)] = (io, [tv, lv]);
        return io;
    }

    private void ClearBindings()
    {
        foreach (var (io, values) in _bindings.Values) { io.Dispose(); foreach (var v in values) v.Dispose(); }
        _bindings.Clear();
    }

    /// <summary>Releases the bindings, and the session when this instance owns it.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        ClearBindings();
        _runOptions.Dispose();
        if (_ownsSession) _session.Dispose();
    }

    /// <summary>A description: the card, vocabulary size and context.</summary>
    public override string ToString() => $"OnnxCausalLm('{Card.SourceName}', {Vocabulary.Count} tokens, context {(ContextLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unlimited")})";
}
