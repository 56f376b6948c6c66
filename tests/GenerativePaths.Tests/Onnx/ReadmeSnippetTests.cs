using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.OnnxRuntime;
using GenerativePaths.Samplers;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Onnx;

/// <summary>The "Real models" snippet of README.md, compiled and run (the model path made absolute), its digits checked by the judge.</summary>
public class ReadmeSnippetTests
{
    [Fact]
    public void RealModelSnippetRunsAndGivesTheAskedDigits()
    {
        using var model = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Model("digits-flow"));   // finds digits-flow.onnx.json
        var guided = new ClassifierFreeGuidance<float>(model, 2.0, ModelCondition.FromClasses(model.Card.UnconditionalClass!.Value));
        var schedule = model.CreateSchedule(10);
        using var x = BatchTensor<float>.Allocate(10, 64);
        new PhiloxNoise(seed: 0).Fill(x, stream: NoiseStreams.Start);                   // z; sigma_0 = 1 on this path
        SamplingLoop.Run(guided, x, schedule, model.Card.CreateDefaultSampler(),
            new SamplingOptions<float> { Condition = ModelCondition.FromClasses(0, 1, 2, 3, 4, 5, 6, 7, 8, 9) });

        Assert.Equal(1.0, schedule[0].Sigma);
        using var judge = OnnxClassifier.Load(OnnxTestFiles.Model("digits-judge"));
        var logits = new float[10 * judge.Classes];
        judge.Evaluate(x.Span, 10, logits);
        int right = 0;
        for (int r = 0; r < 10; r++)
        {
            var row = logits.AsSpan(r * 10, 10);
            if (row.IndexOf(TensorPrimitivesMax(row)) == r) right++;
        }
        Assert.True(right >= 9, $"{right} of 10 digits recognised");
    }

    private static float TensorPrimitivesMax(ReadOnlySpan<float> v) => System.Numerics.Tensors.TensorPrimitives.Max(v);
}
