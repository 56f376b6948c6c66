namespace GenerativePaths.Decoding;

/// <summary>The decoding algorithm: how the per-round guess (the draft) is made. Every method returns greedy decoding's tokens.</summary>
/// <remarks>Thread safety: a value.</remarks>
public enum DecodingMethod
{
    /// <summary>One token per model call: <c>x_{n+1} = argmax p(. | x_1..x_n)</c>. The baseline and the oracle.</summary>
    Greedy,

    /// <summary>Jacobi decoding with a sliding window of <see cref="DecodingOptions.Window"/> guessed tokens (Santilli et al., ACL 2023;
    /// Song et al., ICML 2021): every round refines the whole window at once and accepts its longest fixed-point prefix.</summary>
    Jacobi,

    /// <summary>Lookahead decoding (Fu et al., ICML 2024): the Jacobi window's trajectory fills an n-gram pool keyed by first token,
    /// and up to <see cref="DecodingOptions.Guesses"/> pooled n-grams starting with the last accepted token are verified in the same call.</summary>
    Lookahead,
}

/// <summary>What a decoding run does: the method, its window, n-gram and candidate sizes, the draft sources, and when to stop.</summary>
/// <remarks>
/// <para>Sources combine with every method: <see cref="PromptPool"/> (prompt lookup: continuations of the longest suffix of the
/// text so far that occurred earlier in it; Saxena 2023) and <see cref="Corpus"/> (the same against a user corpus; retrieval as
/// in REST, He et al., NAACL 2024) add verified candidates to greedy, Jacobi or lookahead rounds. At most
/// <see cref="Guesses"/> candidates are verified per round, taken round-robin from the sources.</para>
/// <para>Stopping: after <see cref="MaxNewTokens"/> tokens, or right after <see cref="EndToken"/> is produced (the end token is part
/// of the output), whichever comes first; the same for every method.</para>
/// <para>Thread safety: an immutable record; share freely (a <see cref="CorpusIndex"/> is itself immutable).</para>
/// </remarks>
public sealed record DecodingOptions
{
    /// <summary>The largest number of tokens to generate (at least 1).</summary>
    public int MaxNewTokens { get; init; } = 32;

    /// <summary>A token that ends generation (included in the output), or null.</summary>
    public int? EndToken { get; init; }

    /// <summary>The method (default <see cref="DecodingMethod.Greedy"/>).</summary>
    public DecodingMethod Method { get; init; } = DecodingMethod.Greedy;

    /// <summary><c>W</c>: guessed tokens in the Jacobi / lookahead window (at least 1; default 5).</summary>
    public int Window { get; init; } = 5;

    /// <summary><c>N</c>: the n-gram size of the lookahead pool (at least 2; default 3). A verified lookahead candidate drafts
    /// <c>N - 1</c> tokens; the lookahead trajectory keeps the last <c>N - 1</c> windows.</summary>
    public int NgramSize { get; init; } = 3;

    /// <summary><c>G</c>: the most candidates verified per round, over all sources (at least 0; default 5).</summary>
    public int Guesses { get; init; } = 5;

    /// <summary>The most tokens a prompt-lookup or corpus candidate drafts (at least 1; default 16).</summary>
    public int DraftLength { get; init; } = 16;

    /// <summary>Whether candidates also come from the prompt and the text generated so far (prompt lookup).</summary>
    public bool PromptPool { get; init; }

    /// <summary>A corpus to retrieve candidates from, or null.</summary>
    public CorpusIndex? Corpus { get; init; }

    /// <summary>Checks the option values.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range (the message names the option).</exception>
    public void Validate()
    {
        if (MaxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "MaxNewTokens must be at least 1.");
        if (Window < 1) throw new ArgumentOutOfRangeException(nameof(Window), Window, "Window (W) must be at least 1.");
        if (NgramSize < 2) throw new ArgumentOutOfRangeException(nameof(NgramSize), NgramSize, "NgramSize (N) must be at least 2.");
        if (Guesses < 0) throw new ArgumentOutOfRangeException(nameof(Guesses), Guesses, "Guesses (G) must be at least 0.");
        if (DraftLength < 1) throw new ArgumentOutOfRangeException(nameof(DraftLength), DraftLength, "DraftLength must be at least 1.");
        if (EndToken is < 0) throw new ArgumentOutOfRangeException(nameof(EndToken), EndToken, "EndToken must be a token id (0 or more).");
        if (!Enum.IsDefined(Method)) throw new ArgumentOutOfRangeException(nameof(Method), Method, "Unknown decoding method.");
    }
}

/// <summary>Why a decoding run stopped.</summary>
/// <remarks>Thread safety: a value.</remarks>
public enum StopReason
{
    /// <summary><see cref="DecodingOptions.MaxNewTokens"/> tokens were generated.</summary>
    Length,

    /// <summary>The <see cref="DecodingOptions.EndToken"/> was generated (it is the last output token).</summary>
    EndToken,
}
