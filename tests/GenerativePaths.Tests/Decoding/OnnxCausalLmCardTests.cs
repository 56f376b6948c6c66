using GenerativePaths.Models;
using GenerativePaths.OnnxRuntime;
using GenerativePaths.Tests.Onnx;
using Xunit;

namespace GenerativePaths.Tests.Decoding;

/// <summary>A causal LM described only by a card: wrong cards and vocabularies are <see cref="ModelCardException"/>s naming the key.</summary>
public sealed class OnnxCausalLmCardTests
{
    private static string Setup(string card, string? vocabJson = null, string vocabName = "words.json")
    {
        string dir = Path.Combine(Path.GetTempPath(), "gpaths-lm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        File.Copy(OnnxTestFiles.Model(ShippedCharLmTests.Name), Path.Combine(dir, "lm.onnx"));
        vocabJson ??= File.ReadAllText(Path.Combine(OnnxTestFiles.Models, ShippedCharLmTests.Name + ".vocab.json"));
        File.WriteAllText(Path.Combine(dir, "sub", vocabName), vocabJson);
        File.WriteAllText(Path.Combine(dir, "sub", "lm.card.json"), card);
        return dir;
    }

    private const string Good = """{"format": "gpaths-model/1", "kind": "causal_lm", "inputs": {"tokens": "idx"}, "output": "logits", "vocabulary": "words.json", "context": 64}""";

    [Fact]
    public void ACardElsewhereWithItsVocabularyBesideItLoads()
    {
        string dir = Setup(Good);
        using var lm = OnnxCausalLm.Load(Path.Combine(dir, "lm.onnx"), Path.Combine(dir, "sub", "lm.card.json"));
        Assert.Equal(Path.Combine(dir, "sub", "words.json"), lm.Card.VocabularyPath);
        Assert.Equal(64, lm.ContextLength);
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData("\"idx\"}", "\"x\"}", "inputs.tokens", "has no input 'x'")]
    [InlineData("\"logits\"", "\"probs\"", "output", "has no output 'probs'")]
    [InlineData("words.json", "missing.json", "vocabulary", "no such file")]
    [InlineData("causal_lm", "classifier", null, null)]
    public void WrongCardsNameTheKey(string from, string to, string? key, string? message)
    {
        string dir = Setup(Good.Replace(from, to, StringComparison.Ordinal));
        var e = Assert.Throws<ModelCardException>(() => OnnxCausalLm.Load(Path.Combine(dir, "lm.onnx"), Path.Combine(dir, "sub", "lm.card.json")));
        if (key is null) Assert.True(e.Key is "kind" or "inputs.sample", e.Message);
        else
        {
            Assert.Equal(key, e.Key);
            Assert.Contains(message!, e.Message);
        }
        Directory.Delete(dir, true);
    }

    [Fact]
    public void AVocabularyOfTheWrongSizeOrFormIsACardError()
    {
        string dir = Setup(Good, """{"vocab": ["a", "b", "c"]}""");
        var e = Assert.Throws<ModelCardException>(() => OnnxCausalLm.Load(Path.Combine(dir, "lm.onnx"), Path.Combine(dir, "sub", "lm.card.json")));
        Assert.Equal("vocabulary", e.Key);
        Assert.Contains("3 tokens", e.Message);
        Directory.Delete(dir, true);
        dir = Setup(Good, """{"vocab": "abc"}""");
        e = Assert.Throws<ModelCardException>(() => OnnxCausalLm.Load(Path.Combine(dir, "lm.onnx"), Path.Combine(dir, "sub", "lm.card.json")));
        Assert.Equal("vocabulary", e.Key);
        Assert.Contains("words.json", e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void ADenoiserGraphUnderATokenCardIsRefused()
    {
        var card = ModelCard.Parse(Good.Replace("words.json", Path.Combine(OnnxTestFiles.Models, ShippedCharLmTests.Name + ".vocab.json"), StringComparison.Ordinal));
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(OnnxTestFiles.Model("digits-flow"));
        var e = Assert.Throws<ModelCardException>(() => new OnnxCausalLm(session, card));
        Assert.Equal("inputs.tokens", e.Key);
    }
}
