using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.ParallelInTime;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Cli;

/// <summary>How a model's samples read as an image.</summary>
internal sealed record ImageLayout(int Height, int Width, int Channels, double RangeMin, double RangeMax);

/// <summary>A model ready for the commands: the network, the shape of a sample, its classes and its default plan.</summary>
/// <param name="Model">The model (float32).</param>
/// <param name="SampleShape">The shape of one sample, e.g. <c>[64]</c> or <c>[1, 8, 8]</c>.</param>
/// <param name="Classes">The number of class labels, or 0 for an unconditional model.</param>
/// <param name="UnconditionalClass">The null class used for guidance, or null when the model has none.</param>
/// <param name="Image">How a sample reads as an image, or null.</param>
/// <param name="DefaultSchedule">The model's own plan for a number of steps.</param>
/// <param name="DefaultSampler">The sampler used when none is named.</param>
/// <param name="Name">A short name for reports.</param>
/// <param name="Owner">Disposed with the model (a session), or null.</param>
internal sealed record GenerationModel(IGenerativeModel<float> Model, int[] SampleShape, int Classes, int? UnconditionalClass, ImageLayout? Image,
    Func<int, StepSchedule> DefaultSchedule, SamplerEntry DefaultSampler, string Name, IDisposable? Owner = null) : IDisposable
{
    /// <summary>Values per sample.</summary>
    public int SampleLength => SampleShape.Aggregate(1, (a, b) => a * b);

    /// <inheritdoc/>
    public void Dispose() => Owner?.Dispose();
}

/// <summary>What a generation run produced: the samples (row-major, one row per sample) and the work done.</summary>
/// <param name="Samples">The samples, row-major.</param>
/// <param name="Count">Samples.</param>
/// <param name="SampleLength">Values per sample.</param>
/// <param name="Steps">Schedule steps.</param>
/// <param name="ModelEvaluationsPerBatch">Model calls of the sequential run of one batch (the longest).</param>
/// <param name="ModelEvaluationsTotal">Model calls of the sequential run over all batches.</param>
/// <param name="Seconds">Wall-clock seconds.</param>
/// <param name="Rounds">Sequential batched model calls of the longest batch (a sequential run: its model evaluations).</param>
/// <param name="ModelRows">Rows handed to the model over all batches.</param>
/// <param name="Converged">False when a parallel run stopped at its round limit.</param>
/// <param name="RoundOfStep">For a parallel run, per step the round after which it was accepted (the latest over batches); else null.</param>
internal sealed record GenerationResult(float[] Samples, int Count, int SampleLength, int Steps, long ModelEvaluationsPerBatch, long ModelEvaluationsTotal, double Seconds,
    long Rounds = 0, long ModelRows = 0, bool Converged = true, int[]? RoundOfStep = null);

/// <summary>Parallel-in-time settings of a generation run (<see cref="ParallelSampling"/>).</summary>
internal sealed record ParallelSettings(ParallelAcceleration Acceleration, int Window, double Tolerance, int MaxRounds = 0)
{
    /// <summary>Earlier rounds an Anderson extrapolation uses.</summary>
    public int AndersonMemory { get; init; } = 3;
}

/// <summary>
/// Runs a sampler over many samples in batches, with noise keyed by sample index so that sample <c>i</c> is the same whatever
/// the count, the batch size or the number of threads.
/// </summary>
/// <remarks>
/// Noise streams, all from <c>new PhiloxNoise(seed)</c> keyed by (stream, sample index): the start noise <c>z</c> is stream
/// <see cref="StartNoiseStream"/>; a stochastic sampler draws stream <c>k</c> at step <c>k</c> (0, 1, ...). SDE samplers, which ask
/// for the noise of an interval (DPM++ SDE, 2M SDE, 3M SDE, ...), get the increments of one Brownian path per sample and seed
/// (<see cref="BrownianNoise.ForSchedule"/>), so more steps refine the same path. The start state is
/// <c>x = sigma_0 z</c> at the schedule's first point (the state convention is <c>x = alpha x0 + sigma eps</c>).
/// </remarks>
internal static class Generation
{
    /// <summary>The noise stream of the start noise (the sampler's streams are the step indices, far below it).</summary>
    public const long StartNoiseStream = 1_000_000_000;

    /// <summary>Rows per batched model call.</summary>
    public const int BatchSize = 256;

    /// <remarks>The progress callback receives (steps done, steps in all) over every batch. <paramref name="first"/> is the job index of
    /// the first sample (a shard of a larger job): sample <c>i</c> of this call is sample <c>first + i</c> of the job, with that
    /// index's noise, and batches are cut at the job's batch boundaries, so the rows are those a run of the whole job gives.</remarks>
    /// <exception cref="CommandLineException">Guidance without a null class, or labels outside the model's classes.</exception>
    public static GenerationResult Run(GenerationModel model, Sampler sampler, StepSchedule schedule, int count, int[]? labels, double guidance,
        ulong seed, Action<int, int>? progress = null, long first = 0, ParallelSettings? parallel = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        if (count < 1) throw new CommandLineException($"the sample count must be at least 1 (got {count}).");
        if (labels is not null)
        {
            if (labels.Length != count) throw new ArgumentException("One label per sample is needed.", nameof(labels));
            if (model.Classes == 0) throw new CommandLineException($"{model.Name} is unconditional; it takes no --labels.");
            foreach (int l in labels)
                if (l < 0 || l >= model.Classes) throw new CommandLineException($"label {l} is outside the classes of {model.Name} (0 to {model.Classes - 1}).");
        }
        bool guided = guidance != 1.0;
        if (guided && labels is null) throw new CommandLineException("--guidance needs --labels (or --per-label/--count with a class-conditional model).");
        if (guided && model.UnconditionalClass is null) throw new CommandLineException($"{model.Name} has no unconditional class; --guidance must be 1.");

        int length = model.SampleLength;
        var samples = new float[(long)count * length];
        // Batch b holds job samples [b * BatchSize, (b + 1) * BatchSize) that fall in [first, first + count).
        long end = first + count;
        int batches = (int)((end - 1) / BatchSize - first / BatchSize + 1);
        long perBatch = 0, total = 0;
        long rounds = 0, modelRows = 0;
        bool converged = true;
        int[]? roundOfStep = parallel is null ? null : new int[schedule.StepCount];
        int done = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var noise = new PhiloxNoise(seed);
        NoiseSource samplerNoise = SamplerNoise(seed, schedule, noise);
        // Batches run one after another: a model instance serves one call at a time.
        for (long g = first; g < end; g = Math.Min(end, (g / BatchSize + 1) * BatchSize))
        {
            int start = (int)(g - first), rows = (int)(Math.Min(end, (g / BatchSize + 1) * BatchSize) - g);
            var ids = new long[rows];
            for (int i = 0; i < rows; i++) ids[i] = g + i;
            using var x = BatchTensor<float>.Allocate(rows, length);
            noise.Fill(x, StartNoiseStream, ids);
            schedule.Start(x);
            IGenerativeModel<float> m = model.Model;
            var condition = ModelCondition.None;
            if (labels is not null)
            {
                condition = ModelCondition.FromClasses(labels.AsSpan(start, rows).ToArray());
                if (guided) m = new ClassifierFreeGuidance<float>(model.Model, guidance, ModelCondition.FromClasses(model.UnconditionalClass!.Value));
            }
            int before = done * schedule.StepCount;
            var stepProgress = progress is null ? null : new StepProgress(k => progress(before + k, batches * schedule.StepCount));
            if (parallel is null)
            {
                var result = SamplingLoop.Run(m, x, schedule, sampler, samplerNoise, new SamplingOptions<float> { Condition = condition, SampleIds = ids, Progress = stepProgress });
                perBatch = Math.Max(perBatch, result.Statistics.ModelEvaluations);
                total += result.Statistics.ModelEvaluations;
                rounds = Math.Max(rounds, result.Statistics.ModelEvaluations);
                modelRows += result.Statistics.ModelEvaluations * rows;
            }
            else
            {
                var result = ParallelSampling.Run(m, x, schedule, sampler, samplerNoise, new ParallelSamplingOptions<float>
                {
                    Window = parallel.Window, Tolerance = parallel.Tolerance, Acceleration = parallel.Acceleration, MaxRounds = parallel.MaxRounds, AndersonMemory = parallel.AndersonMemory,
                    Condition = condition, SampleIds = ids, Progress = stepProgress,
                });
                var st = result.Statistics;
                perBatch = Math.Max(perBatch, st.SequentialModelCalls);
                total += st.SequentialModelCalls;
                rounds = Math.Max(rounds, st.Rounds);
                modelRows += st.ModelRows;
                converged &= st.Converged;
                for (int i = 0; i < roundOfStep!.Length; i++) roundOfStep[i] = Math.Max(roundOfStep[i], st.RoundOfStep[i]);
            }
            x.Span.CopyTo(samples.AsSpan(start * length, rows * length));
            done++;
        }
        foreach (float v in samples)
            if (!float.IsFinite(v)) throw new CommandLineException("the sampler produced a non-finite value; try more steps or another sampler.");
        return new GenerationResult(samples, count, length, schedule.StepCount, perBatch, total, clock.Elapsed.TotalSeconds, rounds, modelRows, converged, roundOfStep);
    }

    /// <summary>The sampler's noise: a Brownian path per sample over the schedule's noise range, whose plain streams are
    /// <paramref name="plain"/>'s (so ancestral samplers draw what they always drew); <paramref name="plain"/> itself when the schedule
    /// has no range of noise levels (a single step to 0).</summary>
    private static NoiseSource SamplerNoise(ulong seed, StepSchedule schedule, PhiloxNoise plain)
    {
        try { return BrownianNoise.ForSchedule(seed, schedule); }
        catch (ArgumentException) { return plain; } // no range of noise levels: nothing to draw by interval
    }

    /// <summary>Labels for <paramref name="count"/> samples cycling through <c>0 .. classes - 1</c>.</summary>
    public static int[] Cycling(int count, int classes) => Enumerable.Range(0, count).Select(i => i % classes).ToArray();
}

/// <summary>Reports synchronously on the sampling thread (unlike <see cref="Progress{T}"/>, which posts).</summary>
internal sealed class StepProgress(Action<int> report) : IProgress<int>
{
    public void Report(int value) => report(value);
}

/// <summary>A one-line progress bar on a terminal's standard error, redrawn in place; silent when standard error is redirected.</summary>
internal sealed class ProgressBar(TextWriter stderr, bool enabled)
{
    private int _last = -1;

    /// <summary>Enabled only for the process's own standard error when it is a terminal.</summary>
    public static ProgressBar For(TextWriter stderr)
        => new(stderr, ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected);

    public void Report(int done, int total)
    {
        if (!enabled || total <= 1) return;
        int percent = (int)(100L * done / total);
        if (percent == _last) return;
        _last = percent;
        int filled = percent * 30 / 100;
        stderr.Write($"\r[{new string('#', filled)}{new string('.', 30 - filled)}] {percent,3}% ({done}/{total} steps)");
        if (done == total) stderr.Write("\r" + new string(' ', 60) + "\r");
    }
}
