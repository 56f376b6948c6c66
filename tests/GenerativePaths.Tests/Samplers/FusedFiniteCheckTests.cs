using GenerativePaths.Models;
using GenerativePaths.Samplers;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>
/// A NaN or infinity anywhere in any model output, at any evaluation (first, predictor, corrector, multistep, last step),
/// raises <see cref="NonFiniteModelOutputException"/> naming the step of that evaluation, its model time and the first bad sample,
/// also where the samplers fold the check into their update.
/// </summary>
public class FusedFiniteCheckTests
{
    private sealed class Injecting(IGenerativeModel<float> inner, int badCall, int badSample, int badElement, float badValue) : IGenerativeModel<float>
    {
        public int Calls, Step, BadStep = -1;
        public double BadTime = double.NaN;
        public Prediction Prediction => inner.Prediction;
        public void Evaluate(BatchTensor<float> x, ReadOnlySpan<double> t, in GenerativePaths.Models.ModelCondition condition, BatchTensor<float> output)
        {
            inner.Evaluate(x, t, condition, output);
            if (Calls++ != badCall) return;
            output.Row(badSample)[badElement] = badValue;
            BadStep = Step;
            BadTime = t[badSample]; // the bad row's own time (rows may sit at different points: per-sample adaptive steps)
        }
    }

    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        for (int k = 0; k < AllSamplers().Length; k++)
            foreach (int call in new[] { 0, 1, 2, 5, 7 })
                data.Add(k, call);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void BadModelValueAtAnyEvaluationNamesStepTimeAndSample(int k, int badCall)
    {
        var sampler = AllSamplers()[k];
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.95, 0.0, 9));
        var rng = new Random(k * 31 + badCall);
        float[] values = [float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        int badSample = rng.Next(1, 3), element = rng.Next(64);
        var inner = new GaussianMixtureModel<float>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        var model = new Injecting(new Wide(inner), badCall, badSample, element, values[rng.Next(3)]);
        using var x = BatchTensor<float>.Allocate(3, 64);
        new GenerativePaths.Noise.PhiloxNoise(5).Fill(x, 1);
        var state = new SamplerState<float>(model, schedule, x, new GenerativePaths.Noise.PhiloxNoise(9));
        var e = Assert.Throws<NonFiniteModelOutputException>(() =>
        {
            for (int i = 0; i < schedule.StepCount; i++)
            {
                model.Step = i;
                state.BeginStep(i);
                sampler.Step(state, i);
            }
        });
        Assert.True(model.BadStep >= 0, "the bad value was injected");
        Assert.Equal(model.BadStep, e.StepIndex);
        Assert.Equal(badSample, e.SampleIndex);
        Assert.Equal(model.BadTime, e.ModelTime);
        Assert.Equal(badCall + 1, model.Calls); // no evaluation after the bad one
    }

    [Fact]
    public void BadValueIsCaughtWhenTheDenoisedEstimateIsTracked()
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.95, 0.0, 6));
        var inner = new GaussianMixtureModel<float>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        foreach (var sampler in new Sampler[] { new EulerSampler(), new HeunSampler(), new DpmSolverPlusPlus2MSampler(), new DdimSampler() })
        {
            var model = new Injecting(new Wide(inner), 3, 1, 17, float.NaN);
            using var x = BatchTensor<float>.Allocate(2, 64);
            new GenerativePaths.Noise.PhiloxNoise(5).Fill(x, 1);
            int steps = 0;
            var options = new SamplingOptions<float> { OnStep = (i, _, _, _) => model.Step = ++steps };
            var e = Assert.Throws<NonFiniteModelOutputException>(() => SamplingLoop.Run(model, x, schedule, sampler, null, options));
            Assert.Equal(model.BadStep, e.StepIndex);
            Assert.Equal(1, e.SampleIndex);
        }
    }

    /// <summary>The 4-dimensional mixture model applied to each block of 4 of a 64-wide row (so rows span several vectors).</summary>
    private sealed class Wide(IGenerativeModel<float> inner) : IGenerativeModel<float>
    {
        public Prediction Prediction => inner.Prediction;
        public void Evaluate(BatchTensor<float> x, ReadOnlySpan<double> t, in GenerativePaths.Models.ModelCondition condition, BatchTensor<float> output)
        {
            int b = x.BatchSize, blocks = x.RowLength / 4;
            using var xi = BatchTensor<float>.Allocate(b * blocks, 4);
            using var oi = BatchTensor<float>.Allocate(b * blocks, 4);
            var ti = new double[b * blocks];
            for (int s = 0; s < b; s++)
                for (int j = 0; j < blocks; j++)
                {
                    x.Row(s).Slice(4 * j, 4).CopyTo(xi.Row(s * blocks + j));
                    ti[s * blocks + j] = t[s];
                }
            inner.Evaluate(xi, ti, oi);
            for (int s = 0; s < b; s++)
                for (int j = 0; j < blocks; j++)
                    oi.Row(s * blocks + j).CopyTo(output.Row(s).Slice(4 * j, 4));
        }
    }
}
