using GenerativePaths.Models;
using GenerativePaths.OnnxRuntime;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace GenerativePaths.Tests.Onnx;

/// <summary>
/// The adapter against the exact Gaussian-mixture model built from each fixture card's <c>"mixture"</c>: every prediction type
/// and time encoding, at many times and batch sizes, split or not, through whole sampling runs, guidance, float16 and double.
/// </summary>
public class OnnxGenerativeModelTests(ITestOutputHelper output)
{
    public static TheoryData<string> Float32Fixtures => new()
    {
        "gmm-ve-x0", "gmm-ve-score", "gmm-edm-F", "gmm-vp-eps", "gmm-vp-v", "gmm-flow-n1", "gmm-flow-n0", "gmm-cvp-eps", "gmm-ve-x0-named",
    };

    /// <summary>Model times to test a card at: the points of its 12-step plan before the end (several noise levels, integer
    /// timesteps for discrete cards), plus fractional timesteps where the graph takes a float time.</summary>
    private static double[] TimesFor(ModelCard card, bool fractional)
    {
        var s = card.CreateSchedule(12);
        var times = s.Points.Take(s.StepCount).Where(p => p.Sigma > 0).Select(p => p.ModelTime).ToList();
        if (card.PathKind == CardPathKind.DiscreteVp && fractional) times.AddRange([17.25, 402.5, 998.75]);
        return times.ToArray();
    }

    private static (BatchTensor<float> X, double[] Times) Batch(ModelCard card, GaussianMixture mixture, double[] times, int batch, int seed)
    {
        var t = Enumerable.Range(0, batch).Select(i => times[(i * 5 + seed) % times.Length]).ToArray();
        var x = OnnxTestFiles.NoisySamples<float>(mixture, t.Select(card.TimeMap).ToArray(), seed);
        return (x, t);
    }

    [Theory, MemberData(nameof(Float32Fixtures))]
    public void EqualsExactMixtureAtEveryTimeAndBatchSize(string name)
    {
        using var model = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Fixture(name));
        var card = model.Card;
        var oracle = OnnxTestFiles.Oracle<double>(card);
        Assert.Equal(oracle.Prediction, model.Prediction);
        var times = TimesFor(card, fractional: name == "gmm-vp-eps");
        double worst = 0;
        for (int batch = 1; batch <= 9; batch++)
        {
            var (x, t) = Batch(card, oracle.Mixture, times, batch, batch);
            using var xd = BatchTensor<double>.Allocate(batch, x.SampleShape.ToArray());
            for (int i = 0; i < x.Length; i++) xd.Span[i] = x.Span[i];
            using var got = BatchTensor<float>.AllocateLike(x);
            using var want = BatchTensor<double>.AllocateLike(x);
            model.Evaluate(x, t, got);
            oracle.Evaluate(xd, t, want);
            worst = Math.Max(worst, OnnxTestFiles.MaxRelativeError(got, want));
            x.Dispose();
        }
        output.WriteLine($"{name}: max |onnx - exact| / (1 + |exact|) = {worst:E2}");
        Assert.True(worst <= 1e-5, $"{name}: max relative error {worst:E3} > 1e-5");
    }

    [Theory, MemberData(nameof(Float32Fixtures))]
    public void MaxBatchSplittingChangesNothing(string name)
    {
        string path = OnnxTestFiles.Fixture(name);
        using var whole = OnnxGenerativeModel<float>.Load(path);
        using var split = OnnxGenerativeModel<float>.Load(path, options: new OnnxModelOptions { MaxBatch = 4 });
        Assert.Equal(4, split.MaxBatch);
        var mixture = OnnxTestFiles.Mixture(whole.Card);
        var times = TimesFor(whole.Card, false);
        foreach (int batch in new[] { 1, 4, 5, 9, 13 })
        {
            var (x, t) = Batch(whole.Card, mixture, times, batch, 7 + batch);
            using var a = BatchTensor<float>.AllocateLike(x);
            using var b = BatchTensor<float>.AllocateLike(x);
            whole.Evaluate(x, t, a);
            split.Evaluate(x, t, b);
            Assert.Equal(a.Span.ToArray(), b.Span.ToArray());
            x.Dispose();
        }
    }

    [Fact]
    public void DoubleTensorsConvertAtTheBoundary()
    {
        using var model = OnnxGenerativeModel<double>.Load(OnnxTestFiles.Fixture("gmm-edm-F"));
        var oracle = OnnxTestFiles.Oracle<double>(model.Card);
        var times = TimesFor(model.Card, false);
        var levels = Enumerable.Range(0, 7).Select(i => model.Card.TimeMap(times[i % times.Length])).ToArray();
        using var x = OnnxTestFiles.NoisySamples<double>(oracle.Mixture, levels, 3);
        var t = Enumerable.Range(0, 7).Select(i => times[i % times.Length]).ToArray();
        using var got = BatchTensor<double>.AllocateLike(x);
        using var want = BatchTensor<double>.AllocateLike(x);
        model.Evaluate(x, t, got);
        oracle.Evaluate(x, t, want);
        Assert.True(OnnxTestFiles.MaxRelativeError(got, want) <= 1e-5);
    }

    [Fact]
    public void Float16GraphConvertsAtTheBoundary()
    {
        using var model = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Fixture("gmm-ve-x0-fp16"));
        Assert.True(model.IsFloat16);
        var oracle = OnnxTestFiles.Oracle<double>(model.Card);
        // float16 carries 11 significant bits (relative spacing 2^-10 ~ 1e-3); the graph computes in float16 too.
        var times = new[] { 0.05, 0.3, 1.0, 4.0, 20.0 };
        var t = Enumerable.Range(0, 10).Select(i => times[i % times.Length]).ToArray();
        using var x = OnnxTestFiles.NoisySamples<float>(oracle.Mixture, t.Select(model.Card.TimeMap).ToArray(), 11);
        using var xd = BatchTensor<double>.Allocate(10, 3);
        for (int i = 0; i < x.Length; i++) xd.Span[i] = x.Span[i];
        using var got = BatchTensor<float>.AllocateLike(x);
        using var want = BatchTensor<double>.AllocateLike(x);
        model.Evaluate(x, t, got);
        oracle.Evaluate(xd, t, want);
        double err = OnnxTestFiles.MaxRelativeError(got, want);
        output.WriteLine($"fp16: max relative error {err:E2}");
        Assert.True(err <= 2e-2, $"fp16 error {err}");
        using var d = OnnxGenerativeModel<double>.Load(OnnxTestFiles.Fixture("gmm-ve-x0-fp16"));
        using var gotD = BatchTensor<double>.AllocateLike(xd);
        d.Evaluate(xd, t, gotD);
        Assert.True(OnnxTestFiles.MaxRelativeError(gotD, want) <= 2e-2);
    }

    public static TheoryData<string, string> SamplingRuns => new()
    {
        { "gmm-vp-eps", "ddim" },
        { "gmm-vp-v", "ddim" },
        { "gmm-flow-n0", "euler" },
        { "gmm-flow-n1", "flow_euler" },
        { "gmm-edm-F", "heun" },
        { "gmm-ve-score", "euler" },
        { "gmm-cvp-eps", "ddim" },
    };

    [Theory, MemberData(nameof(SamplingRuns))]
    public void SamplingRunEqualsManagedRunOnExactModel(string name, string samplerName)
    {
        using var model = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Fixture(name));
        var exact = OnnxTestFiles.Oracle<float>(model.Card);
        Sampler sampler = samplerName switch
        {
            "ddim" => new DdimSampler(),
            "euler" => new EulerSampler(),
            "heun" => new HeunSampler(),
            _ => new FlowMatchEulerSampler(),
        };
        var schedule = model.CreateSchedule(16);
        var start = schedule[0];
        using var xa = OnnxTestFiles.NoisySamples<float>(exact.Mixture, Enumerable.Repeat(new NoiseLevel(start.Alpha, start.Sigma), 6).ToArray(), 5);
        using var xb = xa.Clone();
        var ra = SamplingLoop.Run(model, xa, schedule, sampler);
        var rb = SamplingLoop.Run(exact, xb, schedule, sampler);
        Assert.Equal(rb.Statistics.ModelEvaluations, ra.Statistics.ModelEvaluations);
        double err = OnnxTestFiles.MaxRelativeError(xa, xb);
        output.WriteLine($"{name}/{samplerName}: {ra.Statistics.ModelEvaluations} evaluations, max relative difference {err:E2}");
        Assert.True(err <= 1e-4, $"{name}: {err}");
    }

    [Fact]
    public void DefaultSamplerRunsOnEveryFixture()
    {
        foreach (string name in new[] { "gmm-ve-x0", "gmm-ve-score", "gmm-edm-F", "gmm-vp-eps", "gmm-vp-v", "gmm-flow-n1", "gmm-flow-n0", "gmm-cvp-eps", "gmm-ve-x0-named" })
        {
            using var model = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Fixture(name));
            var schedule = model.CreateSchedule(8);
            using var x = BatchTensor<float>.Allocate(3, 3);
            x.Span.Fill((float)schedule[0].Sigma * 0.5f);
            SamplingLoop.Run(model, x, schedule, model.Card.CreateDefaultSampler());
            Assert.True(x.Span.ToArray().All(float.IsFinite), name);
        }
    }

    private static (OnnxGenerativeModel<float> Onnx, GaussianMixtureModel<float> Exact) ClassModels()
    {
        var onnx = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Model("gmm-denoiser"));
        var mix = OnnxTestFiles.Mixture(onnx.Card);
        var exact = GaussianMixtureModel<float>.ClassConditional(
            Enumerable.Range(0, mix.ComponentCount).Select(mix.Component).ToArray(), mix, onnx.Card.UnconditionalClass!.Value, onnx.Card.Prediction, onnx.Card.TimeMap);
        return (onnx, exact);
    }

    [Theory]
    [InlineData(GuidanceBatchOrder.UnconditionalFirst)]
    [InlineData(GuidanceBatchOrder.ConditionalFirst)]
    public void ClassConditionalGuidanceEqualsExactGuidance(GuidanceBatchOrder order)
    {
        var (onnx, exact) = ClassModels();
        using var _ = onnx;
        Assert.Equal(3, onnx.Card.Classes);
        var uncond = ModelCondition.FromClasses(onnx.Card.UnconditionalClass!.Value);
        var a = new ClassifierFreeGuidance<float>(onnx, 2.5, uncond, order);
        var b = new ClassifierFreeGuidance<float>(exact, 2.5, uncond, order);
        int[] labels = [0, 1, 2, 0, 3, 2, 1];
        var cond = ModelCondition.FromClasses(labels);
        double[] t = [0.1, 0.5, 1.0, 2.0, 5.0, 0.02, 30.0];
        using var x = OnnxTestFiles.NoisySamples<float>(exact.Mixture, t.Select(onnx.Card.TimeMap).ToArray(), 2);
        using var ga = BatchTensor<float>.AllocateLike(x);
        using var gb = BatchTensor<float>.AllocateLike(x);
        a.Evaluate(x, t, cond, ga);
        b.Evaluate(x, t, cond, gb);
        Assert.True(OnnxTestFiles.MaxRelativeError(ga, gb) <= 1e-5);

        // A whole guided run (Euler, Karras plan of the card) with the classes travelling in SamplingOptions.Condition.
        var schedule = onnx.CreateSchedule(20);
        using var xa = OnnxTestFiles.NoisySamples<float>(exact.Mixture, Enumerable.Repeat(new NoiseLevel(1, schedule[0].Sigma), labels.Length).ToArray(), 9);
        using var xb = xa.Clone();
        var options = new SamplingOptions<float> { Condition = cond };
        SamplingLoop.Run(a, xa, schedule, new EulerSampler(), options);
        SamplingLoop.Run(b, xb, schedule, new EulerSampler(), options);
        Assert.True(OnnxTestFiles.MaxRelativeError(xa, xb) <= 1e-4);
    }

    [Fact]
    public void ClassModelNeedsLabelsInRange()
    {
        var (onnx, _) = ClassModels();
        using var __ = onnx;
        using var x = BatchTensor<float>.Allocate(2, 3);
        using var o = BatchTensor<float>.Allocate(2, 3);
        var missing = Assert.Throws<ArgumentException>(() => onnx.Evaluate(x, [1.0, 1.0], o));
        Assert.Contains("ClassifierFreeGuidance", missing.Message);
        Assert.Contains("class label", missing.Message);
        var outside = Assert.Throws<ArgumentException>(() => onnx.Evaluate(x, [1.0, 1.0], ModelCondition.FromClasses(0, 4), o));
        Assert.Contains("Row 1", outside.Message);
        Assert.Throws<ArgumentException>(() => onnx.Evaluate(x, [1.0, 1.0], ModelCondition.FromTensor(new float[2], 2, 1), o));
        onnx.Evaluate(x, [1.0, 1.0], ModelCondition.FromClasses(0, 3), o);
    }

    [Fact]
    public void Int64TimeRefusesFractionalTimes()
    {
        using var model = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Fixture("gmm-vp-v"));
        using var x = BatchTensor<float>.Allocate(2, 3);
        using var o = BatchTensor<float>.Allocate(2, 3);
        model.Evaluate(x, [500.0, 20.0], o);
        var e = Assert.Throws<ArgumentException>(() => model.Evaluate(x, [500.0, 20.5], o));
        Assert.Contains("Row 1", e.Message);
        Assert.Contains("int64", e.Message);
    }

    [Fact]
    public void NaNFromTheModelRaisesTheSamplersError()
    {
        // The hand-written graph y = x * cond + t: a NaN in row 2's conditioning tensor makes the network's output NaN for
        // that row while the state stays finite, so the blame is the model's.
        const string card = """
        {"format": "gpaths-model/1", "kind": "denoiser", "inputs": {"sample": "x", "time": "t", "condition": "cond"},
         "output": "y", "prediction": "x0", "path": {"kind": "ve", "sigma_min": 0.01, "sigma_max": 10}, "sample_shape": [3]}
        """;
        using var model = new OnnxGenerativeModel<float>(new Microsoft.ML.OnnxRuntime.InferenceSession(TinyGraph.ConditionTimesSamplePlusTime()),
            ModelCard.Parse(card, null, "tiny.onnx.json"), ownsSession: true);
        var schedule = model.CreateSchedule(6);
        using var x = BatchTensor<float>.Allocate(3, 3);
        x.Span.Fill(1f);
        var cond = new float[9];
        cond.AsSpan().Fill(0.5f);
        cond[2 * 3 + 1] = float.NaN;
        var e = Assert.Throws<NonFiniteModelOutputException>(() => SamplingLoop.Run(model, x, schedule, new EulerSampler(),
            new SamplingOptions<float> { Condition = ModelCondition.FromTensor(cond, 3, 3) }));
        Assert.Equal(2, e.SampleIndex);
        Assert.Equal(0, e.StepIndex);
    }

    [Fact]
    public void ShapeErrorsAreNamed()
    {
        using var model = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Fixture("gmm-ve-x0"));
        using var x4 = BatchTensor<float>.Allocate(2, 4);
        using var o4 = BatchTensor<float>.Allocate(2, 4);
        Assert.Contains("[3]", Assert.Throws<ArgumentException>(() => model.Evaluate(x4, [1.0, 1.0], o4)).Message);
        using var x = BatchTensor<float>.Allocate(2, 3);
        using var o = BatchTensor<float>.Allocate(3, 3);
        Assert.Throws<ArgumentException>(() => model.Evaluate(x, [1.0, 1.0], o));
        Assert.Throws<ArgumentException>(() => model.Evaluate(x, [1.0], BatchTensor<float>.AllocateLike(x)));
    }

    [Fact]
    public void ConcurrentUseOfOneInstanceIsRefused()
    {
        using var model = OnnxGenerativeModel<float>.Load(OnnxTestFiles.Fixture("gmm-ve-x0"));
        int refused = 0;
        Parallel.For(0, 4, _ =>
        {
            using var x = BatchTensor<float>.Allocate(512, 3);
            using var o = BatchTensor<float>.Allocate(512, 3);
            var t = Enumerable.Repeat(1.0, 512).ToArray();
            for (int i = 0; i < 200; i++)
            {
                try { model.Evaluate(x, t, o); }
                catch (InvalidOperationException e) when (e.Message.Contains("one call at a time")) { Interlocked.Increment(ref refused); }
            }
        });
        output.WriteLine($"{refused} of 800 concurrent calls refused");
        // Every call either ran alone or was refused with the explanation; none corrupted another (no other exception).
    }
}
