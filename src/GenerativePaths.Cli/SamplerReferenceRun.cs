using System.Text;
using System.Text.Json;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Cli;

/// <summary>A model wrapper that records the time value of every call (the first sample's).</summary>
internal sealed class RecordingModel(IGenerativeModel<double> inner) : IGenerativeModel<double>
{
    public List<double> Times { get; } = [];

    public Prediction Prediction => inner.Prediction;

    public void Evaluate(BatchTensor<double> x, ReadOnlySpan<double> modelTime, in GenerativePaths.Models.ModelCondition condition, BatchTensor<double> output)
    {
        Times.Add(modelTime[0]);
        inner.Evaluate(x, modelTime, condition, output);
    }
}

/// <summary>What a sampler reference run produced, before comparison.</summary>
/// <remarks>NoiseByInterval: the tape lists each draw's interval, so recorded draws the sampler does not need (multiplied by zero by the peer) may be passed over.</remarks>
internal sealed record SamplerRunResult(double[][] Final, List<double[][]> Trajectory, List<double> ModelCallTimes, long Nfe, int NoiseUsed, int NoiseRecorded, bool NoiseByInterval = false);

/// <summary>Shared parts of the diffusers and k-diffusion reference runners.</summary>
internal static class SamplerReferenceRun
{
    public static GaussianMixture Mixture(JsonElement root)
    {
        var g = root.GetProperty("gmm");
        return GaussianMixture.Isotropic(Doubles(g.GetProperty("weights")), Matrix(g.GetProperty("means")), Doubles(g.GetProperty("stds")));
    }

    /// <summary>The numbers of an array; a <c>null</c> (the peer's NaN or infinity, <c>peer_finite: false</c>) reads as NaN.</summary>
    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble()).ToArray();

    public static double[][] Matrix(JsonElement e) => e.EnumerateArray().Select(Doubles).ToArray();

    public static List<double[][]> Tape(JsonElement root)
        => root.TryGetProperty("noise", out var n) && n.ValueKind == JsonValueKind.Array ? n.EnumerateArray().Select(Matrix).ToList() : [];

    /// <summary>The case's noise tape, keyed by the <c>noise_interval</c> of each draw when the case lists them.</summary>
    public static ReplayNoise Replay(JsonElement root)
    {
        var tape = Tape(root);
        if (root.TryGetProperty("noise_interval", out var iv) && iv.ValueKind == JsonValueKind.Array)
            return new ReplayNoise(tape, iv.EnumerateArray().Select(Doubles).Select(a => a.Length == 2 ? (a[0], a[1])
                : throw new FormatException($"a noise_interval entry has {a.Length} numbers, not 2")).ToList());
        return new ReplayNoise(tape);
    }

    /// <summary>Runs the sampler; <paramref name="outputScale"/> scales the path state after each step (point i+1) to the peer's coordinates.</summary>
    public static SamplerRunResult Run(IGenerativeModel<double> model, double[][] start, StepSchedule schedule, Sampler sampler, ReplayNoise noise,
        bool trajectoryBeforeEachStep, Func<int, double> outputScale, Paths.NoisePath? velocityPath = null)
    {
        var recorder = new RecordingModel(model);
        using var x = BatchTensor<double>.FromRows(start);
        var trajectory = new List<double[][]>();
        if (trajectoryBeforeEachStep) trajectory.Add(Scaled(x, outputScale(0)));
        var options = new SamplingOptions<double>
        {
            OnStep = (i, _, xs, _) =>
            {
                if (!trajectoryBeforeEachStep) trajectory.Add(Scaled(xs, outputScale(i + 1)));
                else if (i + 1 < schedule.StepCount) trajectory.Add(Scaled(xs, outputScale(i + 1)));
            },
        };
        var result = SamplingLoop.Run(new SamplerState<double>(recorder, schedule, x, noise, velocityPath: velocityPath), sampler, options);
        return new SamplerRunResult(Scaled(x, outputScale(schedule.StepCount)), trajectory, recorder.Times, result.Statistics.ModelEvaluations,
            noise.Consumed, noise.Consumed + noise.Skipped + noise.Remaining, noise.HasIntervals);
    }

    private static double[][] Scaled(BatchTensor<double> x, double scale)
        => x.ToRows().Select(r => r.Select(v => v * scale).ToArray()).ToArray();

    /// <summary>Compares with the peer; <paramref name="peerIndexOf"/> maps our trajectory entry to the peer's when the peer records more states (Heun's half steps).</summary>
    /// <remarks>With <c>includeTrajectory</c> the trajectory's difference counts in the compared figure too (else it is only reported).</remarks>
    public static ReferenceOutcome Outcome(string name, JsonElement root, SamplerRunResult run, string callTimesField, string trajectoryField, string samplerDescription,
        Func<int, int>? peerIndexOf = null, bool includeTrajectory = false)
    {
        var expected = Matrix(root.GetProperty("x_final"));
        bool peerFinal = expected.All(r => r.All(double.IsFinite));
        var report = new List<string> { $"{name}: {samplerDescription}, {run.Nfe} model evaluations, {run.NoiseUsed} of {run.NoiseRecorded} recorded noise tensors used" };
        double diff = peerFinal ? MaxAbs(expected, run.Final) : double.NaN;
        // The peer's noise must be consumed exactly as recorded; a leftover tensor means the draws are out of step. A tape keyed by interval
        // matched each draw by its interval (ReplayNoise throws otherwise), and the draws left over are ones the peer multiplied by zero.
        if (run.NoiseUsed != run.NoiseRecorded)
        {
            if (run.NoiseByInterval) report.Add($"  noise: {run.NoiseRecorded - run.NoiseUsed} recorded draws not needed (matched by interval; the peer scaled them by zero)");
            else diff = double.NaN;
        }
        if (root.TryGetProperty(callTimesField, out var ct))
        {
            var peer = Doubles(ct);
            double rel = peer.Length == run.ModelCallTimes.Count
                ? peer.Zip(run.ModelCallTimes, (a, b) => Math.Abs(a - b) / Math.Max(Math.Abs(a), 1e-300)).DefaultIfEmpty(0).Max()
                : double.PositiveInfinity;
            report.Add($"  model calls: {run.ModelCallTimes.Count} (peer {peer.Length}), max relative time difference {rel:E2}");
        }
        double worst = double.NaN;
        int finiteStates = 0;
        if (root.TryGetProperty(trajectoryField, out var tr))
        {
            var peer = tr.EnumerateArray().Select(Matrix).ToList();
            if (peerIndexOf is not null) peer = Enumerable.Range(0, run.Trajectory.Count).Select(i => peerIndexOf(i)).Where(j => j >= 0 && j < peer.Count).Select(j => peer[j]).ToList();
            // Where the peer went non-finite (null), the comparison stops at its last finite state.
            finiteStates = peer.TakeWhile(m => m.All(r => r.All(double.IsFinite))).Count();
            worst = peer.Count == run.Trajectory.Count ? peer.Take(finiteStates).Zip(run.Trajectory, MaxAbs).DefaultIfEmpty(0).Max() : double.PositiveInfinity;
            report.Add($"  trajectory: {run.Trajectory.Count} states (peer {peer.Count}{(finiteStates < peer.Count ? $", {finiteStates} finite" : "")}), max abs difference {worst:E3}");
        }
        else if (trajectoryField == "-") report.Add("  trajectory: not compared (the peer records its internal attempts)");
        if (!peerFinal)
        {
            // The peer's x_final is null (its NaN): the library must be finite and agree with the peer's trajectory up to its last finite state.
            bool ours = run.Final.All(r => r.All(double.IsFinite));
            report.Add($"  x_final: the peer's is null (NaN); ours is {(ours ? "finite" : "NOT finite")}; compared: the peer's {finiteStates} finite trajectory states");
            diff = ours && double.IsFinite(worst) && finiteStates > 0 ? worst : double.NaN;
        }
        else if (includeTrajectory && !double.IsNaN(diff)) diff = double.IsNaN(worst) ? diff : Math.Max(diff, worst);
        return new ReferenceOutcome(Json(name, run), diff, report);
    }

    public static double MaxAbs(double[][] a, double[][] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i].Length != b[i].Length) return double.PositiveInfinity;
            for (int j = 0; j < a[i].Length; j++) m = Math.Max(m, Math.Abs(a[i][j] - b[i][j]));
        }
        return m;
    }

    private static string Json(string name, SamplerRunResult run)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteString("case", name);
            w.WritePropertyName("x_final");
            WriteMatrix(w, run.Final);
            w.WritePropertyName("trajectory");
            w.WriteStartArray();
            foreach (var m in run.Trajectory) WriteMatrix(w, m);
            w.WriteEndArray();
            w.WritePropertyName("model_call_times");
            w.WriteStartArray();
            foreach (var t in run.ModelCallTimes) w.WriteNumberValue(t);
            w.WriteEndArray();
            w.WriteNumber("nfe", run.Nfe);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteMatrix(Utf8JsonWriter w, double[][] m)
    {
        w.WriteStartArray();
        foreach (var row in m)
        {
            w.WriteStartArray();
            foreach (var v in row) w.WriteNumberValue(v);
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }
}
