using GenerativePaths.Decoding;

namespace GenerativePaths.Tests.Decoding;

/// <summary>Small causal models for the decoding tests. Each checks the contract on every call (lengths, vocabulary,
/// context) and writes NaN at padded positions, so a decoder that reads padding fails loudly.</summary>
internal abstract class TestTokenModel(int vocab, int? context) : ICausalTokenModel
{
    public int VocabularySize { get; } = vocab;
    public int? ContextLength { get; } = context;
    public int Calls { get; private set; }
    public long Positions { get; private set; }
    public int LongestRow { get; private set; }

    /// <summary>Logits of the token following <paramref name="prefix"/> (its last element is the current token).</summary>
    protected abstract void Next(ReadOnlySpan<int> prefix, Span<float> logits);

    public void Evaluate(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int stride, Span<float> logits)
    {
        if (tokens.Length != lengths.Length * stride) throw new ArgumentException("tokens length");
        if (logits.Length != tokens.Length * VocabularySize) throw new ArgumentException("logits length");
        Calls++;
        for (int r = 0; r < lengths.Length; r++)
        {
            int len = lengths[r];
            if (len < 1 || len > stride) throw new ArgumentException($"row {r} length {len}");
            if (ContextLength is int c && len > c) throw new ArgumentException($"row {r} of {len} tokens exceeds context {c}");
            LongestRow = Math.Max(LongestRow, len);
            Positions += len;
            var row = tokens.Slice(r * stride, stride);
            for (int j = 0; j < stride; j++)
            {
                if ((uint)row[j] >= (uint)VocabularySize) throw new ArgumentException($"token {row[j]} at ({r}, {j})");
                var l = logits.Slice((r * stride + j) * VocabularySize, VocabularySize);
                if (j < len) Next(row[..(j + 1)], l);
                else l.Fill(float.NaN);
            }
        }
    }

    /// <summary>The test's own greedy oracle: one single-row call per token, argmax with the lowest index on ties.</summary>
    public static (List<int> Tokens, bool Ended) Greedy(ICausalTokenModel model, IReadOnlyList<int> prompt, int maxNew, int? end)
    {
        var seq = prompt.ToList();
        var output = new List<int>();
        var logits = new float[model.VocabularySize * (prompt.Count + maxNew)];
        while (output.Count < maxNew)
        {
            int n = seq.Count;
            model.Evaluate(seq.ToArray(), [n], n, logits.AsSpan(0, n * model.VocabularySize));
            int best = 0;
            for (int v = 1; v < model.VocabularySize; v++)
                if (logits[(n - 1) * model.VocabularySize + v] > logits[(n - 1) * model.VocabularySize + best]) best = v;
            seq.Add(best);
            output.Add(best);
            if (best == end) return (output, true);
        }
        return (output, false);
    }
}

/// <summary>Logits from a table indexed by the last <c>order</c> tokens (a random n-gram model), quantised to
/// <c>levels</c> values so that ties are common (levels = 1: every logit ties and greedy always picks token 0).</summary>
internal sealed class NgramTableModel : TestTokenModel
{
    private readonly float[] _table;
    private readonly int _order;

    public NgramTableModel(int vocab, int order, int levels, int seed, int? context = null) : base(vocab, context)
    {
        _order = order;
        var rng = new Random(seed);
        int rowsCount = (int)Math.Pow(vocab, order);
        _table = new float[rowsCount * vocab];
        for (int i = 0; i < _table.Length; i++) _table[i] = rng.Next(levels);
    }

    protected override void Next(ReadOnlySpan<int> prefix, Span<float> logits)
    {
        int key = 0;
        for (int k = 0; k < _order; k++)
        {
            int p = prefix.Length - 1 - k;
            key = key * VocabularySize + (p >= 0 ? prefix[p] : 0);
        }
        _table.AsSpan(key * VocabularySize, VocabularySize).CopyTo(logits);
    }
}

/// <summary>Logits from a hash of the whole prefix and its length: any change anywhere before a position changes it.</summary>
internal sealed class PrefixHashModel(int vocab, int levels, int seed, int? context = null) : TestTokenModel(vocab, context)
{
    protected override void Next(ReadOnlySpan<int> prefix, Span<float> logits)
    {
        ulong h = (ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)prefix.Length;
        foreach (int t in prefix) h = (h ^ (ulong)t) * 0x100000001B3UL + 0x632BE59BD9B4E019UL;
        for (int v = 0; v < logits.Length; v++)
        {
            ulong x = h + (ulong)v * 0xD1B54A32D192ED03UL;
            x ^= x >> 31; x *= 0xBF58476D1CE4E5B9UL; x ^= x >> 29;
            logits[v] = (float)(x % (ulong)levels);
        }
    }
}

/// <summary>The next token is <c>(t + step) mod V</c> with certainty: a periodic text.</summary>
internal sealed class CycleModel(int vocab, int step, int? context = null) : TestTokenModel(vocab, context)
{
    protected override void Next(ReadOnlySpan<int> prefix, Span<float> logits)
    {
        logits.Clear();
        logits[(prefix[^1] + step) % VocabularySize] = 1;
    }
}
