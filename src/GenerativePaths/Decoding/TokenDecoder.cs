namespace GenerativePaths.Decoding;

/// <summary>
/// Greedy, Jacobi and lookahead decoding of a <see cref="ICausalTokenModel"/>, with prompt-lookup and corpus candidates,
/// all returning greedy decoding's tokens exactly.
/// </summary>
/// <remarks>
/// <para>Greedy decoding appends <c>x_{n+1} = argmax_v l(x_1..x_n)_v</c> (lowest index on a tie, <see cref="TokenArgmax"/>), one
/// model call per token. A parallel round instead evaluates, in one batched call, rows <c>x_1..x_n d_1..d_k</c> that extend the
/// accepted text with guessed tokens (a draft). The row's logits at position <c>n</c> give <c>g_1</c>, the greedy token; if
/// <c>d_1 = g_1</c> the logits at position <c>n + 1</c> were computed from greedy's own prefix and give <c>g_2</c>, and so on: the
/// round accepts <c>g_1..g_{m+1}</c>, where <c>m</c> is the length of the longest draft prefix with <c>d_i = g_i</c> (a fixed point
/// of the greedy map), from the row with the longest such prefix. Every accepted token is the argmax of greedy's own logits,
/// so the output is greedy's token for token (ties included) for any drafts; drafts only decide how many tokens a round gains
/// (at least one, so a run never needs more rounds than greedy). Stopping is applied to the accepted tokens in order, exactly
/// as greedy would stop.</para>
/// <para>Drafts. <see cref="DecodingMethod.Jacobi"/> (Santilli et al., "Accelerating Transformer Inference for Translation via
/// Parallel Decoding", ACL 2023; Song et al., ICML 2021): a window of <c>W</c> guesses <c>y_{n+1..n+W}</c> is one row; each round
/// replaces every guess by the model's prediction at its position, <c>y'_p = argmax l(x_1..x_n y_{n+1}..y_{p-1})</c> (one Jacobi
/// sweep of the fixed-point system <c>y_p = f(y_{&lt;p})</c>), accepts the fixed prefix and slides the window on, new slots
/// starting as copies of the last guess. <see cref="DecodingMethod.Lookahead"/> (Fu, Bailis, Stoica and Zhang, "Break the
/// Sequential Dependency of LLM Inference Using Lookahead Decoding", ICML 2024) keeps the last <c>N - 1</c> windows of that
/// trajectory and, after each round, collects the n-grams along its diagonals, <c>(y^{r-N+2}_{q-N+1}, ..., y^r_{q-1},
/// y^{r+1}_q)</c> (each token the prediction that followed the one before), into a pool keyed by first token (at most <c>G</c>
/// per key, most recent first); the next round verifies up to <c>G</c> pooled n-grams that start with the last accepted token
/// as drafts of <c>N - 1</c> tokens beside the window row. Here the 2-D window is a batch of rows (the portable route, no
/// custom attention mask). Prompt lookup (Saxena, 2023) drafts the tokens that followed the earlier occurrences of the longest
/// suffix of the text so far; corpus retrieval (in the spirit of REST, He et al., NAACL 2024) does the same against a
/// <see cref="CorpusIndex"/>. At most <c>G</c> candidates per round, taken round-robin from the pool, the prompt and the corpus.</para>
/// <para>Context. With a model <see cref="ICausalTokenModel.ContextLength"/> of <c>C</c>, the prompt plus
/// <see cref="DecodingOptions.MaxNewTokens"/> must fit in <c>C</c> (else <see cref="ArgumentException"/>); drafts are cut so no row
/// outgrows what greedy would feed the model.</para>
/// <para>Thread safety: stateless; concurrent calls are safe when they use different model instances (or a model that is itself
/// thread-safe).</para>
/// </remarks>
public static class TokenDecoder
{
    /// <summary>Decodes from <paramref name="prompt"/> with <paramref name="options"/>.</summary>
    /// <param name="model">The causal token model.</param>
    /// <param name="prompt">The prompt (at least one token, each in <c>0..VocabularySize-1</c>).</param>
    /// <param name="options">The method and stopping rules (default: greedy, 32 tokens).</param>
    /// <returns>The generated tokens (greedy's), the stop reason and the statistics.</returns>
    /// <exception cref="ArgumentException">The prompt is empty or holds a token outside the vocabulary, or the prompt plus the
    /// token budget exceeds the model's context, or the model returns NaN logits.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static DecodingResult Decode(ICausalTokenModel model, ReadOnlySpan<int> prompt, DecodingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new DecodingOptions();
        options.Validate();
        int vocab = model.VocabularySize;
        if (vocab < 1) throw new ArgumentException($"The model reports a vocabulary of {vocab} tokens.", nameof(model));
        if (prompt.IsEmpty) throw new ArgumentException("The prompt is empty; decoding needs at least one token to condition on.", nameof(prompt));
        for (int i = 0; i < prompt.Length; i++)
            if ((uint)prompt[i] >= (uint)vocab)
                throw new ArgumentException($"Prompt token {i} is {prompt[i]}, outside the vocabulary 0..{vocab - 1}.", nameof(prompt));
        if (options.EndToken is int end && end >= vocab)
            throw new ArgumentOutOfRangeException(nameof(options), end, $"EndToken {end} is outside the vocabulary 0..{vocab - 1}.");
        if (model.ContextLength is int c && (long)prompt.Length + options.MaxNewTokens > c)
            throw new ArgumentException(
                $"The prompt of {prompt.Length} tokens plus up to {options.MaxNewTokens} new tokens exceeds the model's context of {c} tokens; " +
                $"ask for at most {Math.Max(0, c - prompt.Length)} new tokens or shorten the prompt (the decoders do not slide the context).", nameof(prompt));
        return new Run(model, prompt, options).Execute();
    }

    private sealed class Run
    {
        private readonly ICausalTokenModel _model;
        private readonly DecodingOptions _o;
        private readonly int _vocab, _promptLength;
        private readonly List<int> _seq;
        private readonly List<int> _window = [];          // guesses for positions n .. n + |window| - 1
        private readonly List<int> _entered = [];         // the round each window slot's position entered the window
        private readonly List<(int Start, int[] Inputs)> _trajectory = []; // the last N - 1 window rows (lookahead)
        private readonly Dictionary<int, List<int[]>> _pool = [];
        private readonly List<int> _computed = [], _drafted = [], _accepted = [], _rows = [], _iterations = [];
        private int[] _tokens = [];
        private float[] _logits = [];
        private int _round;

        public Run(ICausalTokenModel model, ReadOnlySpan<int> prompt, DecodingOptions options)
        {
            _model = model;
            _o = options;
            _vocab = model.VocabularySize;
            _promptLength = prompt.Length;
            _seq = new List<int>(prompt.Length + options.MaxNewTokens);
            foreach (int t in prompt) _seq.Add(t);
        }

        private int Generated => _seq.Count - _promptLength;

        public DecodingResult Execute()
        {
            var stop = StopReason.Length;
            bool windowed = _o.Method != DecodingMethod.Greedy;
            while (Generated < _o.MaxNewTokens)
            {
                _round++;
                int n = _seq.Count;
                int remaining = _o.MaxNewTokens - Generated;
                int maxDraft = remaining - 1;   // a row of n + k tokens can yield k + 1 tokens

                var drafts = new List<int[]>();
                int windowRow = -1;
                if (windowed && maxDraft > 0)
                {
                    while (_window.Count < _o.Window) { _window.Add(_window.Count > 0 ? _window[^1] : _seq[^1]); _entered.Add(_round); }
                    drafts.Add(_window.GetRange(0, Math.Min(_o.Window, maxDraft)).ToArray());
                    windowRow = 0;
                }
                if (maxDraft > 0 && _o.Guesses > 0) AddCandidates(drafts, maxDraft);
                if (drafts.Count == 0) drafts.Add([]);

                int rows = drafts.Count, stride = n + drafts.Max(d => d.Length);
                EnsureBuffers(rows, stride);
                var lengths = new int[rows];
                int computed = 0, draftedTokens = 0;
                for (int r = 0; r < rows; r++)
                {
                    var row = _tokens.AsSpan(r * stride, stride);
                    for (int i = 0; i < n; i++) row[i] = _seq[i];
                    drafts[r].CopyTo(row[n..]);
                    row[(n + drafts[r].Length)..].Clear();
                    lengths[r] = n + drafts[r].Length;
                    computed += lengths[r];
                    draftedTokens += drafts[r].Length;
                }
                var logits = _logits.AsSpan(0, rows * stride * _vocab);
                _model.Evaluate(_tokens.AsSpan(0, rows * stride), lengths, stride, logits);

                // Verify: the longest greedy-consistent prefix over the rows (the first such row on a tie).
                List<int>? best = null;
                int[]? windowPredictions = null;
                for (int r = 0; r < rows; r++)
                {
                    var d = drafts[r];
                    var got = new List<int>(d.Length + 1);
                    int[]? predictions = r == windowRow ? new int[d.Length + 1] : null;
                    bool matching = true;
                    for (int i = 0; i <= d.Length; i++)
                    {
                        int g = Argmax(logits, r, stride, n - 1 + i);
                        if (predictions is not null) predictions[i] = g;
                        if (!matching) continue;
                        got.Add(g);
                        if (g == _o.EndToken || got.Count >= remaining || i == d.Length || d[i] != g)
                        {
                            matching = false;
                            if (predictions is null) break;
                        }
                    }
                    if (predictions is not null) windowPredictions = predictions;
                    if (best is null || got.Count > best.Count) best = got;
                }

                int accepted = 0;
                foreach (int t in best!)
                {
                    int pos = _seq.Count;
                    _iterations.Add(windowed && pos - n < _entered.Count ? _round - _entered[pos - n] + 1 : 1);
                    _seq.Add(t);
                    accepted++;
                    if (t == _o.EndToken) { stop = StopReason.EndToken; break; }
                    if (Generated >= _o.MaxNewTokens) break;
                }
                _computed.Add(computed);
                _drafted.Add(draftedTokens);
                _accepted.Add(accepted);
                _rows.Add(rows);
                if (stop == StopReason.EndToken) break;
                if (windowed) AdvanceWindow(n, accepted, drafts, windowRow, windowPredictions);
            }
            return new DecodingResult(_seq.GetRange(_promptLength, Generated).ToArray(), stop,
                new DecodingStatistics([.. _computed], [.. _drafted], [.. _accepted], [.. _rows], [.. _iterations]));
        }

        private void AddCandidates(List<int[]> drafts, int maxDraft)
        {
            var sources = new List<IReadOnlyList<int[]>>(3);
            if (_o.Method == DecodingMethod.Lookahead && _pool.TryGetValue(_seq[^1], out var pooled)) sources.Add(pooled);
            var seq = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_seq);
            if (_o.PromptPool) sources.Add(PromptLookup.Candidates(seq, _o.Guesses, _o.DraftLength));
            if (_o.Corpus is not null) sources.Add(_o.Corpus.Candidates(seq, _o.Guesses, _o.DraftLength));
            int added = 0;
            for (int i = 0; added < _o.Guesses; i++)
            {
                bool any = false;
                foreach (var s in sources)
                {
                    if (i >= s.Count) continue;
                    any = true;
                    var c = s[i];
                    if (c.Length == 0) continue;
                    if (c.Length > maxDraft) c = c[..maxDraft];
                    bool duplicate = false;
                    foreach (var d in drafts) if (d.AsSpan().SequenceEqual(c)) { duplicate = true; break; }
                    if (duplicate) continue;
                    drafts.Add(c);
                    if (++added == _o.Guesses) break;
                }
                if (!any) break;
            }
        }

        private void AdvanceWindow(int n, int accepted, List<int[]> drafts, int windowRow, int[]? predictions)
        {
            if (windowRow < 0 || predictions is null) { _window.Clear(); _entered.Clear(); return; }
            var inputs = drafts[windowRow];
            if (_o.Method == DecodingMethod.Lookahead)
            {
                _trajectory.Add((n, inputs));
                if (_trajectory.Count > _o.NgramSize - 1) _trajectory.RemoveAt(0);
                CollectNgrams(n, predictions);
            }
            // Jacobi sweep: the guess for position p becomes the window row's prediction at p; slide by the accepted count.
            var oldEntered = _entered.ToArray();
            _window.Clear();
            _entered.Clear();
            int start = n + accepted;
            for (int p = start; p < start + _o.Window; p++)
            {
                int k = p - n;
                if (k < predictions.Length)
                {
                    _window.Add(predictions[k]);
                    _entered.Add(k < oldEntered.Length ? oldEntered[k] : _round + 1);
                }
                else
                {
                    _window.Add(_window.Count > 0 ? _window[^1] : predictions[^1]);
                    _entered.Add(_round + 1);
                }
            }
        }

        /// <summary>The n-grams along the trajectory's diagonals that end at this round's predictions (Fu et al. 2024, section 3.1).</summary>
        private void CollectNgrams(int n, int[] predictions)
        {
            int N = _o.NgramSize, cap = Math.Max(1, _o.Guesses);
            for (int q = n + 1; q < n + predictions.Length; q++)
            {
                var gram = new int[N];
                gram[N - 1] = predictions[q - n];
                bool ok = true;
                for (int j = 1; j < N && ok; j++)
                {
                    if (j > _trajectory.Count) { ok = false; break; }
                    var (start, inputs) = _trajectory[^j];
                    int pos = q - j;
                    if (pos < start) gram[N - 1 - j] = _seq[pos];
                    else if (pos - start < inputs.Length) gram[N - 1 - j] = inputs[pos - start];
                    else ok = false;
                }
                if (!ok) continue;
                if (!_pool.TryGetValue(gram[0], out var list)) _pool[gram[0]] = list = [];
                var tail = gram[1..];
                int at = list.FindIndex(t => t.AsSpan().SequenceEqual(tail));
                if (at >= 0) list.RemoveAt(at);
                list.Insert(0, tail);
                if (list.Count > cap) list.RemoveAt(list.Count - 1);
            }
        }

        private void EnsureBuffers(int rows, int stride)
        {
            // Grow geometrically: greedy's rows grow by one token a round.
            if (_tokens.Length < rows * stride) _tokens = new int[Math.Max(rows * stride, 2 * _tokens.Length)];
            long need = (long)rows * stride * _vocab;
            if (need > Array.MaxLength) throw new ArgumentException($"A round of {rows} rows of {stride} tokens needs {need} logits, more than an array holds; use fewer guesses or a shorter window.");
            if (_logits.Length < need) _logits = new float[Math.Min(Array.MaxLength, Math.Max(need, 2L * _logits.Length))];
        }

        private int Argmax(ReadOnlySpan<float> logits, int row, int stride, int position)
        {
            var l = logits.Slice((row * stride + position) * _vocab, _vocab);
            try { return TokenArgmax.Of(l); }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Round {_round}, row {row}, position {position}: {e.Message}", "model", e);
            }
        }
    }
}
