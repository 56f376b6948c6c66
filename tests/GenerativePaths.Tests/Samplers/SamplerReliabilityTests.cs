using System.Numerics;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>
/// The driver checks its own state: a non-finite start or an update that overflows raises <see cref="NonFiniteStateException"/>
/// (naming step, time and sample), the model is blamed only for its own output, and no sampler divides by zero on repeated
/// or <c>alpha = 0</c> points.
/// </summary>
public class SamplerReliabilityTests
{
    /// <summary>A model that ignores <c>x</c> and writes one constant.</summary>
    private sealed class ConstantModel<T>(Prediction prediction, T value) : IGenerativeModel<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Prediction Prediction => prediction;
        public void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<T> output) => output.Span.Fill(value);
    }

    /// <summary>Every sampler of the library, with stochastic and multistep variants.</summary>
    public static Sampler[] EverySampler() =>
    [
        .. AllSamplers(), new DpmSolver2Sampler(), new DpmSolver2Sampler(sChurn: 1.0), new HeunSampler(sChurn: 1.0), new LmsSampler(), new LmsSampler(2, denoisedFinalStep: true),
        new UniPcSampler(), new UniPcSampler(3, UniPcVariant.Bh1), new DdimSampler(eta: 0.5), new EulerAncestralSampler(),
        new FlowMatchEulerSampler(stochastic: true),
        new DpmSolverAdaptiveSampler(), new DpmSolverAdaptiveSampler(order: 2, eta: 1.0, control: AdaptiveStepControl.PerSample), new DpmSolverPlusPlus3MSdeSampler(eta: 0),
    ];

    public static TheoryData<int> SamplerIndices()
    {
        var data = new TheoryData<int>();
        for (int k = 0; k < EverySampler().Length; k++) data.Add(k);
        return data;
    }

    private static BatchTensor<float> NanStart(int batch, int dim, int badSample)
    {
        var x = BatchTensor<float>.Allocate(batch, dim);
        x.Span.Fill(0.5f);
        x.Row(badSample)[dim - 1] = float.NaN;
        return x;
    }

    [Theory, MemberData(nameof(SamplerIndices))]
    public void NanStartWithModelIgnoringXRaisesStateException(int k)
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.9, 0.0, 6));
        var model = new ConstantModel<float>(Prediction.Data, 0.25f);
        var ex = Assert.Throws<NonFiniteStateException>(() => SamplingLoop.Run(model, NanStart(3, 4, 2), schedule, EverySampler()[k], new PhiloxNoise(1)));
        Assert.True(ex.IsInitialState);
        Assert.Equal(2, ex.SampleIndex);
        Assert.Equal(0, ex.StepIndex);
        Assert.Equal(schedule[0].ModelTime, ex.ModelTime);
        Assert.Contains("initial state", ex.Message);
    }

    [Theory, MemberData(nameof(SamplerIndices))]
    public void NanStartWithModelReadingXIsNotBlamedOnTheModel(int k)
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.9, 0.0, 6));
        var model = new GaussianMixtureModel<float>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        var ex = Assert.Throws<NonFiniteStateException>(() => SamplingLoop.Run(model, NanStart(3, 4, 1), schedule, EverySampler()[k], new PhiloxNoise(1)));
        Assert.True(ex.IsInitialState);
        Assert.Equal(1, ex.SampleIndex);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void FloatEpsilonModelWhoseUpdateOverflowsUnderDdimBlamesTheUpdate(double eta)
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.999, 0.0, 5));
        var model = new ConstantModel<float>(Prediction.Epsilon, 1e38f);
        var x = BatchTensor<float>.Allocate(2, 4);
        x.Span.Fill(1f);
        var ex = Assert.Throws<NonFiniteStateException>(() => SamplingLoop.Run(model, x, schedule, new DdimSampler(eta), new PhiloxNoise(3)));
        Assert.False(ex.IsInitialState);
        Assert.Equal(0, ex.StepIndex);
        Assert.Equal(schedule[0].ModelTime, ex.ModelTime);
        Assert.Equal(0, ex.SampleIndex);
        Assert.Contains("model output was finite", ex.Message);
    }

    [Theory, MemberData(nameof(SamplerIndices))]
    public void OverflowingUpdateIsBlamedOnTheStateForEverySampler(int k)
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.999, 0.0, 7));
        var model = new ConstantModel<float>(Prediction.Epsilon, 1e38f);
        var x = BatchTensor<float>.Allocate(2, 4);
        x.Span.Fill(1f);
        var ex = Record.Exception(() => SamplingLoop.Run(model, x, schedule, EverySampler()[k], new PhiloxNoise(3)));
        // A sampler whose update stays finite is fine too; a non-finite sample never comes back silently.
        if (ex is null) Assert.True(x.Span.ToArray().All(float.IsFinite));
        else Assert.IsType<NonFiniteStateException>(ex);
    }

    [Theory, MemberData(nameof(SamplerIndices))]
    public void KarrasPlanWithTinySigmaMinIsFinite(int k)
    {
        var schedule = StepSchedules.Karras(12, 1e-200, 80);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.VarianceExploding());
        var x = Normals(3, 4, 7);
        for (int i = 0; i < x.Span.Length; i++) x.Span[i] *= 80;
        var sampler = EverySampler()[k];
        var ex = Record.Exception(() => SamplingLoop.Run(model, x, schedule, sampler, new PhiloxNoise(5)));
        // The sampler's own arithmetic stays finite; the exact epsilon model itself can return infinity at sigma = 1e-200
        // (its output is then reported as the model's); DDPM must finish with a finite sample.
        if (ex is null || sampler is DdpmSampler) Assert.Null(ex);
        else Assert.IsType<NonFiniteModelOutputException>(ex);
        if (ex is null) Assert.True(x.Span.ToArray().All(double.IsFinite));
    }

    public static TheoryData<int, int> SamplerAndPlan()
    {
        var data = new TheoryData<int, int>();
        for (int k = 0; k < EverySampler().Length; k++)
            for (int p = 0; p < DegeneratePlans.Length; p++)
                data.Add(k, p);
        return data;
    }

    private static readonly double[][] DegeneratePlans =
    [
        [1, 1, 0.5, 0],
        [1, 1, 1, 0.5, 0.5, 0.2, 0],
        [1, 0.7, 0.7, 0.7, 0.3, 0],
        [0.6, 0.6, 0, 0, 0],
        [1, 0, 0],
        [0.5, 0],
        [1, 1],
    ];

    [Theory, MemberData(nameof(SamplerAndPlan))]
    public void EverySamplerIsFiniteOnRepeatedAndAlphaZeroFlowPoints(int k, int p)
    {
        var schedule = StepSchedules.FromFlowSigmas(DegeneratePlans[p]);
        foreach (var prediction in new[] { Prediction.FlowVelocity, Prediction.Data, Prediction.Velocity })
        {
            var model = new GaussianMixtureModel<double>(Mix, prediction, ModelTimeMaps.RectifiedFlow());
            var x = Normals(3, 4, 11);
            SamplingLoop.Run(model, x, schedule, EverySampler()[k], new PhiloxNoise(9));
            Assert.True(x.Span.ToArray().All(double.IsFinite), $"{EverySampler()[k].Name} with {prediction} on [{string.Join(", ", DegeneratePlans[p])}]");
        }
    }

    [Theory, MemberData(nameof(SamplerIndices))]
    public void ZeroLengthStepIsTheIdentity(int k)
    {
        // A repeated alpha = 0 point (x is pure noise at both ends): the step leaves x unchanged.
        var schedule = StepSchedules.FromFlowSigmas([1, 1, 0.5, 0]);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.FlowVelocity, ModelTimeMaps.RectifiedFlow());
        var sampler = EverySampler()[k];
        // The stochastic flow-matching step re-draws the noise by design (x' = alpha' x0hat + sigma' z), also on a repeated point.
        if (sampler is FlowMatchEulerSampler { Stochastic: true }) return;
        var x = Normals(2, 4, 13);
        var before = x.Span.ToArray();
        var state = new SamplerState<double>(model, schedule, x, new PhiloxNoise(2));
        state.BeginStep(0);
        sampler.Step(state, 0);
        Assert.Equal(before, x.Span.ToArray());
    }

    [Theory, MemberData(nameof(SamplerIndices))]
    public void EverySamplerIsFiniteOnRepeatedVpPoints(int k)
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, [0.95, 0.95, 0.6, 0.6, 0.6, 0.2, 0.0, 0.0]);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        var x = Normals(3, 4, 17);
        SamplingLoop.Run(model, x, schedule, EverySampler()[k], new PhiloxNoise(4));
        Assert.True(x.Span.ToArray().All(double.IsFinite));
    }

    [Fact]
    public void LmsDenoisedFinalStepFromATinySigmaDoesNotFormTheOverflowingSlope()
    {
        // Found by the fuzz suite: the final step to sigma = 0 formed (x - alpha x0hat) / sigma, which overflows float at 1e-200, and never used it.
        var schedule = StepSchedules.Karras(2, 1e-200, 1);
        var model = new GaussianMixtureModel<float>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        var x = BatchTensor<float>.Allocate(2, 4);
        x.Span.Fill(0.3f);
        SamplingLoop.Run(model, x, schedule, new LmsSampler(2, denoisedFinalStep: true));
        Assert.True(x.Span.ToArray().All(float.IsFinite));
    }

    [Fact]
    public void LmsCoefficientsStayFiniteOnTinyNodes()
    {
        // Found by the fuzz suite: the Lagrange integrals multiply node differences (~1e-124 cubed underflows to 0, then 0/0).
        var schedule = StepSchedules.PolyExponential(44, 1e-200, 0.8, 1.5);
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Velocity, ModelTimeMaps.VarianceExploding());
        var x = Normals(2, 4, 21);
        SamplingLoop.Run(model, x, schedule, new LmsSampler());
        Assert.True(x.Span.ToArray().All(double.IsFinite));
        Span<double> w = stackalloc double[3];
        LmsSampler.ScaledLagrangeIntegrals([3e-124, 2e-124, 1e-124], 3e-124, 2.5e-124, w);
        Span<double> plain = stackalloc double[3];
        LmsSampler.LagrangeIntegrals([3.0, 2.0, 1.0], 3.0, 2.5, plain);
        for (int j = 0; j < 3; j++) Assert.Equal(plain[j] * 1e-124, w[j], 1e-136);
    }
}
