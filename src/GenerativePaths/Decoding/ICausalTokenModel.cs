namespace GenerativePaths.Decoding;

/// <summary>
/// A causal token model (a language model) behind one batched call: a batch of right-padded token sequences with their
/// lengths in, the next-token logits at every position out.
/// </summary>
/// <remarks>
/// <para>Layout. <c>tokens</c> holds <c>rows</c> sequences of <c>stride</c> slots each, row-major: row <c>r</c> is
/// <c>tokens[r * stride .. r * stride + lengths[r])</c>, and the slots after its length are padding (any valid token id;
/// the decoders write 0). <c>logits</c> is <c>[rows, stride, VocabularySize]</c>: the logits at
/// <c>(r, j)</c> score the token that follows <c>tokens[r * stride + j]</c>, for <c>0 &lt;= j &lt; lengths[r]</c>. What the
/// model writes at padded positions is not read.</para>
/// <para>Causality, the contract every decoder in this namespace relies on: the logits at <c>(r, j)</c> depend only on the
/// tokens <c>0..j</c> of row <c>r</c>: not on later tokens, the padding, the other rows, or the batch size. A transformer
/// with a causal mask meets it up to floating-point summation order; a model whose arithmetic changes with the batch
/// shape can, at a near-tie between two logits, make a parallel decoder's output differ from greedy decoding's.</para>
/// <para>Context. A model with a <see cref="ContextLength"/> accepts rows of at most that many tokens; the decoders refuse
/// (with <see cref="ArgumentException"/>) a prompt plus a token budget that does not fit, rather than slide the context.</para>
/// <para>Thread safety: implementations say; the decoders call one model from one thread at a time.</para>
/// </remarks>
public interface ICausalTokenModel
{
    /// <summary>The number of token ids, <c>V</c>: valid tokens are <c>0..V-1</c> and each position gets <c>V</c> logits.</summary>
    int VocabularySize { get; }

    /// <summary>The longest sequence the model accepts, or null for no limit.</summary>
    int? ContextLength { get; }

    /// <summary>Computes the next-token logits of every position of every row.</summary>
    /// <param name="tokens">The right-padded rows, <c>rows * stride</c> token ids.</param>
    /// <param name="lengths">The length of each row (<c>1..stride</c>); <c>lengths.Length</c> is the number of rows.</param>
    /// <param name="stride">Slots per row.</param>
    /// <param name="logits">Receives <c>rows * stride * VocabularySize</c> logits.</param>
    /// <exception cref="ArgumentException">The spans disagree in length, a length lies outside <c>1..stride</c>, a token is outside
    /// the vocabulary, or a row is longer than <see cref="ContextLength"/>.</exception>
    void Evaluate(ReadOnlySpan<int> tokens, ReadOnlySpan<int> lengths, int stride, Span<float> logits);
}
