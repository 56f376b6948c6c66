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
internal sealed record SamplerRunResult(double[][] Final, List<double[][]> Trajectory, List<double> ModelCallTimes, long Nfe, int NoiseUsed, int NoiseRecorded);

/// <summary>Shared parts of the diffusers and k-diffusion reference runners.</summary>
internal static class SamplerReferenceRun
{
    public static GaussianMixture Mixture(JsonElement root)
    {
        var g = root.GetProperty("gmm");
        return GaussianMixture.Isotropic(Doubles(g.GetProperty("weights")), Matrix(g.GetProperty("means")), Doubles(g.GetProperty("stds")));
    }

    public static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    public static double[][] Matrix(JsonElement e) => e.EnumerateArray().Select(Doubles).ToArray();

    public static List<double[][]> Tape(JsonElement root)
        => root.TryGetProperty("noise", out var n) && n.ValueKind == JsonValueKind.Array ? n.EnumerateArray().Select(Matrix).ToList() : [];

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
            noise.Consumed, noise.Consumed + noise.Remaining);
    }

    private static double[][] Scaled(BatchTensor<double> x, double scale)
        => x.ToRows().Select(r => r.Select(v => v * scale).ToArray()).ToArray();

    /// <summary>Compares with the peer; <paramref name="peerIndexOf"/> maps our trajectory entry to the peer's when the peer records more states (Heun's half steps).</summary>
    public static ReferenceOutcome Outcome(string name, JsonElement root, SamplerRunResult run, string callTimesField, string trajectoryField, string samplerDescription, Func<int, int>? peerIndexOf = null)
    {
        static bool AllNumbers(JsonElement m) => m.ValueKind == JsonValueKind.Array
            && m.EnumerateArray().All(r => r.ValueKind == JsonValueKind.Array && r.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number));
        if (!AllNumbers(root.GetProperty("x_final")))
            return PeerNotFinite(name, root, run, trajectoryField, samplerDescription, peerIndexOf);
        var expected = Matrix(root.GetProperty("x_final"));
        double diff = MaxAbs(expected, run.Final);
        var report = new List<string> { $"{name}: {samplerDescription}, {run.Nfe} model evaluations, {run.NoiseUsed} of {run.NoiseRecorded} recorded noise tensors used" };
        // The peer's noise must be consumed exactly as recorded; a leftover tensor means the draws are out of step.
        if (run.NoiseUsed != run.NoiseRecorded) diff = double.NaN;
        if (root.TryGetProperty(callTimesField, out var ct))
        {
            var peer = Doubles(ct);
            double rel = peer.Length == run.ModelCallTimes.Count
                ? peer.Zip(run.ModelCallTimes, (a, b) => Math.Abs(a - b) / Math.Max(Math.Abs(a), 1e-300)).DefaultIfEmpty(0).Max()
                : double.PositiveInfinity;
            report.Add($"  model calls: {run.ModelCallTimes.Count} (peer {peer.Length}), max relative time difference {rel:E2}");
        }
        if (root.TryGetProperty(trajectoryField, out var tr))
        {
            var peer = tr.EnumerateArray().Select(Matrix).ToList();
            if (peerIndexOf is not null) peer = Enumerable.Range(0, run.Trajectory.Count).Select(i => peerIndexOf(i)).Where(j => j >= 0 && j < peer.Count).Select(j => peer[j]).ToList();
            double worst = peer.Count == run.Trajectory.Count ? peer.Zip(run.Trajectory, MaxAbs).DefaultIfEmpty(0).Max() : double.PositiveInfinity;
            report.Add($"  trajectory: {run.Trajectory.Count} states (peer {peer.Count}), max abs difference {worst:E3}");
        }
        return new ReferenceOutcome(Json(name, run), diff, report);
    }

    /// <summary>
    /// A case whose peer produced NaN (its <c>x_final</c> holds null): the library's result must be finite, and its trajectory is
    /// compared with the peer's up to the peer's last finite entry; the difference reported is the largest there.
    /// </summary>
    private static ReferenceOutcome PeerNotFinite(string name, JsonElement root, SamplerRunResult run, string trajectoryField, string samplerDescription, Func<int, int>? peerIndexOf)
    {
        var report = new List<string> { $"{name}: {samplerDescription}, {run.Nfe} model evaluations; the peer's x_final is null (NaN)" };
        bool finite = run.Final.All(r => r.All(double.IsFinite));
        if (!root.TryGetProperty(trajectoryField, out var tr) || tr.ValueKind != JsonValueKind.Array)
            return new ReferenceOutcome(Json(name, run), double.NaN, report, "the peer's x_final is null and the case lists no trajectory to compare with");
        var entries = tr.EnumerateArray().ToList();
        var peer = new List<double[][]>();
        foreach (var e in entries)
        {
            bool ok = e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(r => r.ValueKind == JsonValueKind.Array && r.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number));
            if (!ok) break;
            peer.Add(Matrix(e));
        }
        double worst = 0;
        for (int i = 0; i < run.Trajectory.Count; i++)
        {
            int j = peerIndexOf is null ? i : peerIndexOf(i);
            if (j < 0 || j >= peer.Count) continue;
            worst = Math.Max(worst, MaxAbs(peer[j], run.Trajectory[i]));
        }
        if (run.NoiseUsed != run.NoiseRecorded) worst = double.NaN;
        report.Add($"  trajectory: {peer.Count} finite peer states of {entries.Count} compared, max abs difference {worst:E3}");
        report.Add($"  the library's x_final is {(finite ? "finite" : "NOT finite")}");
        return new ReferenceOutcome(Json(name, run), finite ? worst : double.NaN, report);
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
