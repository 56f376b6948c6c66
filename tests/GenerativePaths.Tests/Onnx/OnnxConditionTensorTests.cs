using GenerativePaths.Models;
using GenerativePaths.OnnxRuntime;
using GenerativePaths.Tensors;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace GenerativePaths.Tests.Onnx;

/// <summary>Tensor conditions and a <c>[batch, 1]</c> time input, on a hand-written graph <c>y = x * cond + t</c> (oracle: that formula).</summary>
public class OnnxConditionTensorTests
{
    private const string Card = """
    {"format": "gpaths-model/1", "kind": "denoiser", "inputs": {"sample": "x", "time": "t", "condition": "cond"},
     "output": "y", "prediction": "x0", "path": {"kind": "ve", "sigma_min": 0.01, "sigma_max": 10}, "sample_shape": [3]}
    """;

    private static OnnxGenerativeModel<float> Model(int? maxBatch = null)
        => new(new InferenceSession(TinyGraph.ConditionTimesSamplePlusTime()), ModelCard.Parse(Card, null, "tiny.onnx.json"), new OnnxModelOptions { MaxBatch = maxBatch }, ownsSession: true);

    [Theory]
    [InlineData(null)]
    [InlineData(2)]
    public void ConditionRowsTravelWithTheirSamples(int? maxBatch)
    {
        using var model = Model(maxBatch);
        const int b = 5;
        using var x = BatchTensor<float>.Allocate(b, 3);
        using var o = BatchTensor<float>.Allocate(b, 3);
        var cond = new float[b * 3];
        for (int i = 0; i < x.Length; i++) { x.Span[i] = 0.25f * i - 1; cond[i] = 1.5f - 0.125f * i; }
        double[] t = [0.5, 1, 2, 4, 8];
        model.Evaluate(x, t, ModelCondition.FromTensor(cond, b, 3), o);
        for (int r = 0; r < b; r++)
            for (int k = 0; k < 3; k++)
                Assert.Equal(x.Row(r)[k] * cond[r * 3 + k] + (float)t[r], o.Row(r)[k], 6);
        for (int i = 0; i < 3; i++) model.Evaluate(x, t, ModelCondition.FromTensor(cond, b, 3), o);
        var c = ModelCondition.FromTensor(cond, b, 3); // (the factory copies the row shape, once)
        long afterCondition = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) model.Evaluate(x, t, c, o);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - afterCondition);
    }

    [Fact]
    public void MissingOrWrongConditionIsExplained()
    {
        using var model = Model();
        using var x = BatchTensor<float>.Allocate(2, 3);
        using var o = BatchTensor<float>.Allocate(2, 3);
        Assert.Contains("ModelCondition.FromTensor", Assert.Throws<ArgumentException>(() => model.Evaluate(x, [1.0, 1.0], o)).Message);
        Assert.Throws<ArgumentException>(() => model.Evaluate(x, [1.0, 1.0], ModelCondition.FromClasses(0, 1), o));
        Assert.Contains("shape", Assert.Throws<ArgumentException>(() => model.Evaluate(x, [1.0, 1.0], ModelCondition.FromTensor(new float[8], 2, 4), o)).Message);
    }

    [Fact]
    public void GuidanceWithAnEmptyEmbedding()
    {
        using var model = Model();
        // Unconditional embedding: zeros, so the unconditional output is t; guided = t + w * (x * cond).
        var guided = new ClassifierFreeGuidance<float>(model, 3.0, ModelCondition.FromTensor(new float[3], 1, 3));
        using var x = BatchTensor<float>.Allocate(2, 3);
        using var o = BatchTensor<float>.Allocate(2, 3);
        x.Span.Fill(2f);
        var cond = new float[] { 1, 2, 3, -1, -2, -3 };
        guided.Evaluate(x, [1.0, 0.5], ModelCondition.FromTensor(cond, 2, 3), o);
        for (int r = 0; r < 2; r++)
            for (int k = 0; k < 3; k++)
                Assert.Equal((r == 0 ? 1f : 0.5f) + 3f * 2f * cond[r * 3 + k], o.Row(r)[k], 5);
    }
}
