using BenchmarkDotNet.Attributes;
using GenerativePaths.Decoding;
using GenerativePaths.OnnxRuntime;

namespace GenerativePaths.Benchmarks;

/// <summary>
/// Parallel decoding against greedy on the shipped character LM (<c>models/charlm-licenses.onnx</c>, one ONNX Runtime thread):
/// each operation decodes the same 12 prompts (up to 48 tokens each, within the context of 64), so time per token is the mean
/// divided by <see cref="TokensPerOperation"/>. The setup checks that the configuration's tokens equal greedy's and prints its
/// rounds (sequential model calls), tokens and computed positions as <c>// rounds ...</c> lines.
/// </summary>
/// <remarks>The <c>corpus</c> configuration indexes the training text, the regular files of <c>/usr/share/common-licenses</c>
/// joined as <c>tools/models/train_charlm.py</c> joins them; without that folder it falls back to prompt lookup and says so.</remarks>
[MemoryDiagnoser]
public class DecodingBenchmarks
{
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

    [Params("greedy", "jacobi-W5", "lookahead-W5-N3-G5", "prompt-lookup-G1", "prompt-lookup-G5", "lookahead-W15-N5-G15+prompt", "corpus-G1", "corpus-G5", "lookahead+prompt+corpus")]
    public string Config { get; set; } = "greedy";

    private OnnxCausalLm _lm = null!;
    private int[][] _prompts = [];
    private int[] _budgets = [];
    private DecodingOptions _options = null!;

    /// <summary>Generated tokens per operation (the same for every configuration).</summary>
    public int TokensPerOperation => _budgets.Sum();

    internal static CorpusIndex? TrainingCorpus(TokenVocabulary vocab)
    {
        const string licenses = "/usr/share/common-licenses";
        if (!Directory.Exists(licenses)) return null;
        var parts = Directory.GetFiles(licenses).OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
            .Where(f => new FileInfo(f).LinkTarget is null).Select(File.ReadAllText);
        return CorpusIndex.FromText(string.Join("\n\n", parts), vocab);
    }

    internal static DecodingOptions Options(string config, CorpusIndex? corpus) => config switch
    {
        "greedy" => new DecodingOptions(),
        "jacobi-W5" => new DecodingOptions { Method = DecodingMethod.Jacobi, Window = 5 },
        "lookahead-W5-N3-G5" => new DecodingOptions { Method = DecodingMethod.Lookahead, Window = 5, NgramSize = 3, Guesses = 5 },
        "prompt-lookup-G1" => new DecodingOptions { PromptPool = true, Guesses = 1 },
        "prompt-lookup-G5" => new DecodingOptions { PromptPool = true, Guesses = 5 },
        "lookahead-W15-N5-G15+prompt" => new DecodingOptions { Method = DecodingMethod.Lookahead, Window = 15, NgramSize = 5, Guesses = 15, PromptPool = true },
        "corpus-G1" => corpus is null ? new DecodingOptions { PromptPool = true, Guesses = 1 } : new DecodingOptions { Corpus = corpus, Guesses = 1 },
        "corpus-G5" => corpus is null ? new DecodingOptions { PromptPool = true } : new DecodingOptions { Corpus = corpus, Guesses = 5 },
        "lookahead+prompt+corpus" => new DecodingOptions { Method = DecodingMethod.Lookahead, Window = 5, NgramSize = 3, Guesses = 8, PromptPool = true, Corpus = corpus },
        _ => throw new ArgumentException(config),
    };

    [GlobalSetup]
    public void Setup()
    {
        _lm = OnnxCausalLm.Load(Path.Combine(Repository.Root(), "models", "charlm-licenses.onnx"), options: new OnnxModelOptions { IntraOpThreads = 1 });
        _prompts = Prompts.Select(_lm.Vocabulary.Encode).ToArray();
        _budgets = _prompts.Select(p => Math.Min(48, 64 - p.Length)).ToArray();
        var corpus = Config.Contains("corpus", StringComparison.Ordinal) ? TrainingCorpus(_lm.Vocabulary) : null;
        if (Config.Contains("corpus", StringComparison.Ordinal) && corpus is null) Console.WriteLine("// /usr/share/common-licenses not found: corpus falls back to prompt lookup");
        _options = Options(Config, corpus);
        long rounds = 0, tokens = 0, computed = 0;
        for (int i = 0; i < _prompts.Length; i++)
        {
            var greedy = TokenDecoder.Decode(_lm, _prompts[i], new DecodingOptions { MaxNewTokens = _budgets[i] });
            var r = TokenDecoder.Decode(_lm, _prompts[i], _options with { MaxNewTokens = _budgets[i] });
            if (!greedy.Tokens.SequenceEqual(r.Tokens)) throw new InvalidOperationException($"{Config} differs from greedy on prompt {i}");
            rounds += r.Statistics.Rounds;
            tokens += r.Statistics.Tokens;
            computed += r.Statistics.TokensComputed;
        }
        Console.WriteLine($"// rounds {Config}: {rounds} rounds, {tokens} tokens ({(double)tokens / rounds:F2} tokens/round), {computed} positions computed; identical to greedy");
    }

    [GlobalCleanup]
    public void Cleanup() => _lm.Dispose();

    /// <summary>Decodes the 12 prompts.</summary>
    [Benchmark]
    public int Decode()
    {
        int n = 0;
        for (int i = 0; i < _prompts.Length; i++) n += TokenDecoder.Decode(_lm, _prompts[i], _options with { MaxNewTokens = _budgets[i] }).Tokens.Count;
        return n;
    }
}
