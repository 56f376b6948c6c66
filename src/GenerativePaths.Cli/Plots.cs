using SkiaSharp;

namespace GenerativePaths.Cli;

/// <summary>The plots of <c>compare</c> and <c>paths</c> (ScottPlot on SkiaSharp, text in the embedded font).</summary>
internal static class Plots
{
    private static readonly ScottPlot.Color[] Colors =
        new[] { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" }
            .Select(ScottPlot.Color.FromHex).ToArray();

    /// <summary>FD against NFE, one line per sampler, on a log-2 NFE axis.</summary>
    public static void FrechetAgainstNfe(string path, IReadOnlyList<CompareRow> rows, string title)
    {
        Drawing.RegisterWithScottPlot(); // before the plot exists, so that it never asks for a system font
        var plot = new ScottPlot.Plot();
        Drawing.UseEmbeddedFont(plot);
        int colour = 0;
        var nfes = new SortedSet<long>();
        foreach (var group in rows.GroupBy(r => r.Sampler))
        {
            var points = group.Where(r => r.Nfe > 0).OrderBy(r => r.Nfe).ToArray();
            if (points.Length == 0) continue;
            foreach (var p in points) nfes.Add(p.Nfe);
            var line = plot.Add.Scatter(points.Select(p => Math.Log2(p.Nfe)).ToArray(), points.Select(p => Math.Log10(Math.Max(p.Frechet, 1e-12))).ToArray(), Colors[colour++ % Colors.Length]);
            line.LegendText = group.Key;
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }
        if (nfes.Count > 0)
            plot.Axes.Bottom.SetTicks(nfes.Select(n => Math.Log2(n)).ToArray(), nfes.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        var fds = rows.Where(r => r.Nfe > 0).Select(r => Math.Max(r.Frechet, 1e-12)).ToArray();
        if (fds.Length > 0)
        {
            // Log y axis: ticks at 1, 2 and 5 times the powers of ten that the values span.
            var ticks = new List<double>();
            for (int k = (int)Math.Floor(Math.Log10(fds.Min())); k <= (int)Math.Ceiling(Math.Log10(fds.Max())); k++)
                foreach (double m in new[] { 1.0, 2.0, 5.0 })
                {
                    double v = m * Math.Pow(10, k);
                    if (v >= fds.Min() / 1.5 && v <= fds.Max() * 1.5) ticks.Add(v);
                }
            plot.Axes.Left.SetTicks(ticks.Select(Math.Log10).ToArray(), ticks.Select(v => v.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }
        plot.Title(title, 14);
        plot.XLabel("model evaluations (NFE, log scale)");
        plot.YLabel("squared Fréchet distance (log scale)");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        Save(path, 900, 600, (canvas, w, h) => plot.Render(canvas, w, h));
    }

    /// <summary>One panel of the paths figure: trajectories (rows of [steps + 1, 2] points) over marked mixture components.</summary>
    internal sealed record PathPanel(string Title, IReadOnlyList<(double X, double Y)[]> Trajectories, ScottPlot.Color Colour);

    /// <summary>Panels side by side with the mixture's component means and one-standard-deviation circles marked.</summary>
    public static void PathPanels(string path, IReadOnlyList<PathPanel> panels, IReadOnlyList<(double X, double Y, double Std)> components, double limit)
    {
        const int panelWidth = 520, height = 560;
        Drawing.RegisterWithScottPlot();
        var plots = new List<ScottPlot.Plot>();
        foreach (var panel in panels)
        {
            var plot = new ScottPlot.Plot();
            Drawing.UseEmbeddedFont(plot);
            foreach (var t in panel.Trajectories)
            {
                var line = plot.Add.ScatterLine(t.Select(p => p.X).ToArray(), t.Select(p => p.Y).ToArray(), panel.Colour.WithAlpha(0.45));
                line.LineWidth = 1;
                var end = plot.Add.Marker(t[^1].X, t[^1].Y, ScottPlot.MarkerShape.FilledCircle, 4, panel.Colour);
                _ = end;
            }
            var start = plot.Add.Scatter(panel.Trajectories.Select(t => t[0].X).ToArray(), panel.Trajectories.Select(t => t[0].Y).ToArray(), ScottPlot.Colors.Gray);
            start.LineWidth = 0;
            start.MarkerSize = 3;
            start.LegendText = "start noise";
            foreach (var (x, y, std) in components)
            {
                var circle = plot.Add.Circle(x, y, std);
                circle.LineColor = ScottPlot.Colors.Black;
                circle.LineWidth = 1.5f;
                circle.FillColor = ScottPlot.Colors.Transparent;
                plot.Add.Marker(x, y, ScottPlot.MarkerShape.Cross, 12, ScottPlot.Colors.Black);
            }
            plot.Title(panel.Title, 13);
            plot.Axes.SetLimits(-limit, limit, -limit, limit);
            plot.Axes.SquareUnits();
            plots.Add(plot);
        }
        Save(path, panelWidth * plots.Count, height, (canvas, w, h) =>
        {
            // A plot's render fills its whole canvas, so each panel is drawn on its own surface first.
            for (int i = 0; i < plots.Count; i++)
            {
                using var panelSurface = SKSurface.Create(new SKImageInfo(panelWidth, h, SKColorType.Rgba8888, SKAlphaType.Premul))
                    ?? throw new InvalidOperationException("Could not create a drawing surface.");
                plots[i].Render(panelSurface.Canvas, panelWidth, h);
                using var panelImage = panelSurface.Snapshot();
                canvas.DrawImage(panelImage, i * panelWidth, 0, new SKSamplingOptions(SKFilterMode.Nearest), null);
            }
        });
    }

    private static void Save(string path, int width, int height, Action<SKCanvas, int, int> draw)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException("Could not create a drawing surface.");
        surface.Canvas.Clear(SKColors.White);
        draw(surface.Canvas, width, height);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
