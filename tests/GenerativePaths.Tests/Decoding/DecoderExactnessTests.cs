using FsCheck;
using FsCheck.Xunit;
using GenerativePaths.Decoding;
using Xunit;

namespace GenerativePaths.Tests.Decoding;

/// <summary>The invariant of parallel decoding: every method and source returns greedy decoding's tokens exactly, stops the
/// same way, and its statistics add up. The oracle is <see cref="TestTokenModel.Greedy"/>, a plain loop of single-row calls.</summary>
public sealed class DecoderExactnessTests
{
    private static TestTokenModel MakeModel(int kind, int vocab, int levels, int seed, int? context) => kind switch
    {
        0 => new NgramTableModel(vocab, 1, levels, seed, context),
        1 => new NgramTableModel(vocab, 2, levels, seed, context),
        2 => new PrefixHashModel(vocab, levels, seed, context),
        _ => new CycleModel(vocab, 1 + seed % Math.Max(1, vocab - 1), context),
    };

    [Property(MaxTest = 300)]
    public void EveryMethodEqualsGreedy(PositiveInt seedArg, byte kindArg, byte vocabArg, byte levelsArg, byte methodArg, byte wArg, byte nArg,
        byte gArg, byte lenArg, byte promptArg, bool promptPool, bool corpus, bool useEnd, bool useContext)
    {
        int seed = seedArg.Get;
        int kind = kindArg % 4;
        int vocab = 2 + vocabArg % 11;
        int levels = 1 + levelsArg % 4;          // 1..4 distinct logit values: ties everywhere
        var method = (DecodingMethod)(methodArg % 3);
        int maxNew = 1 + lenArg % 40;
        int promptLength = 1 + promptArg % 12;
        var rng = new Random(seed);
        var prompt = Enumerable.Range(0, promptLength).Select(_ => rng.Next(vocab)).ToArray();
        int? context = useContext ? promptLength + maxNew : null;
        var model = MakeModel(kind, vocab, levels, seed, context);
        int? end = useEnd ? rng.Next(vocab) : null;

        CorpusIndex? index = null;
        if (corpus)
        {
            // A corpus that holds the model's own greedy text from other starts, some noise and separators.
            var text = new List<int>();
            for (int k = 0; k < 4; k++)
            {
                var start = Enumerable.Range(0, 1 + rng.Next(4)).Select(_ => rng.Next(vocab)).ToArray();
                text.AddRange(TestTokenModel.Greedy(MakeModel(kind, vocab, levels, seed, null), start, 30, null).Tokens);
                text.Add(-1);
                for (int j = rng.Next(10); j > 0; j--) text.Add(rng.Next(vocab));
            }
            index = new CorpusIndex(text.ToArray());
        }

        var options = new DecodingOptions
        {
            Method = method, MaxNewTokens = maxNew, EndToken = end, Window = 1 + wArg % 8, NgramSize = 2 + nArg % 4,
            Guesses = gArg % 7, PromptPool = promptPool, Corpus = index, DraftLength = 1 + wArg % 12,
        };
        var (expected, ended) = TestTokenModel.Greedy(MakeModel(kind, vocab, levels, seed, context), prompt, maxNew, end);
        var result = TokenDecoder.Decode(model, prompt, options);

        Assert.Equal(expected, result.Tokens);
        Assert.Equal(ended ? StopReason.EndToken : StopReason.Length, result.Stop);
        AssertConsistent(result, model);
        if (method == DecodingMethod.Greedy && !promptPool && index is null) Assert.Equal(expected.Count, result.Statistics.Rounds);
        Assert.True(result.Statistics.Rounds <= expected.Count);
        if (context is int c) Assert.True(model.LongestRow <= c);
    }

    internal static void AssertConsistent(DecodingResult result, TestTokenModel model)
    {
        var s = result.Statistics;
        Assert.Equal(result.Tokens.Count, s.Tokens);
        Assert.Equal(model.Calls, s.Rounds);
        Assert.Equal(s.Rounds, s.AcceptedPerRound.Count);
        Assert.Equal(s.Rounds, s.ComputedPerRound.Count);
        Assert.Equal(s.Rounds, s.DraftedPerRound.Count);
        Assert.Equal(s.Rounds, s.RowsPerRound.Count);
        Assert.All(s.AcceptedPerRound, a => Assert.True(a >= 1));
        Assert.Equal(s.Tokens, s.AcceptedPerRound.Sum());
        Assert.Equal(model.Positions, s.TokensComputed);
        Assert.Equal(s.TokensComputed, s.ComputedPerRound.Sum(c => (long)c));
        Assert.Equal(s.TokensDrafted, s.DraftedPerRound.Sum(c => (long)c));
        Assert.Equal(s.Rounds, s.AcceptedHistogram.Sum());
        Assert.Equal(s.Tokens, s.AcceptedHistogram.Select((count, k) => count * k).Sum());
        Assert.Equal(0, s.AcceptedHistogram[0]);
        Assert.Equal(s.Tokens, s.FixedPointIterations.Count);
        Assert.All(s.FixedPointIterations, i => Assert.InRange(i, 1, s.Rounds));
        for (int r = 0; r < s.Rounds; r++) Assert.True(s.AcceptedPerRound[r] <= s.DraftedPerRound[r] + 1);
    }

    [Theory]
    [InlineData(DecodingMethod.Greedy)]
    [InlineData(DecodingMethod.Jacobi)]
    [InlineData(DecodingMethod.Lookahead)]
    public void StopsRightAfterTheEndTokenLikeGreedy(DecodingMethod method)
    {
        var model = new CycleModel(7, 1);
        // 2 -> 3 -> 4 -> 5: the end token 5 is the fourth token; it is in the prompt too, which must not stop anything.
        int[] prompt = [5, 0, 1, 2];
        var expected = TestTokenModel.Greedy(new CycleModel(7, 1), prompt, 20, 5);
        Assert.True(expected.Ended);
        var r = TokenDecoder.Decode(model, prompt, new DecodingOptions { Method = method, MaxNewTokens = 20, EndToken = 5, PromptPool = true });
        Assert.Equal(expected.Tokens, r.Tokens);
        Assert.Equal(5, r.Tokens[^1]);
        Assert.Equal(StopReason.EndToken, r.Stop);
        AssertConsistent(r, model);
    }

    [Theory]
    [InlineData(DecodingMethod.Greedy)]
    [InlineData(DecodingMethod.Jacobi)]
    [InlineData(DecodingMethod.Lookahead)]
    public void StopsAtTheLengthLikeGreedy(DecodingMethod method)
    {
        for (int maxNew = 1; maxNew <= 12; maxNew++)
        {
            var model = new NgramTableModel(5, 2, 3, seed: maxNew);
            int[] prompt = [1, 2, 3];
            var expected = TestTokenModel.Greedy(new NgramTableModel(5, 2, 3, seed: maxNew), prompt, maxNew, null);
            var r = TokenDecoder.Decode(model, prompt, new DecodingOptions { Method = method, MaxNewTokens = maxNew, Window = 7, PromptPool = true });
            Assert.Equal(expected.Tokens, r.Tokens);
            Assert.Equal(maxNew, r.Tokens.Count);
            Assert.Equal(StopReason.Length, r.Stop);
            AssertConsistent(r, model);
        }
    }

    [Fact]
    public void PromptLookupOnAPeriodicTextAcceptsAWholeDraftEveryRound()
    {
        // The prompt holds a full period of the cycle, so every prompt-lookup draft is right: each round accepts
        // DraftLength + 1 tokens (the last round what is left).
        const int draft = 6, maxNew = 40;
        var model = new CycleModel(5, 2);
        int[] prompt = [0, 2, 4, 1, 3, 0];
        var r = TokenDecoder.Decode(model, prompt, new DecodingOptions { MaxNewTokens = maxNew, PromptPool = true, DraftLength = draft, Guesses = 1 });
        Assert.Equal(TestTokenModel.Greedy(new CycleModel(5, 2), prompt, maxNew, null).Tokens, r.Tokens);
        Assert.Equal((maxNew + draft) / (draft + 1), r.Statistics.Rounds);
        AssertConsistent(r, model);
    }

    [Fact]
    public void SlidingJacobiOnABigramCycleGainsNothingAndEachTokenSpendsAtMostTheWindowInIt()
    {
        // For a model whose next token depends on the current one only, Jacobi guesses shift through the window like a
        // register: y'_p = f(y_p-1), so only the slot right after the accepted text is right each round (one token per
        // round, as greedy). Token j (0-based) entered the window in round max(1, j - W + 2) and was accepted in round
        // j + 1, so it spent min(j + 1, W) iterations there.
        const int window = 4, maxNew = 30;
        var model = new CycleModel(11, 3);
        var r = TokenDecoder.Decode(model, [4], new DecodingOptions { Method = DecodingMethod.Jacobi, MaxNewTokens = maxNew, Window = window });
        Assert.Equal(TestTokenModel.Greedy(new CycleModel(11, 3), [4], maxNew, null).Tokens, r.Tokens);
        Assert.Equal(maxNew, r.Statistics.Rounds);
        Assert.Equal(Enumerable.Range(0, maxNew).Select(j => Math.Min(j + 1, window)), r.Statistics.FixedPointIterations);
        AssertConsistent(r, model);
    }

    [Fact]
    public void AllTiedLogitsPickTokenZero()
    {
        var model = new NgramTableModel(6, 1, levels: 1, seed: 3);
        foreach (DecodingMethod m in Enum.GetValues<DecodingMethod>())
        {
            var r = TokenDecoder.Decode(model, [4, 5], new DecodingOptions { Method = m, MaxNewTokens = 9, PromptPool = true });
            Assert.All(r.Tokens, t => Assert.Equal(0, t));
            Assert.Equal(9, r.Tokens.Count);
            // Every guess of a constant map converges after one sweep: the window pays off.
            if (m != DecodingMethod.Greedy) Assert.True(r.Statistics.Rounds < 9);
        }
    }
}
