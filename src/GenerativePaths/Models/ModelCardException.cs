namespace GenerativePaths.Models;

/// <summary>
/// A model card that cannot be read or used: a missing file, invalid JSON, a missing or unknown value of a known key, a
/// card that contradicts itself, or a card that disagrees with the network it describes.
/// </summary>
/// <remarks>
/// <para>The message names the card and the key, e.g.
/// <c>card 'x.onnx.json': "prediction": unknown value 'eps'; expected epsilon, x0, v, flow_velocity, score, edm_F</c>.</para>
/// <para>Thread safety: immutable after construction.</para>
/// </remarks>
public sealed class ModelCardException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">The card's file name (or a description of where its text came from).</param>
    /// <param name="key">The key at fault, as a JSON path (<c>"path.time"</c>), or null when the card as a whole is at fault.</param>
    /// <param name="message">What is wrong.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public ModelCardException(string source, string? key, string message, Exception? inner = null)
        : base(Format(source, key, message), inner)
    {
        Source = source;
        Key = key;
    }

    /// <summary>The card's file name, or a description of where its text came from.</summary>
    public new string Source { get; }

    /// <summary>The key at fault (a dotted JSON path), or null when the card as a whole is at fault.</summary>
    public string? Key { get; }

    private static string Format(string source, string? key, string message)
        => key is null ? $"card '{source}': {message}" : $"card '{source}': \"{key}\": {message}";
}
