using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using GenerativePaths.ParallelInTime;

namespace GenerativePaths.Cli;

/// <summary><c>gpaths generate</c>: samples from a model with a named sampler and schedule; writes .npy files and an image grid.</summary>
internal static class GenerateCommand
{
    /// <summary>The settings of one generate run (after parsing).</summary>
    internal sealed record Settings(string? Sampler, int Steps, string Schedule, double Guidance, string? Labels, int? PerLabel, int? Count,
        ulong Seed, int Threads, string Out, string? LabelsOut, string? Grid, string? Shard = null)
    {
        /// <summary>Parallel-in-time sampling: null (sequential), <c>picard</c> or <c>anderson</c>.</summary>
        public string? Parallel { get; init; }

        /// <summary>The parallel window (steps per round).</summary>
        public int Window { get; init; } = 16;

        /// <summary>The parallel tolerance (0: exact).</summary>
        public double Tolerance { get; init; }

        /// <summary>The Anderson memory (earlier rounds used by the extrapolation).</summary>
        public int AndersonMemory { get; init; } = 3;

        /// <summary>Where to write the run's statistics as JSON, or null.</summary>
        public string? Stats { get; init; }
    }

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = Options.Path("--model", "The ONNX model file (its card MODEL.onnx.json beside it).", required: true);
        var card = Options.Path("--card", "The model card, when not beside the model.");
        var sampler = new Option<string?>("--sampler") { Description = "The sampler: " + SamplerCatalog.SamplerNames + " (default: the card's)." };
        var steps = Options.Int("--steps", "Sampler steps (at least 1).", 20, min: 1, max: 100_000);
        var schedule = new Option<string>("--schedule") { Description = "The schedule: default (the card's), karras, exponential, uniform.", DefaultValueFactory = _ => "default" };
        var guidance = Options.Double("--guidance", "The classifier-free guidance scale w (1 = the conditional model alone).", 1.0);
        var labels = new Option<string?>("--labels") { Description = "Class labels: a range 0-9 or a list 3,5,7 (default: every class of a class-conditional model)." };
        var perLabel = Options.OptionalInt("--per-label", "Samples per label (default 8).", min: 1, max: 1_000_000);
        var count = Options.OptionalInt("--count", "Total samples (labels cycle); default 16 for an unconditional model.", min: 1, max: 10_000_000);
        var seed = Options.Seed("--seed", "The noise seed.", 0);
        var threads = Options.Int("--threads", "ONNX Runtime threads inside one operator (0: its choice).", 0, min: 0, max: 1024);
        var output = new Option<string>("--out") { Description = "The samples, float32 [n, ...sample_shape].", DefaultValueFactory = _ => "samples.npy" };
        var labelsOut = Options.Path("--labels-out", "The labels, int64 [n].");
        var grid = Options.Path("--grid", "A PNG grid of the samples (cards with 'image'); one row per label.");
        var parallel = new Option<string?>("--parallel") { Description = "Parallel-in-time sampling: picard or anderson (default: sequential). With --tol 0 the samples equal the sequential run's." };
        var window = Options.Int("--window", "Steps evaluated together per round with --parallel.", 16, min: 1, max: 100_000);
        var tol = Options.Double("--tol", "The per-step tolerance of --parallel (0: exact, the sequential result).", 0.0, min: 0.0, max: 1e6);
        var memory = Options.Int("--anderson-memory", "Earlier rounds an Anderson extrapolation uses (with --parallel anderson).", 3, min: 1, max: 8);
        var stats = Options.Path("--stats", "Write the run's statistics (rounds, model_rows, steps, wall_seconds, ...) as JSON.");
        var shard = new Option<string?>("--shard") { Description = "INDEX/COUNT: write only share INDEX (0-based) of COUNT of the job, the rows one run of the whole job gives for it." };
        var command = new Command("generate", "Generate samples from a model with a named sampler and schedule.")
        {
            model, card, sampler, steps, schedule, guidance, labels, perLabel, count, seed, threads, output, labelsOut, grid, shard, parallel, window, tol, memory, stats,
        };
        command.SetAction(parse =>
        {
            var settings = new Settings(parse.GetValue(sampler), parse.GetValue(steps), parse.GetValue(schedule)!, parse.GetValue(guidance),
                parse.GetValue(labels), parse.GetValue(perLabel), parse.GetValue(count), parse.GetValue(seed), parse.GetValue(threads),
                parse.GetValue(output)!, parse.GetValue(labelsOut), parse.GetValue(grid), parse.GetValue(shard))
            {
                Parallel = parse.GetValue(parallel), Window = parse.GetValue(window), Tolerance = parse.GetValue(tol), AndersonMemory = parse.GetValue(memory), Stats = parse.GetValue(stats),
            };
            Check(settings);
            using var m = ModelLoader.Load(parse.GetValue(model)!, parse.GetValue(card), settings.Threads);
            return Run(m, settings, stdout, stderr);
        });
        return command;
    }

    /// <summary>Checks what can be checked before a model is loaded.</summary>
    internal static void Check(Settings s)
    {
        if (s.Sampler is not null) SamplerCatalog.Find(s.Sampler);
        SamplerCatalog.CheckSchedule(s.Schedule);
        if (s.Labels is not null) Options.ParseLabels(s.Labels);
        if (s.PerLabel is not null && s.Count is not null) throw new CommandLineException("give --per-label or --count, not both.");
        Options.CheckWritable(s.Out, "--out");
        if (s.LabelsOut is not null) Options.CheckWritable(s.LabelsOut, "--labels-out");
        if (s.Grid is not null) Options.CheckWritable(s.Grid, "--grid");
        if (s.Shard is not null) Options.ParseShard(s.Shard);
        if (s.Stats is not null) Options.CheckWritable(s.Stats, "--stats");
        ParallelFor(s);
    }

    /// <summary>The parallel settings named by <c>--parallel</c>, or null for a sequential run.</summary>
    private static ParallelSettings? ParallelFor(Settings s)
    {
        if (s.Parallel is null) return null;
        var acceleration = s.Parallel.ToLowerInvariant() switch
        {
            "picard" => ParallelAcceleration.Picard,
            "anderson" => ParallelAcceleration.Anderson,
            _ => throw new CommandLineException($"unknown --parallel '{s.Parallel}'; use picard or anderson."),
        };
        return new ParallelSettings(acceleration, s.Window, s.Tolerance) { AndersonMemory = s.AndersonMemory };
    }

    /// <summary>Runs on a loaded model; returns the exit code.</summary>
    internal static int Run(GenerationModel model, Settings s, TextWriter stdout, TextWriter stderr)
    {
        Check(s);
        var entry = s.Sampler is null ? model.DefaultSampler : SamplerCatalog.Find(s.Sampler);
        // A sampler name that asks for a plan ("DPM++ 2M Karras") sets the schedule unless --schedule names one.
        string scheduleName = string.Equals(s.Schedule, "default", StringComparison.OrdinalIgnoreCase) ? entry.Schedule : s.Schedule;
        var schedule = SamplerCatalog.Build(scheduleName, s.Steps, model.DefaultSchedule);
        int[]? labels = null;
        int count;
        if (model.Classes > 0)
        {
            int[] distinct = s.Labels is null ? Enumerable.Range(0, model.Classes).ToArray() : Options.ParseLabels(s.Labels);
            if (s.Count is { } n)
            {
                count = n;
                labels = Enumerable.Range(0, n).Select(i => distinct[i % distinct.Length]).ToArray();
            }
            else
            {
                int k = s.PerLabel ?? 8;
                count = checked(distinct.Length * k);
                labels = distinct.SelectMany(l => Enumerable.Repeat(l, k)).ToArray();
            }
        }
        else
        {
            if (s.Labels is not null || s.PerLabel is not null) throw new CommandLineException($"{model.Name} is unconditional; it takes no --labels or --per-label.");
            if (s.LabelsOut is not null) throw new CommandLineException($"{model.Name} is unconditional; it has no labels for --labels-out.");
            count = s.Count ?? 16;
        }
        if (s.Grid is not null && model.Image is null) throw new CommandLineException($"the card of {model.Name} has no 'image'; --grid needs one.");

        // A shard is the contiguous share [first, first + count) of the job's samples, with the job's labels and noise.
        int jobCount = count, first = 0;
        string shardNote = "";
        if (s.Shard is not null)
        {
            var (index, shards) = Options.ParseShard(s.Shard);
            (first, count) = Options.ShardRange(index, shards, jobCount);
            if (labels is not null) labels = labels[first..(first + count)];
            shardNote = $" (rows {first}-{first + count - 1} of {jobCount}, shard {index}/{shards})";
        }
        var bar = ProgressBar.For(stderr);
        var parallel = ParallelFor(s);
        var result = Generation.Run(model, entry.Create(), schedule, count, labels, s.Guidance, s.Seed, bar.Report, first, parallel);
        NpyFile.WriteFloat32(s.Out, result.Samples, [count, .. model.SampleShape]);
        if (s.LabelsOut is not null) NpyFile.WriteInt64(s.LabelsOut, labels!.Select(l => (long)l).ToArray(), [count]);
        string gridNote = "";
        if (s.Grid is not null)
        {
            var (rows, cols) = ImageGrid.Write(s.Grid, result.Samples, count, model.Image!, labels);
            gridNote = $", grid {rows}x{cols} -> {s.Grid}";
        }
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"generate: {count} samples{shardNote} of {model.Name}, {entry.Name} on the {scheduleName} schedule, {result.Steps} steps, NFE {result.ModelEvaluationsPerBatch}"
            + $"{(s.Guidance != 1 ? $", guidance {s.Guidance:G4}" : "")}"
            + $"{(parallel is null ? "" : $", {s.Parallel!.ToLowerInvariant()} window {s.Window} tol {s.Tolerance:G4}: {result.Rounds} rounds{(result.Converged ? "" : " (round limit)")}")}"
            + $", seed {s.Seed}, {result.Seconds:F2} s -> {s.Out}{gridNote}"));
        if (s.Stats is not null) WriteStats(s.Stats, s, entry.Name, scheduleName, count, result, parallel);
        return Cli.ExitOk;
    }

    /// <summary>The statistics file: the same keys for sequential runs (<c>rounds</c> = model calls per batch) and parallel ones.</summary>
    private static void WriteStats(string path, Settings s, string sampler, string schedule, int count, GenerationResult r, ParallelSettings? parallel)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("sampler", sampler);
        w.WriteString("schedule", schedule);
        w.WriteNumber("samples", count);
        w.WriteNumber("steps", r.Steps);
        w.WriteString("parallel", parallel is null ? "none" : s.Parallel!.ToLowerInvariant());
        if (parallel is not null)
        {
            w.WriteNumber("window", parallel.Window);
            w.WriteNumber("tol", parallel.Tolerance);
        }
        w.WriteNumber("rounds", r.Rounds);
        w.WriteNumber("sequential_model_calls", r.ModelEvaluationsPerBatch);
        w.WriteNumber("model_rows", r.ModelRows);
        w.WriteBoolean("converged", r.Converged);
        w.WriteNumber("wall_seconds", r.Seconds);
        if (r.RoundOfStep is { } perStep)
        {
            w.WriteStartArray("round_of_step");
            foreach (int k in perStep) w.WriteNumberValue(k);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}
