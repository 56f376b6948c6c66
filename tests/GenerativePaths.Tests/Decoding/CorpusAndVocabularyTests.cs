using FsCheck;
using FsCheck.Xunit;
using GenerativePaths.Decoding;
using Xunit;

namespace GenerativePaths.Tests.Decoding;

public sealed class CorpusAndVocabularyTests
{
    /// <summary>Brute force: the longest suffix of the context (up to MaxMatch) found anywhere in the corpus.</summary>
    private static int BruteLongest(int[] corpus, int[] context)
    {
        int best = 0;
        for (int q = 1; q <= Math.Min(CorpusIndex.MaxMatch, context.Length); q++)
        {
            var pattern = context.AsSpan(context.Length - q);
            bool found = false;
            for (int s = 0; s + q <= corpus.Length && !found; s++) found = corpus.AsSpan(s, q).SequenceEqual(pattern);
            if (found) best = q;
        }
        return best;
    }

    [Property(MaxTest = 200)]
    public void TheSuffixArrayFindsTheLongestMatchAndItsTrueContinuations(PositiveInt seedArg, byte vocabArg, byte lengthArg, byte contextArg)
    {
        var rng = new Random(seedArg.Get);
        int vocab = 1 + vocabArg % 4;
        var corpus = Enumerable.Range(0, lengthArg % 120).Select(_ => rng.Next(8) == 0 ? -1 : rng.Next(vocab)).ToArray();
        // Contexts often copied from the corpus, so long matches occur.
        var context = Enumerable.Range(0, 1 + contextArg % 40).Select(_ => rng.Next(vocab)).ToArray();
        if (corpus.Length > 10 && rng.Next(2) == 0)
        {
            int s = rng.Next(corpus.Length - 5);
            context = [.. context, .. corpus.Skip(s).Take(rng.Next(1, 40)).Where(t => t >= 0)];
        }
        var index = new CorpusIndex(corpus);
        int q = index.LongestMatch(context);
        Assert.Equal(BruteLongest(corpus, context), q);
        var candidates = index.Candidates(context, 50, 5);
        var suffix = context.AsSpan(context.Length - q).ToArray();
        var expected = new HashSet<string>();
        for (int s = 0; q > 0 && s + q <= corpus.Length; s++)
        {
            if (!corpus.AsSpan(s, q).SequenceEqual(suffix)) continue;
            var cont = corpus.Skip(s + q).Take(5).TakeWhile(t => t >= 0).ToArray();
            if (cont.Length > 0) expected.Add(string.Join(",", cont));
        }
        Assert.Equal(expected.OrderBy(x => x), candidates.Select(c => string.Join(",", c)).OrderBy(x => x));
    }

    [Fact]
    public void CandidatesAreRankedByFrequency()
    {
        int[] corpus = [1, 2, 3, 9, 1, 2, 4, 9, 1, 2, 4, 9, 1, 2, 4];
        var c = new CorpusIndex(corpus).Candidates([7, 1, 2], 2, 1);
        Assert.Equal([[4], [3]], c.Select(x => x.ToArray()).ToArray());
    }

    [Fact]
    public void VocabularyRoundTripsAndNamesUnknownCharacters()
    {
        var v = TokenVocabulary.Parse("""{"vocab": ["a", "b", " ", "\n"]}""", "v.json");
        Assert.True(v.IsCharacterLevel);
        Assert.Equal(4, v.Count);
        var ids = v.Encode("ab a\nb");
        Assert.Equal([0, 1, 2, 0, 3, 1], ids);
        Assert.Equal("ab a\nb", v.Decode(ids));
        var e = Assert.Throws<ArgumentException>(() => v.Encode("abc"));
        Assert.Contains("'c'", e.Message);
        Assert.Contains("offset 2", e.Message);
        Assert.Equal([0, -1, 1], v.EncodeLenient("axyb"));
        Assert.Throws<ArgumentOutOfRangeException>(() => v.Decode([4]));
    }

    [Fact]
    public void MultiCharacterVocabulariesEncodeByLongestMatch()
    {
        var v = new TokenVocabulary(["th", "the", "e", " ", "t", "h"]);
        Assert.False(v.IsCharacterLevel);
        Assert.Equal([1, 3, 1, 3, 4], v.Encode("the the t"));
        Assert.Equal([0, 5, 2], v.Encode("thhe"));
        Assert.Equal("the the t", v.Decode(v.Encode("the the t")));
    }

    [Theory]
    [InlineData("""{"vocab": ["a", "a"]}""", "both 'a'")]
    [InlineData("""{"vocab": ["a", ""]}""", "token 1 is empty")]
    [InlineData("""{"vocab": []}""", "empty")]
    [InlineData("""{"vocab": ["a", 3]}""", "vocab[1]")]
    [InlineData("""{"tokens": ["a"]}""", "{\"vocab\"")]
    [InlineData("""{"vocab": ["a" """, "not valid JSON")]
    public void BadVocabularyFilesAreFormatErrorsNamingTheFile(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => TokenVocabulary.Parse(json, "x.vocab.json"));
        Assert.Contains("x.vocab.json", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
