using System.Text;
using System.Text.Json;

namespace GenerativePaths.Decoding;

/// <summary>
/// The token strings of a token model (a <c>{"vocab": [token strings]}</c> file, index <c>i</c> is token <c>i</c>), with text
/// encoding and decoding.
/// </summary>
/// <remarks>
/// <para>Decoding concatenates the token strings. Encoding is greedy longest match: at each position the longest token string
/// that matches is taken (for a character-level vocabulary, where every token is one character, that is one token per
/// character). Text that no token matches raises <see cref="ArgumentException"/> in <see cref="Encode"/> and becomes a
/// separator (-1) in <see cref="EncodeLenient"/>.</para>
/// <para>Thread safety: immutable after construction; safe to share between threads.</para>
/// </remarks>
public sealed class TokenVocabulary
{
    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;
    private readonly int _longest;

    /// <summary>A vocabulary of the given token strings (index <c>i</c> is token <c>i</c>).</summary>
    /// <exception cref="ArgumentException">No tokens, an empty token string, or a token string listed twice (the message gives the indices).</exception>
    public TokenVocabulary(IEnumerable<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = tokens.ToArray();
        if (_tokens.Length == 0) throw new ArgumentException("The vocabulary is empty.", nameof(tokens));
        _ids = new Dictionary<string, int>(_tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < _tokens.Length; i++)
        {
            var s = _tokens[i];
            if (string.IsNullOrEmpty(s)) throw new ArgumentException($"Vocabulary token {i} is empty.", nameof(tokens));
            if (!_ids.TryAdd(s, i)) throw new ArgumentException($"Vocabulary tokens {_ids[s]} and {i} are both '{Escape(s)}'; token strings must be distinct.", nameof(tokens));
            _longest = Math.Max(_longest, s.Length);
        }
    }

    /// <summary>Parses <c>{"vocab": [token strings]}</c>.</summary>
    /// <param name="json">The file's text.</param>
    /// <param name="sourceName">How error messages name the file.</param>
    /// <exception cref="FormatException">Invalid JSON, no <c>vocab</c> array of strings, or an invalid token list (the message names the file).</exception>
    public static TokenVocabulary Parse(string json, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        string src = sourceName ?? "(inline)";
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("vocab", out var arr) || arr.ValueKind != JsonValueKind.Array)
                throw new FormatException($"vocabulary '{src}': expected an object {{\"vocab\": [token strings]}}.");
            var list = new List<string>(arr.GetArrayLength());
            int i = 0;
            foreach (var e in arr.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.String) throw new FormatException($"vocabulary '{src}': \"vocab[{i}]\" is {e.ValueKind}, not a string.");
                list.Add(e.GetString()!);
                i++;
            }
            return new TokenVocabulary(list);
        }
        catch (JsonException e) { throw new FormatException($"vocabulary '{src}': not valid JSON: {e.Message}", e); }
        catch (ArgumentException e) { throw new FormatException($"vocabulary '{src}': {e.Message}", e); }
    }

    /// <summary>Reads a vocabulary file (see <see cref="Parse"/>).</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="FormatException">The file is not a valid vocabulary.</exception>
    public static TokenVocabulary Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"vocabulary file not found: {Path.GetFullPath(path)}", path);
        return Parse(File.ReadAllText(path), Path.GetFileName(path));
    }

    /// <summary>The number of tokens.</summary>
    public int Count => _tokens.Length;

    /// <summary>The string of token <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is outside <c>0..Count-1</c>.</exception>
    public string this[int id] => (uint)id < (uint)_tokens.Length ? _tokens[id] : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token {id} is outside the vocabulary 0..{_tokens.Length - 1}.");

    /// <summary>Whether every token is a single character.</summary>
    public bool IsCharacterLevel => _longest == 1;

    /// <summary>The id of <paramref name="token"/>, if it is in the vocabulary.</summary>
    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    /// <summary>Encodes <paramref name="text"/> by greedy longest match.</summary>
    /// <exception cref="ArgumentException">Some text matches no token (the message gives the character and its offset).</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = EncodeCore(text, out int bad);
        if (bad >= 0)
            throw new ArgumentException($"The text has '{Escape(text[bad].ToString())}' (U+{(int)text[bad]:X4}) at offset {bad}, which no token of the vocabulary ({Count} tokens) encodes.", nameof(text));
        return ids;
    }

    /// <summary>Encodes <paramref name="text"/> by greedy longest match; each character no token matches becomes -1 (a separator).</summary>
    public int[] EncodeLenient(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return EncodeCore(text, out _, lenient: true);
    }

    private int[] EncodeCore(string text, out int firstBad, bool lenient = false)
    {
        firstBad = -1;
        var ids = new List<int>(text.Length);
        int i = 0;
        while (i < text.Length)
        {
            int found = -1, len = 0;
            for (int l = Math.Min(_longest, text.Length - i); l >= 1; l--)
                if (_ids.TryGetValue(text.Substring(i, l), out found)) { len = l; break; }
            if (len == 0)
            {
                if (!lenient) { firstBad = i; return []; }
                if (ids.Count == 0 || ids[^1] != -1) ids.Add(-1);
                i++;
                continue;
            }
            ids.Add(found);
            i += len;
        }
        return ids.ToArray();
    }

    /// <summary>The text of <paramref name="tokens"/> (their strings concatenated).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A token is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> tokens)
    {
        var sb = new StringBuilder();
        foreach (int t in tokens) sb.Append(this[t]);
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);
}
