using SkiaSharp;

namespace GenerativePaths.Cli;

/// <summary>Writes samples as a PNG grid of images: sample values mapped from the card's range to 0..255 and clamped.</summary>
internal static class ImageGrid
{
    /// <summary>Pixels of each image side (each sample pixel is scaled up to a square of this many screen pixels).</summary>
    public const int Scale = 4;

    /// <summary>Pixels between images.</summary>
    public const int Gap = 2;

    /// <summary>The grid's size for <paramref name="rows"/> x <paramref name="columns"/> images.</summary>
    public static (int Width, int Height) Size(ImageLayout layout, int rows, int columns)
        => (columns * layout.Width * Scale + (columns + 1) * Gap, rows * layout.Height * Scale + (rows + 1) * Gap);

    /// <summary>
    /// Writes the grid: with <paramref name="labels"/>, one row per distinct label (in order of first appearance) holding that label's
    /// samples; without, a near-square grid in sample order.
    /// </summary>
    /// <returns>The number of rows and columns.</returns>
    public static (int Rows, int Columns) Write(string path, ReadOnlySpan<float> samples, int count, ImageLayout layout, int[]? labels)
    {
        int pixels = layout.Height * layout.Width * layout.Channels;
        if (samples.Length != count * pixels) throw new ArgumentException($"{count} samples of {pixels} values were expected.");
        if (layout.Channels is not (1 or 3)) throw new CommandLineException($"--grid supports 1 or 3 channels, not {layout.Channels}.");
        List<List<int>> cells;
        if (labels is not null)
        {
            cells = labels.Select((l, i) => (l, i)).GroupBy(p => p.l).Select(g => g.Select(p => p.i).ToList()).ToList();
        }
        else
        {
            int cols = (int)Math.Ceiling(Math.Sqrt(count));
            cells = Enumerable.Range(0, (count + cols - 1) / cols).Select(r => Enumerable.Range(r * cols, Math.Min(cols, count - r * cols)).ToList()).ToList();
        }
        int rows = cells.Count, columns = cells.Max(c => c.Count);
        var (w, h) = Size(layout, rows, columns);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(new SKColor(40, 40, 40));
        double lo = layout.RangeMin, span = layout.RangeMax - layout.RangeMin;
        int plane = layout.Height * layout.Width;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cells[r].Count; c++)
            {
                var sample = samples.Slice(cells[r][c] * pixels, pixels);
                int x0 = Gap + c * (layout.Width * Scale + Gap), y0 = Gap + r * (layout.Height * Scale + Gap);
                for (int y = 0; y < layout.Height; y++)
                    for (int x = 0; x < layout.Width; x++)
                    {
                        // Channel-first (C, H, W), as the models are trained.
                        int at = y * layout.Width + x;
                        byte v0 = ToByte(sample[at], lo, span);
                        var color = layout.Channels == 1 ? new SKColor(v0, v0, v0)
                            : new SKColor(v0, ToByte(sample[plane + at], lo, span), ToByte(sample[2 * plane + at], lo, span));
                        for (int dy = 0; dy < Scale; dy++)
                            for (int dx = 0; dx < Scale; dx++)
                                bitmap.SetPixel(x0 + x * Scale + dx, y0 + y * Scale + dy, color);
                    }
            }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
        return (rows, columns);
    }

    /// <summary>Maps a value of the card's range to 0..255, rounded and clamped.</summary>
    private static byte ToByte(float v, double lo, double span) => (byte)Math.Clamp(Math.Round(255 * (v - lo) / span), 0, 255);
}
