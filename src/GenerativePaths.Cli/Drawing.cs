using SkiaSharp;

namespace GenerativePaths.Cli;

/// <summary>
/// Text for images and plots from the embedded DejaVu Sans (no system fonts or fontconfig needed), registered with ScottPlot
/// under <see cref="FontName"/> for every family name it asks for.
/// </summary>
internal static class Drawing
{
    public const string FontName = "DejaVu Sans";

    private static readonly Lazy<byte[]> FontBytes = new(() =>
    {
        using var s = typeof(Drawing).Assembly.GetManifestResourceStream("GenerativePaths.Cli.DejaVuSans.ttf")
            ?? throw new InvalidOperationException("The embedded font is missing from the assembly.");
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    });

    private static readonly object Gate = new();
    private static bool _registered;

    /// <summary>A new typeface of the embedded font.</summary>
    public static SKTypeface Typeface() => SKTypeface.FromData(SKData.CreateCopy(FontBytes.Value))
        ?? throw new InvalidOperationException("The embedded font could not be loaded.");

    /// <summary>Makes ScottPlot resolve every font to the embedded one (idempotent).</summary>
    public static void RegisterWithScottPlot()
    {
        lock (Gate)
        {
            if (_registered) return;
            ScottPlot.Fonts.FontResolvers.Insert(0, new EmbeddedFontResolver());
            ScottPlot.Fonts.Default = FontName;
            _registered = true;
        }
    }

    /// <summary>Applies the embedded font to every text of a plot.</summary>
    public static void UseEmbeddedFont(ScottPlot.Plot plot)
    {
        RegisterWithScottPlot();
        plot.Font.Set(FontName);
    }

    private sealed class EmbeddedFontResolver : ScottPlot.IFontResolver
    {
        public SKTypeface? CreateTypeface(string fontName, ScottPlot.FontWeight weight, ScottPlot.FontSlant slant, ScottPlot.FontSpacing spacing) => Typeface();

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) => Typeface();
    }
}
