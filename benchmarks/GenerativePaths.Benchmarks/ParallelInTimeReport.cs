using System.Globalization;
using System.Text;
using GenerativePaths.Cli;
using GenerativePaths.Metrics;
using GenerativePaths.ParallelInTime;
using GenerativePaths.Samplers;

namespace GenerativePaths.Benchmarks;

/// <summary>
/// The parallel-in-time table of <c>docs/performance.md</c>: for the shipped digits models (and the exact-mixture graph
/// <c>gmm-denoiser</c>), each sampler and step count, the sequential run and Picard/Anderson at a grid of tolerances: rounds, model rows,
/// the largest difference to the sequential samples, the Fréchet distance in the judge's feature space and its change, and the wall
/// time of the same code path the CLI runs. Counts are exact; the seconds are one run each on a shared machine (the BenchmarkDotNet
/// class <see cref="ParallelInTimeBenchmarks"/> measures wall time properly).
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/GenerativePaths.Benchmarks -- --parallel-report [samples] [out.md]</c>.</remarks>
public static class ParallelInTimeReport
{
    private sealed record Config(string Model, string Sampler, int Steps, double Guidance);

    public static int Run(string[] args)
    {
        int samples = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 250;
        string? outPath = args.Length > 2 ? args[2] : null;
        string root = Repository.Root();
        string M(string name) => Path.Combine(root, "models", name);
        using var judge = ModelLoader.LoadJudge(M("digits-judge.onnx"));
        var data = NpyFile.Read(M("digits-data.npy"));
        int realRows = data.Shape[0], length = data.Shape[1];
        var realFeatures = CompareCommand.Features(judge, data.Floats!, realRows, length, out _).Features;

        var configs = new List<Config>();
        foreach (int steps in new[] { 25, 50, 100 })
        {
            foreach (var s in new[] { "ddim", "euler", "dpmpp_2m", "ddpm" }) configs.Add(new Config("digits-ddpm", s, steps, 2));
            foreach (var s in new[] { "euler", "dpmpp_2m" }) configs.Add(new Config("digits-flow", s, steps, 2));
        }
        configs.Add(new Config("digits-ddpm", "ddpm", 1000, 2));
        configs.Add(new Config("digits-ddpm", "ddim", 1000, 2));
        configs.Add(new Config("gmm-denoiser", "ddim", 100, 2));
        configs.Add(new Config("gmm-denoiser", "dpmpp_2m", 100, 2));
        configs.Add(new Config("gmm-denoiser", "ddpm", 1000, 2));

        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"{samples} samples per run (labels cycling 0..9 for digits, 0..2 for the mixture), guidance 2, seed 0, window 32 unless noted, Anderson memory 3, intra-op threads 1; `uptime`: {Uptime()}.");
        sb.AppendLine();
        sb.AppendLine("| model | sampler | steps | method | tol | rounds | rounds / sequential | model rows / sequential | max abs diff | FD | FD change | seconds | seconds / sequential |");
        sb.AppendLine("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in configs)
        {
            using var model = ModelLoader.Load(M(c.Model + ".onnx"), null, 1);
            bool digits = c.Model.StartsWith("digits", StringComparison.Ordinal);
            var entry = GenerativePaths.Cli.SamplerCatalog.Find(c.Sampler);
            var schedule = model.DefaultSchedule(c.Steps);
            var labels = Generation.Cycling(samples, model.Classes);
            var seq = Generation.Run(model, entry.Create(), schedule, samples, labels, c.Guidance, 0);
            double fdSeq = digits ? FrechetDistance.Squared(CompareCommand.Features(judge, seq.Samples, samples, length, out _).Features, samples, realFeatures, realRows, judge.FeatureLength) : double.NaN;
            Row(sb, c, "sequential", 0, seq.Rounds, seq.Rounds, seq.ModelRows, seq.ModelRows, 0, fdSeq, fdSeq, seq.Seconds, seq.Seconds);
            double[] tolerances = c.Steps >= 1000 ? [0.1, 0.03] : [0.1, 0.03, 0.01];
            var runs = new List<(ParallelAcceleration Acceleration, int Window, double Tol)>();
            foreach (var acceleration in new[] { ParallelAcceleration.Picard, ParallelAcceleration.Anderson })
            foreach (double tol in tolerances) runs.Add((acceleration, 32, tol));
            // At 1000 steps a window of 32 bounds the rounds from below by 1000 / 32: a wider one too.
            if (c.Steps >= 1000) runs.Add((ParallelAcceleration.Picard, 128, 0.1));
            foreach (var (acceleration, window, tol) in runs)
            {
                var par = Generation.Run(model, entry.Create(), schedule, samples, labels, c.Guidance, 0, parallel: new ParallelSettings(acceleration, window, tol));
                double diff = 0;
                for (int i = 0; i < par.Samples.Length; i++) diff = Math.Max(diff, Math.Abs(par.Samples[i] - seq.Samples[i]));
                double fd = digits ? FrechetDistance.Squared(CompareCommand.Features(judge, par.Samples, samples, length, out _).Features, samples, realFeatures, realRows, judge.FeatureLength) : double.NaN;
                Row(sb, c, acceleration.ToString().ToLowerInvariant() + (window == 32 ? "" : $", window {window}"), tol, par.Rounds, seq.Rounds, par.ModelRows, seq.ModelRows, diff, fd, fdSeq, par.Seconds, seq.Seconds);
            }
            Console.Error.WriteLine($"// done {c}");
        }
        string table = sb.ToString();
        Console.WriteLine(table);
        if (outPath is not null) File.WriteAllText(outPath, table);
        return 0;
    }

    private static void Row(StringBuilder sb, Config c, string method, double tol, long rounds, long seqRounds, long rows, long seqRows, double diff,
        double fd, double fdSeq, double seconds, double seqSeconds)
    {
        var inv = CultureInfo.InvariantCulture;
        string fdText = double.IsNaN(fd) ? "n/a" : fd.ToString("F2", inv);
        double relative = (fd - fdSeq) / fdSeq;
        string change = double.IsNaN(fd) || method == "sequential" ? "" : Math.Abs(relative) < 0.0005 ? "0.0%" : relative.ToString("+0.0%;-0.0%", inv);
        sb.AppendLine(string.Create(inv,
            $"| {c.Model} | {c.Sampler} | {c.Steps} | {method} | {(method == "sequential" ? "" : tol.ToString("G3", inv))} | {rounds} | {(double)rounds / seqRounds:F3} | {(double)rows / seqRows:F2} | {diff:G3} | {fdText} | {change} | {seconds:F2} | {seconds / seqSeconds:F2} |"));
    }

    internal static string Uptime()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim() + " (load averages of /proc/loadavg)"; }
        catch (IOException) { return "unknown"; }
    }
}
