using System.Security.Cryptography;
using System.Text.Json.Nodes;
using GenerativePaths.Models;
using GenerativePaths.OnnxRuntime;
using GenerativePaths.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace GenerativePaths.Tests.Onnx;

/// <summary>How the adapter finds a card, checks it against the graph, and what a steady-state call allocates.</summary>
public class OnnxLoadingTests(ITestOutputHelper output)
{
    private static string CardText(string fixture) => File.ReadAllText(OnnxTestFiles.Fixture(fixture) + ".json");

    private static string Edit(string fixture, Action<JsonObject> edit)
    {
        var j = (JsonObject)JsonNode.Parse(CardText(fixture))!;
        edit(j);
        return j.ToJsonString();
    }

    private static void Cleanup(string model) => Directory.Delete(Path.GetDirectoryName(model)!, true);

    [Fact]
    public void CardFromExplicitPathBesideTheModelOrMetadata()
    {
        string src = OnnxTestFiles.Fixture("gmm-ve-x0");
        // Explicit path wins over the card beside the model.
        string beside = OnnxTestFiles.WithCard(src, Edit("gmm-ve-x0", j => j["output"] = "wrong"));
        try
        {
            using var m = OnnxGenerativeModel<float>.Load(beside, cardPath: src + ".json");
            Assert.Equal("x0", m.Card.Output);
            Assert.Throws<ModelCardException>(() => OnnxGenerativeModel<float>.Load(beside));
        }
        finally { Cleanup(beside); }

        // No card beside: the card stored in metadata_props "gpaths".
        string meta = OnnxTestFiles.WithCard(src, null, modelBytes: OnnxTestFiles.WithMetadata(src, "gpaths", CardText("gmm-ve-x0")));
        try
        {
            using var m = OnnxGenerativeModel<float>.Load(meta);
            Assert.Contains("metadata_props 'gpaths'", m.Card.SourceName);
            using var x = BatchTensor<float>.Allocate(2, 3);
            using var o = BatchTensor<float>.Allocate(2, 3);
            m.Evaluate(x, [1.0, 2.0], o);
        }
        finally { Cleanup(meta); }

        // Neither: a clear error naming the three places.
        string none = OnnxTestFiles.WithCard(src, null);
        try
        {
            var e = Assert.Throws<ModelCardException>(() => OnnxGenerativeModel<float>.Load(none));
            Assert.Contains("metadata_props", e.Message);
            Assert.Contains("model.onnx.json", e.Message);
        }
        finally { Cleanup(none); }

        Assert.Throws<FileNotFoundException>(() => OnnxGenerativeModel<float>.Load(Path.Combine(Path.GetTempPath(), "no-such-model.onnx")));
    }

    public static TheoryData<string, string, string, string> Disagreements => new()
    {
        // fixture, key, new value (JSON), expected key in the error | a word the message must contain
        { "gmm-ve-x0", "inputs", """{"sample": "latent", "time": "t"}""", "inputs.sample|'x', 't'" },
        { "gmm-ve-x0", "inputs", """{"sample": "x", "time": "sigma"}""", "inputs.time|'x', 't'" },
        { "gmm-ve-x0", "output", "\"denoised\"", "output|'x0'" },
        { "gmm-ve-x0", "sample_shape", "[4]", "sample_shape|[?, 3]" },
        { "gmm-ve-x0", "sample_shape", "[3, 1]", "inputs.sample|rank" },
        { "gmm-ve-x0", "inputs", """{"sample": "x", "time": "t", "class": "c"}""", "classes|classes" },
    };

    [Theory, MemberData(nameof(Disagreements))]
    public void CardThatDisagreesWithTheGraphIsNamed(string fixture, string key, string value, string expect)
    {
        var parts = expect.Split('|');
        string card = Edit(fixture, j => j[key] = JsonNode.Parse(value));
        string model = OnnxTestFiles.WithCard(OnnxTestFiles.Fixture(fixture), card);
        try
        {
            var e = Assert.Throws<ModelCardException>(() => OnnxGenerativeModel<float>.Load(model));
            output.WriteLine(e.Message);
            Assert.Equal(parts[0], e.Key);
            Assert.Contains(parts[1], e.Message);
        }
        finally { Cleanup(model); }
    }

    [Fact]
    public void ClassGraphWithUnconditionalCardIsRefused()
    {
        string src = OnnxTestFiles.Model("gmm-denoiser");
        string card = Edit("gmm-ve-x0", _ => { });
        string model = OnnxTestFiles.WithCard(src, card);
        try
        {
            var e = Assert.Throws<ModelCardException>(() => OnnxGenerativeModel<float>.Load(model));
            Assert.Equal("inputs.class", e.Key);
            Assert.Contains("'c'", e.Message);
        }
        finally { Cleanup(model); }
    }

    [Fact]
    public void NamedInputsAndClassifierCardOnADenoiserAreHandled()
    {
        using var named = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Fixture("gmm-ve-x0-named"));
        Assert.Equal("latent", named.Card.SampleInput);
        Assert.Equal("sigma_in", named.Card.TimeInput);
        Assert.Equal("denoised", named.Card.Output);
        var e = Assert.Throws<ModelCardException>(() => OnnxClassifier.Load(OnnxTestFiles.Fixture("gmm-ve-x0")));
        Assert.Equal("kind", e.Key);
    }

    [Fact]
    public void CudaWithoutTheGpuPackageIsAClearError()
    {
        var e = Record.Exception(() => OnnxGenerativeModel<float>.Load(OnnxTestFiles.Fixture("gmm-ve-x0"), options: new OnnxModelOptions { UseCuda = true }));
        if (e is null) return; // a GPU build of ONNX Runtime with a device: nothing to check
        output.WriteLine(e.Message);
        Assert.IsType<InvalidOperationException>(e);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", e.Message);
    }

    /// <summary>After warm-up, repeated calls on the same buffers allocate nothing on the managed heap (zero copy, bound outputs).</summary>
    [Theory]
    [InlineData("gmm-ve-x0", 1, 0)]
    [InlineData("gmm-ve-x0", 64, 0)]
    [InlineData("gmm-edm-F", 64, 0)]
    [InlineData("gmm-ve-x0-fp16", 64, 0)]
    [InlineData("gmm-vp-v", 16, 0)]
    [InlineData("gmm-ve-x0", 64, 16)]
    public void SteadyStateAllocatesNothing(string fixture, int batch, int maxBatch)
    {
        using var model = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Fixture(fixture), options: new OnnxModelOptions { MaxBatch = maxBatch == 0 ? null : maxBatch });
        var times = model.CreateSchedule(10).Points.Where(p => p.Sigma > 0).Select(p => p.ModelTime).ToArray();
        var t = Enumerable.Range(0, batch).Select(i => times[i % times.Length]).ToArray();
        using var x = BatchTensor<float>.Allocate(batch, 3);
        using var y = BatchTensor<float>.Allocate(batch, 3);
        using var o1 = BatchTensor<float>.Allocate(batch, 3);
        using var o2 = BatchTensor<float>.Allocate(batch, 3);
        x.Span.Fill(0.5f); y.Span.Fill(-0.25f);
        for (int i = 0; i < 3; i++) { model.Evaluate(x, t, o1); model.Evaluate(y, t, o2); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) { model.Evaluate(x, t, o1); model.Evaluate(y, t, o2); }
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"{fixture} batch {batch} max {maxBatch}: {bytes} bytes over 200 calls");
        Assert.Equal(0, bytes);
    }

    /// <summary><c>models/SHA256SUMS</c> lists every shipped file with its hash, and every shipped card loads against its graph.</summary>
    [Fact]
    public void ShippedModelsMatchTheManifestAndLoad()
    {
        string dir = OnnxTestFiles.Models;
        string manifest = Path.Combine(dir, "SHA256SUMS");
        Assert.True(File.Exists(manifest), $"{manifest} is missing");
        var listed = new HashSet<string>();
        foreach (var line in File.ReadAllLines(manifest).Where(l => l.Trim().Length > 0))
        {
            var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries);
            Assert.True(parts.Length == 2, $"bad manifest line '{line}'");
            string file = parts[1].TrimStart('*', ' ');
            string path = Path.Combine(dir, file);
            Assert.True(File.Exists(path), $"{file} is listed in SHA256SUMS but missing");
            using var s = File.OpenRead(path);
            Assert.Equal(parts[0].ToLowerInvariant(), Convert.ToHexStringLower(SHA256.HashData(s)));
            listed.Add(file);
        }
        foreach (var onnx in Directory.GetFiles(dir, "*.onnx"))
        {
            string name = Path.GetFileName(onnx);
            Assert.Contains(name, listed);
            Assert.Contains(name + ".json", listed);
            var card = ModelCard.Load(onnx + ".json");
            switch (card.Kind)
            {
                case ModelCardKind.Denoiser:
                    using (var m = OnnxGenerativeModel<float>.Load(onnx)) Assert.Equal(card.Prediction, m.Prediction);
                    break;
                case ModelCardKind.Classifier:
                    using (var c = OnnxClassifier.Load(onnx)) Assert.Equal(card.Classes, c.Classes);
                    break;
                case ModelCardKind.CausalLm:
                    Assert.Contains(Path.GetFileName(card.VocabularyPath!), listed);
                    using (var lm = OnnxCausalLm.Load(onnx)) Assert.True(lm.VocabularySize > 1);
                    break;
                default:
                    Assert.Fail($"{name}: a shipped model of kind {card.Kind} that this test does not load");
                    break;
            }
        }
    }

    [Fact]
    public void DigitsJudgeClassifies()
    {
        using var judge = OnnxClassifier.Load(OnnxTestFiles.Model("digits-judge"));
        Assert.Equal(10, judge.Classes);
        int rows = 5, len = judge.SampleLength;
        var x = new float[rows * len];
        for (int i = 0; i < x.Length; i++) x[i] = MathF.Sin(i * 0.37f);
        var logits = new float[rows * judge.Classes];
        var features = new float[rows * judge.FeatureLength];
        judge.Evaluate(x, rows, logits, judge.FeatureLength > 0 ? features : default);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
        // Rows are independent: one row alone gives the same logits as inside the batch.
        var one = new float[judge.Classes];
        judge.Evaluate(x.AsSpan(2 * len, len), 1, one);
        for (int k = 0; k < judge.Classes; k++) Assert.Equal(logits[2 * judge.Classes + k], one[k], 4);
        using var split = OnnxClassifier.Load(OnnxTestFiles.Model("digits-judge"), options: new OnnxModelOptions { MaxBatch = 2 });
        var logits2 = new float[rows * judge.Classes];
        split.Evaluate(x, rows, logits2);
        for (int i = 0; i < logits.Length; i++) Assert.Equal(logits[i], logits2[i], 4);
    }
}
