namespace GenerativePaths.Decoding;

/// <summary>The tokens a decoding run produced, why it stopped, and its counted work.</summary>
/// <param name="Tokens">The generated tokens (the prompt not included).</param>
/// <param name="Stop">Why the run stopped.</param>
/// <param name="Statistics">Rounds, computed and accepted tokens.</param>
/// <remarks>Thread safety: immutable.</remarks>
public sealed record DecodingResult(IReadOnlyList<int> Tokens, StopReason Stop, DecodingStatistics Statistics);

/// <summary>The counted work of one decoding run.</summary>
/// <remarks>
/// <para>A round is one (batched) model call; rounds are sequential, so they are the latency measure of parallel decoding.
/// Round <c>r</c> evaluates <c>ComputedPerRound[r]</c> positions (the sum of its rows' lengths; the models behind this contract
/// keep no cache, so each row recomputes its prefix), guesses <c>DraftedPerRound[r]</c> of them and accepts
/// <c>AcceptedPerRound[r] &gt;= 1</c> tokens: <c>sum AcceptedPerRound = Tokens</c>, <c>Rounds = ComputedPerRound.Count</c>, and
/// <c>AcceptedHistogram[k]</c> counts the rounds that accepted <c>k</c> tokens.</para>
/// <para><see cref="FixedPointIterations"/>: for each generated token, the number of rounds from the round in which its position
/// first entered the Jacobi window to the round in which it was accepted, both included (1 for a token that was never in the window;
/// always 1 for greedy). This is the trajectory view of CLLMs (Kou et al., ICML 2024): how many Jacobi iterations a position needed
/// to reach its fixed point.</para>
/// <para>Thread safety: immutable.</para>
/// </remarks>
public sealed class DecodingStatistics
{
    internal DecodingStatistics(int[] computed, int[] drafted, int[] accepted, int[] rows, int[] iterations)
    {
        ComputedPerRound = computed;
        DraftedPerRound = drafted;
        AcceptedPerRound = accepted;
        RowsPerRound = rows;
        FixedPointIterations = iterations;
        int max = accepted.Length == 0 ? 0 : accepted.Max();
        var h = new int[max + 1];
        foreach (int a in accepted) h[a]++;
        AcceptedHistogram = h;
        foreach (int c in computed) TokensComputed += c;
        foreach (int d in drafted) TokensDrafted += d;
        foreach (int a in accepted) Tokens += a;
    }

    /// <summary>Sequential model calls.</summary>
    public int Rounds => ComputedPerRound.Count;

    /// <summary>Generated tokens.</summary>
    public int Tokens { get; }

    /// <summary>Positions the model evaluated, over all rounds and rows.</summary>
    public long TokensComputed { get; }

    /// <summary>Guessed (drafted) positions verified, over all rounds and rows.</summary>
    public long TokensDrafted { get; }

    /// <summary>Positions evaluated in each round.</summary>
    public IReadOnlyList<int> ComputedPerRound { get; }

    /// <summary>Guessed positions in each round.</summary>
    public IReadOnlyList<int> DraftedPerRound { get; }

    /// <summary>Rows (sequences) in each round's batch.</summary>
    public IReadOnlyList<int> RowsPerRound { get; }

    /// <summary>Tokens accepted in each round (each at least 1).</summary>
    public IReadOnlyList<int> AcceptedPerRound { get; }

    /// <summary><c>[k]</c>: the number of rounds that accepted <c>k</c> tokens.</summary>
    public IReadOnlyList<int> AcceptedHistogram { get; }

    /// <summary>Per generated token, the Jacobi iterations until its position was fixed (see the class remarks).</summary>
    public IReadOnlyList<int> FixedPointIterations { get; }

    /// <summary>Tokens per round, <c>Tokens / Rounds</c> (0 for no rounds): the factor by which the run needed fewer
    /// sequential calls than greedy decoding (which accepts exactly one per round).</summary>
    public double TokensPerRound => Rounds == 0 ? 0 : (double)Tokens / Rounds;
}
