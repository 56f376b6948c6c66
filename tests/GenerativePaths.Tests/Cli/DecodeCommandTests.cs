using System.Text.Json.Nodes;
using GenerativePaths.Decoding;
using GenerativePaths.OnnxRuntime;
using GenerativePaths.Tests.Decoding;
using Xunit;

namespace GenerativePaths.Tests.Cli;

/// <summary><c>gpaths decode</c> on the shipped character LM: the text (stdout and stats) is greedy's for every method; bad
/// input is one line and exit 2.</summary>
public sealed class DecodeCommandTests
{
    private static string Model => CliHarness.ModelPath(ShippedCharLmTests.Name + ".onnx");

    private static string GreedyText(string prompt, int tokens)
    {
        using var lm = OnnxCausalLm.Load(Model);
        var ids = lm.Vocabulary.Encode(prompt);
        return lm.Vocabulary.Decode(TestTokenModel.Greedy(lm, ids, tokens, null).Tokens.ToArray());
    }

    [Theory]
    [InlineData("greedy")]
    [InlineData("jacobi", "--window", "8")]
    [InlineData("lookahead", "--window", "5", "--ngram", "3", "--guesses", "5")]
    [InlineData("lookahead", "--window", "15", "--ngram", "5", "--guesses", "15", "--prompt-pool")]
    [InlineData("greedy", "--prompt-pool", "--draft", "8")]
    [InlineData("lookahead", "--prompt-pool", "--corpus", "CORPUS")]
    public void PrintsGreedysTextAndWritesTheStats(string method, params string[] extra)
    {
        const string prompt = "This program is free software; you can ";
        const int tokens = 24;
        string dir = CliHarness.TempDir();
        string stats = Path.Combine(dir, "stats.json");
        string corpus = Path.Combine(dir, "corpus.txt");
        string expected = GreedyText(prompt, tokens);
        File.WriteAllText(corpus, "unrelated text\n" + prompt + expected + "\nmore text");
        var args = new List<string> { "decode", "--model", Model, "--prompt", prompt, "--tokens", tokens.ToString(System.Globalization.CultureInfo.InvariantCulture), "--method", method, "--stats", stats };
        args.AddRange(extra.Select(a => a == "CORPUS" ? corpus : a));
        var (code, output, err) = CliHarness.Run([.. args]);
        Assert.True(code == 0, err);
        Assert.Equal(expected + Environment.NewLine, output);
        var json = JsonNode.Parse(File.ReadAllText(stats))!.AsObject();
        Assert.Equal(expected, json["text"]!.GetValue<string>());
        Assert.Equal(tokens, json["tokens"]!.GetValue<int>());
        int rounds = json["rounds"]!.GetValue<int>();
        Assert.InRange(rounds, 1, tokens);
        Assert.Equal(rounds, json["accepted_per_round"]!.AsArray().Count);
        Assert.Equal(tokens, json["accepted_per_round"]!.AsArray().Sum(a => a!.GetValue<int>()));
        Assert.Equal(json["computed_per_round"]!.AsArray().Sum(a => a!.GetValue<long>()), json["tokens_computed"]!.GetValue<long>());
        if (method == "greedy" && extra.Length == 0) Assert.Equal(tokens, rounds);
        // The corpus holds greedy's own continuation, so retrieval drafts it whole.
        if (extra.Contains("CORPUS")) Assert.True(rounds <= 3, $"{rounds} rounds with the answer in the corpus");
        Directory.Delete(dir, true);
    }

    /// <summary>A causal LM trained elsewhere, described only by a card in another folder (its vocabulary beside the card under
    /// another name): <c>gpaths decode --card</c> gives greedy's text, in fewer rounds with the prompt pool.</summary>
    [Fact]
    public void AModelDescribedOnlyByACardElsewhereDecodesLikeGreedy()
    {
        string dir = CliHarness.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "cards"));
        string model = Path.Combine(dir, "foreign-lm.onnx");
        File.Copy(Model, model);
        File.Copy(CliHarness.ModelPath(ShippedCharLmTests.Name + ".vocab.json"), Path.Combine(dir, "cards", "chars.json"));
        string card = Path.Combine(dir, "cards", "lm.json");
        File.WriteAllText(card, """{"format": "gpaths-model/1", "kind": "causal_lm", "inputs": {"tokens": "idx"}, "output": "logits", "vocabulary": "chars.json", "context": 64}""");
        const string prompt = "GNU GENERAL PUBLIC LICENSE\n GNU GENERAL PUBLIC ";
        int tokens = 64 - prompt.Length;
        string stats = Path.Combine(dir, "s.json");
        var (code, output, err) = CliHarness.Run("decode", "--model", model, "--card", card, "--prompt", prompt, "--tokens", tokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--method", "lookahead", "--prompt-pool", "--stats", stats);
        Assert.True(code == 0, err);
        Assert.Equal(GreedyText(prompt, tokens) + Environment.NewLine, output);
        Assert.True(JsonNode.Parse(File.ReadAllText(stats))!["rounds"]!.GetValue<int>() < tokens);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void StopsAtTheEndCharacter()
    {
        string dir = CliHarness.TempDir();
        string stats = Path.Combine(dir, "s.json");
        const string prompt = "GNU GENERAL PUBLIC LICENSE";
        var (code, output, err) = CliHarness.Run("decode", "--model", Model, "--prompt", prompt, "--tokens", "30", "--method", "lookahead", "--end", " ", "--stats", stats);
        Assert.True(code == 0, err);
        using var lm = OnnxCausalLm.Load(Model);
        var ids = lm.Vocabulary.Encode(prompt);
        var (expected, ended) = TestTokenModel.Greedy(lm, ids, 30, lm.Vocabulary.Encode(" ")[0]);
        Assert.Equal(lm.Vocabulary.Decode(expected.ToArray()) + Environment.NewLine, output);
        Assert.Equal(ended ? "end_token" : "length", JsonNode.Parse(File.ReadAllText(stats))!["stop"]!.GetValue<string>());
        Directory.Delete(dir, true);
    }

    [Fact]
    public void BadInputIsOneLineAndExitTwo()
    {
        Assert.Contains("--method 'beam'", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", Model, "--prompt", "a", "--tokens", "3", "--method", "beam"));
        Assert.Contains("context of 64", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", Model, "--prompt", "abc", "--tokens", "62"));
        Assert.Contains("U+00E9", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", Model, "--prompt", "caf\u00e9\u00e9\u00e9", "--tokens", "3"));
        Assert.Contains("--tokens", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", Model, "--prompt", "a", "--tokens", "0"));
        Assert.Contains("--tokens", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", Model, "--prompt", "a"));
        Assert.Contains("--window", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", Model, "--prompt", "a", "--tokens", "3", "--window", "0"));
        Assert.Contains("--ngram", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", Model, "--prompt", "a", "--tokens", "3", "--ngram", "1"));
        Assert.Contains("--prompt is empty", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", Model, "--prompt", "", "--tokens", "3"));
        Assert.Contains("--end", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", Model, "--prompt", "a", "--tokens", "3", "--end", "\u00e9"));
        Assert.Contains("--corpus", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", Model, "--prompt", "a", "--tokens", "3", "--corpus", "/no/such/file.txt"));
        Assert.Contains("not found", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", "/no/such/model.onnx", "--prompt", "a", "--tokens", "3"));
        Assert.Contains("causal_lm", CliHarness.AssertUsageError("gpaths decode", "decode", "--model", CliHarness.ModelPath("digits-flow.onnx"), "--prompt", "a", "--tokens", "3"));
    }

    [Fact]
    public void HelpListsTheOptions()
    {
        var (code, output, _) = CliHarness.Run("decode", "--help");
        Assert.Equal(0, code);
        foreach (var o in new[] { "--model", "--prompt", "--tokens", "--method", "--window", "--ngram", "--guesses", "--prompt-pool", "--corpus", "--stats" })
            Assert.Contains(o, output);
    }
}
