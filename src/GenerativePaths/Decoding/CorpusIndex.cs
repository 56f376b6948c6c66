namespace GenerativePaths.Decoding;

/// <summary>
/// A suffix array over a token corpus, for retrieval drafts: the continuations, in the corpus, of the longest suffix of the
/// text so far that occurs in it.
/// </summary>
/// <remarks>
/// <para>Built by prefix doubling (Manber and Myers, 1993): suffixes are sorted by their first <c>2^k</c> tokens for
/// <c>k = 0, 1, ...</c>, each pass sorting on the pair of ranks <c>(rank_k(i), rank_k(i + 2^k))</c>, until all ranks differ;
/// <c>O(n log^2 n)</c> time, <c>O(n)</c> memory. Negative tokens are separators (a document or unknown-character boundary): no
/// pattern or draft crosses them.</para>
/// <para>Lookup for a context <c>x_0..x_{n-1}</c>: binary search over the match length <c>q &lt;= </c><see cref="MaxMatch"/> for the
/// longest suffix <c>x_{n-q}..x_{n-1}</c> that occurs (occurrence is monotone in <c>q</c>), each test a binary search of the
/// suffix array; the suffixes starting with it form one interval, in which equal continuations are adjacent. The distinct
/// continuations of up to <c>K</c> tokens are returned, the most frequent first (earlier in suffix order on a tie), scanning at
/// most <see cref="MaxScan"/> occurrences.</para>
/// <para>Thread safety: immutable after construction; safe to share between threads and decoders.</para>
/// </remarks>
public sealed class CorpusIndex
{
    /// <summary>The longest context suffix matched against the corpus.</summary>
    public const int MaxMatch = 32;

    /// <summary>The most occurrences of the matched suffix examined per lookup.</summary>
    public const int MaxScan = 4096;

    private readonly int[] _tokens;
    private readonly int[] _suffixes;

    /// <summary>Indexes <paramref name="tokens"/> (negative values are separators).</summary>
    public CorpusIndex(ReadOnlySpan<int> tokens)
    {
        _tokens = tokens.ToArray();
        _suffixes = Build(_tokens);
    }

    /// <summary>Indexes <paramref name="text"/> encoded with <paramref name="vocabulary"/>; characters the vocabulary cannot encode
    /// become separators (see <see cref="TokenVocabulary.EncodeLenient"/>).</summary>
    public static CorpusIndex FromText(string text, TokenVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(vocabulary);
        return new CorpusIndex(vocabulary.EncodeLenient(text));
    }

    /// <summary>Reads and indexes a UTF-8 text file (see <see cref="FromText"/>).</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    public static CorpusIndex FromFile(string path, TokenVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"corpus file not found: {Path.GetFullPath(path)}", path);
        return FromText(File.ReadAllText(path), vocabulary);
    }

    /// <summary>Tokens in the corpus (separators included).</summary>
    public int Length => _tokens.Length;

    /// <summary>The length of the longest suffix of <paramref name="context"/> (at most <see cref="MaxMatch"/>) that occurs in the corpus.</summary>
    public int LongestMatch(ReadOnlySpan<int> context) => Longest(context, out _, out _);

    /// <summary>Up to <paramref name="max"/> distinct drafts of at most <paramref name="draftLength"/> tokens: what followed the
    /// longest matching suffix of <paramref name="context"/> in the corpus, the most frequent first.</summary>
    public IReadOnlyList<int[]> Candidates(ReadOnlySpan<int> context, int max, int draftLength)
    {
        if (max <= 0 || draftLength <= 0 || context.IsEmpty) return [];
        int q = Longest(context, out int lo, out int hi);
        if (q == 0) return [];
        var counts = new List<(int Start, int Length, int Count)>();
        int end = Math.Min(hi, lo + MaxScan);
        for (int i = lo; i < end; i++)
        {
            int s = _suffixes[i] + q, len = 0;
            while (len < draftLength && s + len < _tokens.Length && _tokens[s + len] >= 0) len++;
            if (len == 0) continue;
            if (counts.Count > 0)
            {
                var last = counts[^1];
                if (last.Length == len && _tokens.AsSpan(last.Start, len).SequenceEqual(_tokens.AsSpan(s, len))) { counts[^1] = last with { Count = last.Count + 1 }; continue; }
            }
            counts.Add((s, len, 1));
        }
        return counts.Select((c, i) => (c, i)).OrderByDescending(t => t.c.Count).ThenBy(t => t.i).Take(max)
            .Select(t => _tokens.AsSpan(t.c.Start, t.c.Length).ToArray()).ToArray();
    }

    private int Longest(ReadOnlySpan<int> context, out int lo, out int hi)
    {
        lo = hi = 0;
        int best = 0, a = 1, b = Math.Min(MaxMatch, context.Length);
        while (a <= b)
        {
            int q = (a + b) / 2;
            if (Range(context[^q..], out int l, out int h)) { best = q; lo = l; hi = h; a = q + 1; }
            else b = q - 1;
        }
        return best;
    }

    /// <summary>The interval of suffixes that start with <paramref name="pattern"/> (non-empty, no separators).</summary>
    private bool Range(ReadOnlySpan<int> pattern, out int lo, out int hi)
    {
        foreach (int t in pattern) if (t < 0) { lo = hi = 0; return false; }
        lo = Bound(pattern, upper: false);
        hi = Bound(pattern, upper: true);
        return hi > lo;
    }

    private int Bound(ReadOnlySpan<int> pattern, bool upper)
    {
        int a = 0, b = _suffixes.Length;
        while (a < b)
        {
            int m = (a + b) >>> 1;
            int c = ComparePrefix(_suffixes[m], pattern);
            if (c < 0 || (upper && c == 0)) a = m + 1; else b = m;
        }
        return a;
    }

    /// <summary>Compares the suffix at <paramref name="s"/>, cut to the pattern's length, with the pattern.</summary>
    private int ComparePrefix(int s, ReadOnlySpan<int> pattern)
    {
        for (int i = 0; i < pattern.Length; i++)
        {
            if (s + i >= _tokens.Length) return -1;
            int c = _tokens[s + i].CompareTo(pattern[i]);
            if (c != 0) return c;
        }
        return 0;
    }

    private static int[] Build(int[] t)
    {
        int n = t.Length;
        var sa = new int[n];
        var rank = new int[n];
        var tmp = new int[n];
        var keys = new long[n];
        for (int i = 0; i < n; i++) { sa[i] = i; rank[i] = t[i]; }
        // Initial ranks: the token order (separators, being negative, first).
        Array.Sort(rank.Select(r => (long)r).ToArray(), sa);
        if (n == 0) return sa;
        for (int i = 0, r = 0; i < n; i++) { if (i > 0 && t[sa[i]] != t[sa[i - 1]]) r++; tmp[sa[i]] = r; }
        Array.Copy(tmp, rank, n);
        for (int k = 1; ; k <<= 1)
        {
            for (int i = 0; i < n; i++) { sa[i] = i; keys[i] = ((long)rank[i] << 32) | (uint)(i + k < n ? rank[i + k] + 1 : 0); }
            Array.Sort(keys, sa);
            int r = 0;
            tmp[sa[0]] = 0;
            for (int i = 1; i < n; i++) { if (keys[i] != keys[i - 1]) r++; tmp[sa[i]] = r; }
            Array.Copy(tmp, rank, n);
            if (r == n - 1 || k >= n) break;
        }
        return sa;
    }
}
