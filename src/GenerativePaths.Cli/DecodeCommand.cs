using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GenerativePaths.Decoding;
using GenerativePaths.OnnxRuntime;

namespace GenerativePaths.Cli;

/// <summary><c>gpaths decode</c>: continues a prompt with a causal language model (card kind <c>causal_lm</c>) by greedy, Jacobi or
/// lookahead decoding, optionally with prompt-lookup and corpus candidates; the text is greedy's whatever the method.</summary>
internal static class DecodeCommand
{
    /// <summary>The settings of one decode run (after parsing).</summary>
    internal sealed record Settings(string Prompt, int Tokens, string Method, int Window, int Ngram, int Guesses, int Draft, bool PromptPool,
        string? Corpus, string? End, string? Stats, int Threads);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = Options.Path("--model", "The ONNX model file (its card MODEL.onnx.json beside it, kind causal_lm).", required: true);
        var card = Options.Path("--card", "The model card, when not beside the model.");
        var prompt = new Option<string>("--prompt") { Description = "The text to continue.", Required = true };
        var tokens = new Option<int>("--tokens") { Description = "Tokens to generate (at least 1).", Required = true };
        tokens.CustomParser = r =>
        {
            string s = r.Tokens.Count == 0 ? "" : r.Tokens[^1].Value;
            if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)) { r.AddError($"--tokens needs an integer, not '{s}'."); return 0; }
            if (v < 1) { r.AddError($"--tokens must be at least 1 (got {v})."); return 0; }
            return v;
        };
        var method = new Option<string>("--method") { Description = "greedy, jacobi or lookahead (every method gives greedy's text).", DefaultValueFactory = _ => "greedy" };
        var window = Options.Int("--window", "W: guessed tokens in the Jacobi / lookahead window.", 5, min: 1, max: 4096);
        var ngram = Options.Int("--ngram", "N: the lookahead n-gram size.", 3, min: 2, max: 64);
        var guesses = Options.Int("--guesses", "G: the most candidates verified per round (lookahead pool, prompt, corpus together).", 5, min: 0, max: 1024);
        var draft = Options.Int("--draft", "The most tokens a prompt-lookup or corpus candidate drafts.", 16, min: 1, max: 4096);
        var promptPool = new Option<bool>("--prompt-pool") { Description = "Also draft from the prompt and the text generated so far (prompt lookup)." };
        var corpus = Options.Path("--corpus", "A UTF-8 text file to retrieve candidates from (indexed with a suffix array).");
        var end = new Option<string?>("--end") { Description = "A token (its text, e.g. a character) that ends generation; it is included in the output." };
        var stats = Options.Path("--stats", "Write the statistics as JSON (text, rounds, tokens, tokens_computed, per-round counts).");
        var threads = Options.Int("--threads", "ONNX Runtime threads inside one operator (0: its choice).", 0, min: 0, max: 1024);
        var command = new Command("decode", "Continue a prompt with a causal language model by greedy, Jacobi or lookahead decoding; the text is greedy's.")
        {
            model, card, prompt, tokens, method, window, ngram, guesses, draft, promptPool, corpus, end, stats, threads,
        };
        command.SetAction(parse =>
        {
            var s = new Settings(parse.GetValue(prompt)!, parse.GetValue(tokens), parse.GetValue(method)!, parse.GetValue(window), parse.GetValue(ngram),
                parse.GetValue(guesses), parse.GetValue(draft), parse.GetValue(promptPool), parse.GetValue(corpus), parse.GetValue(end),
                parse.GetValue(stats), parse.GetValue(threads));
            var decodingMethod = ParseMethod(s.Method);
            if (s.Stats is not null) Options.CheckWritable(s.Stats, "--stats");
            if (s.Corpus is not null && !File.Exists(s.Corpus)) throw new CommandLineException($"--corpus: no such file: {Path.GetFullPath(s.Corpus)}");
            using var lm = OnnxCausalLm.Load(parse.GetValue(model)!, parse.GetValue(card), new OnnxModelOptions { IntraOpThreads = s.Threads });
            return Run(lm, decodingMethod, s, stdout, stderr);
        });
        return command;
    }

    internal static DecodingMethod ParseMethod(string name) => name switch
    {
        "greedy" => DecodingMethod.Greedy,
        "jacobi" => DecodingMethod.Jacobi,
        "lookahead" => DecodingMethod.Lookahead,
        _ => throw new CommandLineException($"unknown --method '{name}'; expected greedy, jacobi or lookahead."),
    };

    internal static int Run(OnnxCausalLm lm, DecodingMethod method, Settings s, TextWriter stdout, TextWriter stderr)
    {
        var vocab = lm.Vocabulary;
        if (s.Prompt.Length == 0) throw new CommandLineException("--prompt is empty; decoding needs at least one token to continue from.");
        int[] promptTokens;
        try { promptTokens = vocab.Encode(s.Prompt); }
        catch (ArgumentException e) { throw new CommandLineException($"--prompt: {e.Message}"); }
        int? endToken = null;
        if (s.End is not null)
        {
            if (!vocab.TryGetId(s.End, out int id)) throw new CommandLineException($"--end '{s.End}' is not a token of the vocabulary ({vocab.Count} tokens).");
            endToken = id;
        }
        if (lm.ContextLength is int c && promptTokens.Length + s.Tokens > c)
            throw new CommandLineException($"the prompt ({promptTokens.Length} tokens) plus --tokens {s.Tokens} exceeds the model's context of {c} tokens; use --tokens {Math.Max(1, c - promptTokens.Length)} or less{(promptTokens.Length >= c ? " and a shorter prompt" : "")}.");
        CorpusIndex? index = s.Corpus is null ? null : CorpusIndex.FromFile(s.Corpus, vocab);
        var options = new DecodingOptions
        {
            Method = method, MaxNewTokens = s.Tokens, EndToken = endToken, Window = s.Window, NgramSize = s.Ngram, Guesses = s.Guesses,
            DraftLength = s.Draft, PromptPool = s.PromptPool, Corpus = index,
        };
        var clock = Stopwatch.StartNew();
        var result = TokenDecoder.Decode(lm, promptTokens, options);
        double seconds = clock.Elapsed.TotalSeconds;
        string text = vocab.Decode(result.Tokens.ToArray());
        stdout.Write(text);
        stdout.WriteLine();
        var st = result.Statistics;
        if (s.Stats is not null)
        {
            var json = new JsonObject
            {
                ["text"] = text,
                ["prompt"] = s.Prompt,
                ["method"] = s.Method,
                ["window"] = s.Window,
                ["ngram"] = s.Ngram,
                ["guesses"] = s.Guesses,
                ["draft"] = s.Draft,
                ["prompt_pool"] = s.PromptPool,
                ["corpus"] = s.Corpus,
                ["stop"] = result.Stop == StopReason.EndToken ? "end_token" : "length",
                ["rounds"] = st.Rounds,
                ["tokens"] = st.Tokens,
                ["tokens_computed"] = st.TokensComputed,
                ["tokens_drafted"] = st.TokensDrafted,
                ["tokens_per_round"] = st.TokensPerRound,
                ["seconds"] = seconds,
                ["accepted_per_round"] = new JsonArray([.. st.AcceptedPerRound.Select(a => (JsonNode)a)]),
                ["computed_per_round"] = new JsonArray([.. st.ComputedPerRound.Select(a => (JsonNode)a)]),
                ["rows_per_round"] = new JsonArray([.. st.RowsPerRound.Select(a => (JsonNode)a)]),
                ["accepted_histogram"] = new JsonArray([.. st.AcceptedHistogram.Select(a => (JsonNode)a)]),
                ["fixed_point_iterations"] = new JsonArray([.. st.FixedPointIterations.Select(a => (JsonNode)a)]),
            };
            File.WriteAllText(s.Stats, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"decode: {st.Tokens} tokens in {st.Rounds} rounds ({st.TokensPerRound:F2} tokens/round; greedy needs {st.Tokens}), {st.TokensComputed} positions computed, {method.ToString().ToLowerInvariant()}, {seconds:F2} s"));
        return Cli.ExitOk;
    }
}
