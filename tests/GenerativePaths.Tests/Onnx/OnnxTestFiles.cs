using System.Text;
using GenerativePaths.Models;
using GenerativePaths.Tensors;

namespace GenerativePaths.Tests.Onnx;

/// <summary>Where the ONNX fixtures and shipped models live, the exact mixture a fixture card describes, and test data.</summary>
internal static class OnnxTestFiles
{
    public static string Fixtures => Path.Combine(ReferenceCases.RepositoryRoot, "tests", "GenerativePaths.Tests", "Fixtures", "onnx");

    public static string Models => Path.Combine(ReferenceCases.RepositoryRoot, "models");

    /// <summary>The fixture <c>NAME.onnx</c>; a missing file fails the test with its path.</summary>
    public static string Fixture(string name)
    {
        string p = Path.Combine(Fixtures, name + ".onnx");
        if (!File.Exists(p)) throw new FileNotFoundException($"ONNX fixture {p} is missing (built by tools/models/build_gmm.py).", p);
        return p;
    }

    /// <summary>The shipped model <c>models/NAME.onnx</c>; a missing file fails the test with its path.</summary>
    public static string Model(string name)
    {
        string p = Path.Combine(Models, name + ".onnx");
        if (!File.Exists(p)) throw new FileNotFoundException($"Shipped model {p} is missing (trained by tools/models).", p);
        return p;
    }

    /// <summary>The isotropic mixture in a fixture card's extra key <c>"mixture"</c>.</summary>
    public static GaussianMixture Mixture(ModelCard card)
    {
        var m = card.Raw["mixture"]!.AsObject();
        var weights = m["weights"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
        var means = m["means"]!.AsArray().Select(r => (IReadOnlyList<double>)r!.AsArray().Select(n => n!.GetValue<double>()).ToArray()).ToArray();
        var stds = m["stds"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
        return GaussianMixture.Isotropic(weights, means, stds);
    }

    /// <summary>The exact model of a fixture card: its mixture, the prediction the adapter reports and the card's time map.</summary>
    public static GaussianMixtureModel<T> Oracle<T>(ModelCard card) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        => new(Mixture(card), card.Prediction, card.TimeMap);

    /// <summary>Noisy samples at the given levels: <c>x = alpha x0 + sigma z</c> with <c>x0</c> from the mixture.</summary>
    public static BatchTensor<T> NoisySamples<T>(GaussianMixture mixture, IReadOnlyList<NoiseLevel> levels, int seed) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int d = mixture.Dimension;
        using var x0 = BatchTensor<double>.Allocate(levels.Count, d);
        mixture.Sample(x0, (ulong)seed);
        var rng = new Random(seed);
        var x = BatchTensor<T>.Allocate(levels.Count, d);
        for (int b = 0; b < levels.Count; b++)
            for (int i = 0; i < d; i++)
            {
                double z = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                x.Row(b)[i] = T.CreateTruncating(levels[b].Alpha * x0.Row(b)[i] + levels[b].Sigma * z);
            }
        return x;
    }

    /// <summary>Copies a model beside a card of the test's own (in a fresh temporary folder) and returns the model path.</summary>
    public static string WithCard(string sourceModel, string? cardJson, string name = "model.onnx", byte[]? modelBytes = null)
    {
        string dir = Directory.CreateTempSubdirectory("gpaths-onnx").FullName;
        string model = Path.Combine(dir, name);
        if (modelBytes is not null) File.WriteAllBytes(model, modelBytes);
        else File.Copy(sourceModel, model);
        if (cardJson is not null) File.WriteAllText(model + ".json", cardJson);
        return model;
    }

    /// <summary>
    /// The model's bytes with one more <c>metadata_props</c> entry (ModelProto field 14, a StringStringEntryProto of key 1 and
    /// value 2) appended: protobuf merges a repeated field that appears again at the end of a message.
    /// </summary>
    public static byte[] WithMetadata(string modelPath, string key, string value)
    {
        var entry = new List<byte>();
        Field(entry, 1, Encoding.UTF8.GetBytes(key));
        Field(entry, 2, Encoding.UTF8.GetBytes(value));
        var bytes = new List<byte>(File.ReadAllBytes(modelPath));
        Field(bytes, 14, entry.ToArray());
        return bytes.ToArray();

        static void Field(List<byte> dst, int number, byte[] payload)
        {
            Varint(dst, (ulong)(number << 3 | 2));
            Varint(dst, (ulong)payload.Length);
            dst.AddRange(payload);
        }

        static void Varint(List<byte> dst, ulong v)
        {
            while (v >= 0x80) { dst.Add((byte)(v | 0x80)); v >>= 7; }
            dst.Add((byte)v);
        }
    }

    /// <summary>Largest <c>|a - b| / (1 + |b|)</c> over all elements.</summary>
    public static double MaxRelativeError<TA, TB>(BatchTensor<TA> a, BatchTensor<TB> b)
        where TA : unmanaged, System.Numerics.IFloatingPointIeee754<TA>
        where TB : unmanaged, System.Numerics.IFloatingPointIeee754<TB>
    {
        double worst = 0;
        var sa = a.Span; var sb = b.Span;
        for (int i = 0; i < sa.Length; i++)
        {
            double x = double.CreateTruncating(sa[i]), y = double.CreateTruncating(sb[i]);
            double e = Math.Abs(x - y) / (1 + Math.Abs(y));
            if (!(e <= worst)) worst = double.IsNaN(e) ? double.PositiveInfinity : e;
        }
        return worst;
    }
}

/// <summary>
/// A hand-written ONNX graph (protobuf, opset 17) for what the mixture fixtures lack: a tensor condition and a <c>[batch, 1]</c>
/// time input. <c>y = x * cond + t</c> with <c>x, cond, y: float[batch, 3]</c> and <c>t: float[batch, 1]</c>.
/// </summary>
internal static class TinyGraph
{
    public static byte[] ConditionTimesSamplePlusTime()
    {
        var graph = new List<byte>();
        Message(graph, 1, Node(["x", "cond"], "xc", "Mul"));
        Message(graph, 1, Node(["xc", "t"], "y", "Add"));
        Bytes(graph, 2, "tiny");
        Message(graph, 11, Value("x", 3));
        Message(graph, 11, Value("t", 1));
        Message(graph, 11, Value("cond", 3));
        Message(graph, 12, Value("y", 3));
        var model = new List<byte>();
        Varint(model, 1 << 3); Varint(model, 8); // ir_version 8
        var opset = new List<byte>(); Bytes(opset, 1, ""); Varint(opset, 2 << 3); Varint(opset, 17);
        Message(model, 8, opset);
        Message(model, 7, graph);
        return model.ToArray();
    }

    private static List<byte> Node(string[] inputs, string output, string op)
    {
        var n = new List<byte>();
        foreach (var i in inputs) Bytes(n, 1, i);
        Bytes(n, 2, output);
        Bytes(n, 3, op + "_" + output);
        Bytes(n, 4, op);
        return n;
    }

    private static List<byte> Value(string name, int width)
    {
        var batch = new List<byte>(); Bytes(batch, 2, "batch");
        var w = new List<byte>(); Varint(w, 1 << 3); Varint(w, (ulong)width);
        var shape = new List<byte>(); Message(shape, 1, batch); Message(shape, 1, w);
        var tensor = new List<byte>(); Varint(tensor, 1 << 3); Varint(tensor, 1); Message(tensor, 2, shape); // elem_type FLOAT
        var type = new List<byte>(); Message(type, 1, tensor);
        var v = new List<byte>(); Bytes(v, 1, name); Message(v, 2, type);
        return v;
    }

    private static void Bytes(List<byte> dst, int field, string s) => Message(dst, field, System.Text.Encoding.UTF8.GetBytes(s).ToList());

    private static void Message(List<byte> dst, int field, List<byte> payload)
    {
        Varint(dst, (ulong)(field << 3 | 2));
        Varint(dst, (ulong)payload.Count);
        dst.AddRange(payload);
    }

    private static void Varint(List<byte> dst, ulong v)
    {
        while (v >= 0x80) { dst.Add((byte)(v | 0x80)); v >>= 7; }
        dst.Add((byte)v);
    }
}
