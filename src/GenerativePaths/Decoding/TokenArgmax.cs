namespace GenerativePaths.Decoding;

/// <summary>The greedy choice from one position's logits, with the tie rule every decoder shares.</summary>
/// <remarks>
/// <para><c>argmax_i l_i</c>, the lowest index among equal largest logits; the margin is <c>l_best - max_{i != best} l_i</c>
/// (0 at a tie, +infinity for a vocabulary of one).</para>
/// <para>Thread safety: stateless.</para>
/// </remarks>
public static class TokenArgmax
{
    /// <summary>The index of the largest logit (the lowest such index on a tie).</summary>
    /// <exception cref="ArgumentException">The span is empty or holds a NaN.</exception>
    public static int Of(ReadOnlySpan<float> logits) => Of(logits, out _);

    /// <summary>The index of the largest logit (the lowest such index on a tie) and its margin over the runner-up.</summary>
    /// <exception cref="ArgumentException">The span is empty or holds a NaN (the message gives the index).</exception>
    public static int Of(ReadOnlySpan<float> logits, out float margin)
    {
        if (logits.IsEmpty) throw new ArgumentException("No logits (the vocabulary is empty).", nameof(logits));
        int best = 0;
        float bestValue = logits[0], second = float.NegativeInfinity;
        if (float.IsNaN(bestValue)) throw NaN(0);
        for (int i = 1; i < logits.Length; i++)
        {
            float v = logits[i];
            if (v > bestValue) { second = bestValue; bestValue = v; best = i; }
            else if (float.IsNaN(v)) throw NaN(i);
            else if (v > second) second = v;
        }
        margin = logits.Length == 1 ? float.PositiveInfinity : bestValue - second;
        return best;
    }

    private static ArgumentException NaN(int i) => new($"The model returned NaN for token {i}; greedy decoding needs finite (or infinite) logits.", "logits");
}
