using GenerativePaths.Decoding;
using Xunit;

namespace GenerativePaths.Tests.Decoding;

public sealed class DecoderInputTests
{
    [Fact]
    public void PromptPlusBudgetBeyondTheContextIsAClearError()
    {
        var model = new CycleModel(4, 1, context: 10);
        var e = Assert.Throws<ArgumentException>(() => TokenDecoder.Decode(model, [0, 1, 2, 3], new DecodingOptions { MaxNewTokens = 7 }));
        Assert.Contains("context of 10", e.Message);
        Assert.Contains("at most 6 new tokens", e.Message);
        foreach (DecodingMethod m in Enum.GetValues<DecodingMethod>())
        {
            var fits = new CycleModel(4, 1, context: 10);
            var r = TokenDecoder.Decode(fits, [0, 1, 2, 3], new DecodingOptions { Method = m, MaxNewTokens = 6, Window = 9, PromptPool = true });
            Assert.Equal(6, r.Tokens.Count);
            Assert.True(fits.LongestRow <= 10);
        }
    }

    [Fact]
    public void BadPromptsAndOptionsNameWhatIsWrong()
    {
        var model = new CycleModel(4, 1);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => TokenDecoder.Decode(model, [])).Message);
        Assert.Contains("Prompt token 1 is 4", Assert.Throws<ArgumentException>(() => TokenDecoder.Decode(model, [0, 4])).Message);
        Assert.Contains("Prompt token 0 is -1", Assert.Throws<ArgumentException>(() => TokenDecoder.Decode(model, [-1])).Message);
        Assert.Equal("MaxNewTokens", Assert.Throws<ArgumentOutOfRangeException>(() => TokenDecoder.Decode(model, [0], new DecodingOptions { MaxNewTokens = 0 })).ParamName);
        Assert.Equal("Window", Assert.Throws<ArgumentOutOfRangeException>(() => TokenDecoder.Decode(model, [0], new DecodingOptions { Window = 0 })).ParamName);
        Assert.Equal("NgramSize", Assert.Throws<ArgumentOutOfRangeException>(() => TokenDecoder.Decode(model, [0], new DecodingOptions { NgramSize = 1 })).ParamName);
        Assert.Equal("Guesses", Assert.Throws<ArgumentOutOfRangeException>(() => TokenDecoder.Decode(model, [0], new DecodingOptions { Guesses = -1 })).ParamName);
        Assert.Equal("DraftLength", Assert.Throws<ArgumentOutOfRangeException>(() => TokenDecoder.Decode(model, [0], new DecodingOptions { DraftLength = 0 })).ParamName);
        Assert.Contains("EndToken 9", Assert.Throws<ArgumentOutOfRangeException>(() => TokenDecoder.Decode(model, [0], new DecodingOptions { EndToken = 9 })).Message);
        Assert.Throws<ArgumentNullException>(() => TokenDecoder.Decode(null!, [0]));
    }

    [Fact]
    public void NaNLogitsRaiseWithTheRoundAndPosition()
    {
        var e = Assert.Throws<ArgumentException>(() => TokenDecoder.Decode(new NaNModel(), [0, 1], new DecodingOptions { MaxNewTokens = 3 }));
        Assert.Contains("Round 1", e.Message);
        Assert.Contains("NaN for token 2", e.Message);
    }

    private sealed class NaNModel : TestTokenModel
    {
        public NaNModel() : base(3, null) { }
        protected override void Next(ReadOnlySpan<int> prefix, Span<float> logits) { logits.Clear(); logits[2] = float.NaN; }
    }

    [Fact]
    public void ArgmaxTakesTheLowestIndexOnTiesAndReportsTheMargin()
    {
        Assert.Equal(1, TokenArgmax.Of([0f, 3f, 3f, 1f], out float m));
        Assert.Equal(0f, m);
        Assert.Equal(2, TokenArgmax.Of([0f, 1f, 3.5f, 1f], out m));
        Assert.Equal(2.5f, m);
        Assert.Equal(0, TokenArgmax.Of([float.NegativeInfinity, float.NegativeInfinity], out _));
        Assert.Equal(float.PositiveInfinity, (TokenArgmax.Of([2f], out m), m).m);
        Assert.Throws<ArgumentException>(() => TokenArgmax.Of([]));
        Assert.Throws<ArgumentException>(() => TokenArgmax.Of([1f, float.NaN]));
    }
}
