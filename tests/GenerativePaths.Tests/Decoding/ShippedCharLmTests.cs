using System.Security.Cryptography;
using GenerativePaths.Decoding;
using GenerativePaths.Models;
using GenerativePaths.OnnxRuntime;
using GenerativePaths.Tests.Onnx;
using Xunit;

namespace GenerativePaths.Tests.Decoding;

/// <summary>The shipped character LM (<c>models/charlm-licenses</c>, committed; never trained here): its files match
/// <c>models/SHA256SUMS</c>, the adapter honours the causal contract, and every decoding method gives greedy's tokens.</summary>
public sealed class ShippedCharLmTests
{
    internal const string Name = "charlm-licenses";

    internal static readonly string[] Prompts =
    [
        "This program is free software; you can redistribute it",
        "THE SOFTWARE IS PROVIDED \"AS IS\"",
        "GNU GENERAL PUBLIC LICENSE",
        "Copyright (C) ",
        "You may not use this file except",
        "  1. Definitions.",
        "The quick brown fox",
        "Licensed under the Apache License",
        "Everyone is permitted to copy and distribute verbatim copies",
        "a",
        "Mozilla Public License",
        "the terms and conditions",
    ];

    internal static OnnxCausalLm Load() => OnnxCausalLm.Load(OnnxTestFiles.Model(Name));

    [Fact]
    public void FilesMatchTheManifest()
    {
        var sums = File.ReadAllLines(Path.Combine(OnnxTestFiles.Models, "SHA256SUMS"))
            .Select(l => l.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries)).ToDictionary(p => p[1].Trim(), p => p[0]);
        foreach (var file in new[] { Name + ".onnx", Name + ".onnx.json", Name + ".vocab.json" })
        {
            Assert.True(sums.ContainsKey(file), $"{file} is not listed in models/SHA256SUMS");
            using var s = File.OpenRead(Path.Combine(OnnxTestFiles.Models, file));
            Assert.Equal(sums[file], Convert.ToHexStringLower(SHA256.HashData(s)));
            Assert.True(new FileInfo(Path.Combine(OnnxTestFiles.Models, file)).Length <= 2_000_000);
        }
    }

    [Fact]
    public void CardAndVocabularyLoad()
    {
        using var lm = Load();
        Assert.Equal(ModelCardKind.CausalLm, lm.Card.Kind);
        Assert.Equal(64, lm.ContextLength);
        Assert.True(lm.Vocabulary.IsCharacterLevel);
        Assert.Equal(lm.Vocabulary.Count, lm.VocabularySize);
        Assert.Equal(Name + ".vocab.json", lm.Card.Vocabulary);
        var text = "This program is free software";
        Assert.Equal(text, lm.Vocabulary.Decode(lm.Vocabulary.Encode(text)));
    }

    [Fact]
    public void LogitsAreCausalAndIndependentOfPaddingAndOtherRows()
    {
        using var lm = Load();
        int v = lm.VocabularySize;
        var a = lm.Vocabulary.Encode("GNU GENERAL PUBLIC");
        var b = lm.Vocabulary.Encode("Copyright (C) 2007 Free Software");
        var single = new float[a.Length * v];
        lm.Evaluate(a, [a.Length], a.Length, single);
        int stride = b.Length + 3;
        var tokens = new int[2 * stride];
        b.CopyTo(tokens, 0);
        a.CopyTo(tokens, stride);
        for (int i = stride + a.Length; i < 2 * stride; i++) tokens[i] = 5;   // padding of row 1
        var batched = new float[2 * stride * v];
        lm.Evaluate(tokens, [b.Length, a.Length], stride, batched);
        for (int j = 0; j < a.Length; j++)
            for (int k = 0; k < v; k++)
                Assert.Equal(single[j * v + k], batched[(stride + j) * v + k], 3e-4f);
        // A prefix gives the same logits as the whole row at its positions (causality).
        var prefix = new float[5 * v];
        lm.Evaluate(a.AsSpan(0, 5), [5], 5, prefix);
        for (int i = 0; i < 5 * v; i++) Assert.Equal(single[i], prefix[i], 3e-4f);
    }

    [Fact]
    public void EveryMethodEqualsGreedyOnTheShippedModel()
    {
        using var lm = Load();
        var corpus = CorpusFromOwnOutput(lm);
        var configs = new[]
        {
            new DecodingOptions { Method = DecodingMethod.Jacobi, Window = 5 },
            new DecodingOptions { Method = DecodingMethod.Jacobi, Window = 16 },
            new DecodingOptions { Method = DecodingMethod.Lookahead, Window = 5, NgramSize = 3, Guesses = 5 },
            new DecodingOptions { Method = DecodingMethod.Lookahead, Window = 15, NgramSize = 5, Guesses = 15, PromptPool = true },
            new DecodingOptions { Method = DecodingMethod.Greedy, PromptPool = true },
            new DecodingOptions { Method = DecodingMethod.Greedy, Corpus = corpus, Guesses = 3 },
            new DecodingOptions { Method = DecodingMethod.Lookahead, PromptPool = true, Corpus = corpus, Guesses = 8 },
        };
        long greedyRounds = 0, bestRounds = 0;
        foreach (var prompt in Prompts)
        {
            var ids = lm.Vocabulary.Encode(prompt);
            int n = 64 - ids.Length;
            var expected = TestTokenModel.Greedy(lm, ids, n, null).Tokens;
            greedyRounds += n;
            long best = long.MaxValue;
            foreach (var o in configs)
            {
                var r = TokenDecoder.Decode(lm, ids, o with { MaxNewTokens = n });
                Assert.True(expected.SequenceEqual(r.Tokens),
                    $"{o.Method} W={o.Window} N={o.NgramSize} G={o.Guesses} pool={o.PromptPool} corpus={o.Corpus is not null} differs from greedy on '{prompt}': " +
                    $"'{lm.Vocabulary.Decode(r.Tokens.ToArray())}' vs '{lm.Vocabulary.Decode(expected.ToArray())}'");
                Assert.True(r.Statistics.Rounds <= n);
                best = Math.Min(best, r.Statistics.Rounds);
            }
            bestRounds += best;
        }
        Assert.True(bestRounds < greedyRounds, $"no configuration saved a round ({bestRounds} vs {greedyRounds})");
    }

    [Fact]
    public void StopsAtAnEndCharacterLikeGreedy()
    {
        using var lm = Load();
        int end = lm.Vocabulary.Encode("\n")[0];
        foreach (var prompt in Prompts.Take(4))
        {
            var ids = lm.Vocabulary.Encode(prompt);
            var (expected, ended) = TestTokenModel.Greedy(lm, ids, 64 - ids.Length, end);
            foreach (var m in Enum.GetValues<DecodingMethod>())
            {
                var r = TokenDecoder.Decode(lm, ids, new DecodingOptions { Method = m, MaxNewTokens = 64 - ids.Length, EndToken = end, PromptPool = true, Window = 8 });
                Assert.Equal(expected, r.Tokens);
                Assert.Equal(ended ? StopReason.EndToken : StopReason.Length, r.Stop);
            }
        }
    }

    [Fact]
    public void EvaluateAllocatesNothingAfterTheFirstCallOfAShape()
    {
        using var lm = Load();
        var tokens = new int[3 * 40];
        var logits = new float[3 * 40 * lm.VocabularySize];
        int[] lengths = [40, 31, 12];
        for (int i = 0; i < 3; i++) lm.Evaluate(tokens, lengths, 40, logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) lm.Evaluate(tokens, lengths, 40, logits);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void RowsBeyondTheContextAreRefused()
    {
        using var lm = Load();
        var ids = new int[65];
        var e = Assert.Throws<ArgumentException>(() => lm.Evaluate(ids, [65], 65, new float[65 * lm.VocabularySize]));
        Assert.Contains("context of 64", e.Message);
        Assert.Contains("context of 64", Assert.Throws<ArgumentException>(() => TokenDecoder.Decode(lm, new int[10], new DecodingOptions { MaxNewTokens = 55 })).Message);
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => lm.Evaluate([lm.VocabularySize], [1], 1, new float[lm.VocabularySize])).Message);
    }

    /// <summary>A retrieval corpus the tests can always build: the model's own greedy text from other starts.</summary>
    internal static CorpusIndex CorpusFromOwnOutput(OnnxCausalLm lm)
    {
        var text = new List<int>();
        foreach (var start in new[] { "This ", "GNU ", "The ", "You ", "  ", "Copyright", "License", "the " })
        {
            var ids = lm.Vocabulary.Encode(start);
            text.AddRange(ids);
            text.AddRange(TestTokenModel.Greedy(lm, ids, 64 - ids.Length, null).Tokens);
            text.Add(-1);
        }
        return new CorpusIndex(text.ToArray());
    }
}
