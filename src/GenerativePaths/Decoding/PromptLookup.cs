namespace GenerativePaths.Decoding;

/// <summary>Prompt lookup (Saxena, "Prompt Lookup Decoding", 2023): drafts copied from the text so far.</summary>
/// <remarks>
/// <para>For every earlier end position <c>e &lt; n</c> of the sequence <c>x_0..x_{n-1}</c>, <c>l(e)</c> is the length of the common
/// suffix of <c>x_0..x_{e-1}</c> and <c>x_0..x_{n-1}</c> (at most <see cref="MaxMatch"/>). Positions with <c>l(e) &gt;= 1</c> are ranked
/// by <c>l</c>, then by recency, and each drafts <c>K</c> tokens <c>x_e..x_{e+K-1}</c>, where a position <c>e + i &gt;= n</c> repeats
/// the draft with period <c>n - e</c> (an overlapping copy, as in LZ77); distinct drafts are returned, best first.</para>
/// <para>Thread safety: stateless.</para>
/// </remarks>
internal static class PromptLookup
{
    /// <summary>The longest suffix compared.</summary>
    public const int MaxMatch = 32;

    public static IReadOnlyList<int[]> Candidates(ReadOnlySpan<int> seq, int max, int draftLength)
    {
        int n = seq.Length;
        if (n < 2 || max <= 0) return [];
        var matches = new List<(int Length, int End)>();
        for (int e = n - 1; e >= 1; e--)
        {
            int l = 0;
            while (l < MaxMatch && l < e && seq[e - 1 - l] == seq[n - 1 - l]) l++;
            if (l > 0) matches.Add((l, e));
        }
        // Longest match first; among equals the most recent (stable sort keeps the descending e order).
        var ordered = matches.OrderByDescending(m => m.Length);
        var result = new List<int[]>(max);
        foreach (var (_, e) in ordered)
        {
            // Continue past the end of the text as an overlapping copy (as LZ77 does): the match says the text repeats with
            // period n - e here, so the draft repeats it.
            var c = new int[draftLength];
            for (int i = 0; i < draftLength; i++) c[i] = e + i < n ? seq[e + i] : c[i - (n - e)];
            bool dup = false;
            foreach (var r in result) if (r.AsSpan().SequenceEqual(c)) { dup = true; break; }
            if (dup) continue;
            result.Add(c);
            if (result.Count == max) break;
        }
        return result;
    }
}
