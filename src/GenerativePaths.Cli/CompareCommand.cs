using System.CommandLine;
using System.Globalization;
using System.Text;
using GenerativePaths.Metrics;

namespace GenerativePaths.Cli;

/// <summary>A classifier used to judge samples: class logits and a feature vector per row.</summary>
internal interface IJudge : IDisposable
{
    int Classes { get; }
    int FeatureLength { get; }
    void Evaluate(ReadOnlySpan<float> x, int rows, Span<float> logits, Span<float> features);
}

/// <summary>One row of the comparison.</summary>
internal sealed record CompareRow(string Sampler, int Budget, int Steps, long Nfe, double Frechet, double? Accuracy, double Seconds);

/// <summary>
/// <c>gpaths compare</c>: quality per model evaluation. For each sampler and NFE budget it generates the same samples (same seed,
/// labels cycling through the classes) and reports the Fréchet distance to real data, in a judge's feature space or in pixel space.
/// </summary>
internal static class CompareCommand
{
    internal sealed record Settings(string[] Samplers, int[] Budgets, int Count, double Guidance, string Schedule, ulong Seed, int Threads, string OutDir);

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = Options.Path("--model", "The ONNX model file (its card MODEL.onnx.json beside it).", required: true);
        var card = Options.Path("--card", "The model card, when not beside the model.");
        var samplers = Options.NameList("--samplers", "Samplers to compare, comma-separated: " + SamplerCatalog.SamplerNames + ".", ["euler", "heun", "dpmpp_2m"]);
        var nfe = Options.IntList("--nfe", "Model-evaluation budgets, comma-separated.", [2, 4, 8, 16, 32]);
        var count = Options.Int("--count", "Samples per run (at least 2).", 500, min: 2, max: 10_000_000);
        var guidance = Options.Double("--guidance", "The classifier-free guidance scale w (1 = the conditional model alone).", 1.0);
        var schedule = new Option<string>("--schedule") { Description = "The schedule: default (the card's), karras, exponential, uniform.", DefaultValueFactory = _ => "default" };
        var judge = Options.Path("--judge", "A classifier ONNX model (card beside it): the Fréchet distance is taken in its feature space and the label accuracy is reported.");
        var data = Options.Path("--data", "Real samples, a float32 .npy of shape [n, ...sample_shape].", required: true);
        var seed = Options.Seed("--seed", "The noise seed.", 0);
        var threads = Options.Int("--threads", "ONNX Runtime threads inside one operator (0: its choice).", 0, min: 0, max: 1024);
        var outDir = Options.Path("--out", "The folder for compare.md and compare.png (created if missing).", required: true);
        var command = new Command("compare", "Compare samplers by sample quality (Fréchet distance) per model evaluation; writes DIR/compare.md and DIR/compare.png.")
        {
            model, card, samplers, nfe, count, guidance, schedule, judge, data, seed, threads, outDir,
        };
        command.SetAction(parse =>
        {
            var s = new Settings(parse.GetValue(samplers)!, parse.GetValue(nfe)!, parse.GetValue(count), parse.GetValue(guidance), parse.GetValue(schedule)!,
                parse.GetValue(seed), parse.GetValue(threads), parse.GetValue(outDir)!);
            Check(s);
            var real = ReadData(parse.GetValue(data)!);
            using var m = ModelLoader.Load(parse.GetValue(model)!, parse.GetValue(card), s.Threads);
            using var j = parse.GetValue(judge) is { } jp ? ModelLoader.LoadJudge(jp) : null;
            Run(m, j, real.Floats!, real.Rows, real.RowLength, s, stdout, stderr);
            return Cli.ExitOk;
        });
        return command;
    }

    internal static void Check(Settings s)
    {
        foreach (var name in s.Samplers) SamplerCatalog.Find(name);
        SamplerCatalog.CheckSchedule(s.Schedule);
        if (File.Exists(s.OutDir)) throw new CommandLineException($"--out '{s.OutDir}' is a file, not a folder.");
    }

    private static NpyArray ReadData(string path)
    {
        if (!File.Exists(path)) throw new CommandLineException($"data file '{path}' does not exist.");
        var a = NpyFile.Read(path);
        if (a.Floats is null) throw new CommandLineException($"data file '{path}' holds integers; float samples are needed.");
        if (a.Rows < 2) throw new CommandLineException($"data file '{path}' has {a.Rows} rows; at least 2 are needed.");
        return a;
    }

    /// <summary>Runs the comparison and writes the report; returns its rows.</summary>
    internal static IReadOnlyList<CompareRow> Run(GenerationModel model, IJudge? judge, float[] real, int realRows, int realLength, Settings s, TextWriter stdout, TextWriter stderr)
    {
        Check(s);
        if (realLength != model.SampleLength)
            throw new CommandLineException($"the data's rows hold {realLength} values but a sample of {model.Name} holds {model.SampleLength}.");
        if (judge is not null && judge.Classes < model.Classes)
            throw new CommandLineException($"the judge knows {judge.Classes} classes but {model.Name} has {model.Classes}.");
        Directory.CreateDirectory(s.OutDir);
        int[]? labels = model.Classes > 0 ? Generation.Cycling(s.Count, model.Classes) : null;
        string space = judge is null ? $"pixel space ({model.SampleLength} values)" : $"the judge's feature space ({judge.FeatureLength} features)";
        string column = judge is null ? "FD, pixels" : "FD, judge features";
        var (realFeatures, featureLength) = Features(judge, real, realRows, realLength, out _);

        var rows = new List<CompareRow>();
        var notes = new List<string>();
        var bar = ProgressBar.For(stderr);
        foreach (var name in s.Samplers)
        {
            var entry = SamplerCatalog.Find(name);
            foreach (int budget in s.Budgets.Distinct().Order())
            {
                var fitted = FitBudget(model, entry, s.Schedule, budget);
                if (fitted is null)
                {
                    notes.Add($"{entry.Name} cannot meet a budget of {budget} model evaluations (one step needs more); skipped.");
                    continue;
                }
                var (steps, schedule) = fitted.Value;
                var result = Generation.Run(model, entry.Create(), schedule, s.Count, labels, s.Guidance, s.Seed, bar.Report);
                var (features, _) = Features(judge, result.Samples, s.Count, model.SampleLength, out var logits);
                double fd = FrechetDistance.Squared(features, s.Count, realFeatures, realRows, featureLength);
                double? accuracy = judge is not null && labels is not null ? Accuracy(logits!, judge.Classes, labels) : null;
                rows.Add(new CompareRow(entry.Name, budget, steps, result.ModelEvaluationsPerBatch, fd, accuracy, result.Seconds));
            }
        }
        string md = Markdown(model, s, space, column, rows, notes, judge is not null && labels is not null);
        File.WriteAllText(Path.Combine(s.OutDir, "compare.md"), md);
        Plots.FrechetAgainstNfe(Path.Combine(s.OutDir, "compare.png"), rows, $"{model.Name}: Fréchet distance ({(judge is null ? "pixel space" : "judge features")})");
        stdout.Write(md);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"compare: {rows.Count} runs of {s.Count} samples, {rows.Sum(r => r.Seconds):F1} s -> {Path.Combine(s.OutDir, "compare.md")}, {Path.Combine(s.OutDir, "compare.png")}"));
        return rows;
    }

    /// <summary>
    /// The most steps whose run needs at most <paramref name="budget"/> model evaluations, counted by a dry run of the sampler on one
    /// row of a model that predicts zeros (samplers take the same steps whatever the model says); null when one step needs more.
    /// </summary>
    internal static (int Steps, GenerativePaths.Schedules.StepSchedule Schedule)? FitBudget(GenerationModel model, SamplerEntry entry, string scheduleName, int budget)
    {
        (int, GenerativePaths.Schedules.StepSchedule)? best = null;
        int misses = 0;
        // Start near budget / evaluations-per-step and look a little beyond it: a last step to sigma = 0 or a first step from
        // alpha = 0 may need fewer evaluations, and a schedule may end with a step that needs none.
        for (int steps = 1; steps <= 2 * budget + 2 && misses < 3; steps++)
        {
            var schedule = SamplerCatalog.Build(scheduleName, steps, model.DefaultSchedule);
            long nfe = CountEvaluations(model, entry, schedule);
            if (nfe <= budget) { best = (steps, schedule); misses = 0; }
            else if (best is not null) misses++;
            else return null;
        }
        return best;
    }

    private static long CountEvaluations(GenerationModel model, SamplerEntry entry, GenerativePaths.Schedules.StepSchedule schedule)
    {
        using var x = GenerativePaths.Tensors.BatchTensor<float>.Allocate(1, model.SampleLength);
        var noise = new GenerativePaths.Noise.PhiloxNoise(0);
        noise.Fill(x, 0);
        return GenerativePaths.Samplers.SamplingLoop.Run(new ZeroModel(model.Model.Prediction), x, schedule, entry.Create(), noise).Statistics.ModelEvaluations;
    }

    /// <summary>A model that predicts zeros, for counting evaluations.</summary>
    private sealed class ZeroModel(GenerativePaths.Models.Prediction prediction) : GenerativePaths.Models.IGenerativeModel<float>
    {
        public GenerativePaths.Models.Prediction Prediction => prediction;

        public void Evaluate(GenerativePaths.Tensors.BatchTensor<float> x, ReadOnlySpan<double> modelTime, in GenerativePaths.Models.ModelCondition condition,
            GenerativePaths.Tensors.BatchTensor<float> output) => output.Span.Clear();
    }

    internal static (float[] Features, int Length) Features(IJudge? judge, float[] x, int rows, int length, out float[]? logits)
    {
        logits = null;
        if (judge is null) return (x, length);
        var features = new float[(long)rows * judge.FeatureLength];
        logits = new float[(long)rows * judge.Classes];
        const int chunk = 256;
        for (int start = 0; start < rows; start += chunk)
        {
            int n = Math.Min(chunk, rows - start);
            judge.Evaluate(x.AsSpan(start * length, n * length), n, logits.AsSpan(start * judge.Classes, n * judge.Classes),
                features.AsSpan(start * judge.FeatureLength, n * judge.FeatureLength));
        }
        return (features, judge.FeatureLength);
    }

    private static double Accuracy(float[] logits, int classes, int[] labels)
    {
        int right = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            var row = logits.AsSpan(i * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
            if (best == labels[i]) right++;
        }
        return (double)right / labels.Length;
    }

    private static string Markdown(GenerationModel model, Settings s, string space, string column, List<CompareRow> rows, List<string> notes, bool accuracy)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"# Sampler comparison: {model.Name}");
        sb.AppendLine();
        sb.AppendLine(inv, $"{s.Count} samples per run{(model.Classes > 0 ? $", labels cycling 0..{model.Classes - 1}" : "")}, seed {s.Seed}, {s.Schedule} schedule"
            + $"{(s.Guidance != 1 ? $", guidance {s.Guidance:G4}" : "")}. FD is the squared Fréchet distance to the real data in {space}; lower is better.");
        sb.AppendLine();
        sb.AppendLine(accuracy
            ? $"| sampler | NFE budget | steps | NFE | {column} | label accuracy | seconds |"
            : $"| sampler | NFE budget | steps | NFE | {column} | seconds |");
        sb.AppendLine(accuracy ? "|---|---:|---:|---:|---:|---:|---:|" : "|---|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            sb.AppendLine(accuracy
                ? string.Create(inv, $"| {r.Sampler} | {r.Budget} | {r.Steps} | {r.Nfe} | {r.Frechet:G4} | {r.Accuracy:P1} | {r.Seconds:F2} |")
                : string.Create(inv, $"| {r.Sampler} | {r.Budget} | {r.Steps} | {r.Nfe} | {r.Frechet:G4} | {r.Seconds:F2} |"));
        if (notes.Count > 0)
        {
            sb.AppendLine();
            foreach (var n in notes) sb.AppendLine(inv, $"- {n}");
        }
        return sb.ToString();
    }
}
