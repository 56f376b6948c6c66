using System.Text.Json.Nodes;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using Xunit;

namespace GenerativePaths.Tests.Models;

/// <summary>The model card parser: every key, every bad value, and the time/prediction arithmetic against the paths' own formulas.</summary>
public class ModelCardTests
{
    private const string Example = """
    {"format": "gpaths-model/1", "kind": "denoiser",
     "inputs": {"sample": "x", "time": "t", "class": "c"},
     "output": "v",
     "prediction": "flow_velocity",
     "velocity": "data_minus_noise",
     "path": {"kind": "rectified_flow", "time": "noise_at_0", "time_scale": 1.0},
     "sample_shape": [64],
     "classes": 10, "unconditional_class": 10,
     "image": {"height": 8, "width": 8, "channels": 1, "range": [-1, 1]},
     "trained_by": "tools/models/train.py"}
    """;

    private const string Ddim = """{"_class_name": "DDIMScheduler", "num_train_timesteps": 1000, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "prediction_type": "epsilon", "timestep_spacing": "trailing", "set_alpha_to_one": false}""";

    private static string Denoiser(string prediction, string path, string extra = "")
        => $$"""{"format": "gpaths-model/1", "kind": "denoiser", "inputs": {"sample": "x", "time": "t"}, "output": "o", "prediction": "{{prediction}}", "path": {{path}}, "sample_shape": [3]{{extra}}}""";

    private static JsonObject Mutable() => (JsonObject)JsonNode.Parse(Example)!;

    private static ModelCardException Bad(JsonObject card) => Assert.Throws<ModelCardException>(() => ModelCard.Parse(card.ToJsonString(), null, "x.onnx.json"));

    [Fact]
    public void ExampleCardReadsEveryKey()
    {
        var c = ModelCard.Parse(Example, null, "x.onnx.json");
        Assert.Equal(ModelCardKind.Denoiser, c.Kind);
        Assert.Equal("x", c.SampleInput);
        Assert.Equal("t", c.TimeInput);
        Assert.Equal("c", c.ClassInput);
        Assert.Null(c.ConditionInput);
        Assert.Equal("v", c.Output);
        Assert.Null(c.Features);
        Assert.Equal(CardPrediction.FlowVelocity, c.CardPrediction);
        Assert.Equal(FlowVelocitySign.DataMinusNoise, c.VelocitySign);
        Assert.Equal(CardPathKind.RectifiedFlow, c.PathKind);
        Assert.Equal(FlowTimeConvention.NoiseAt0, c.FlowTime);
        Assert.Equal(1.0, c.TimeScale);
        Assert.Equal([64], c.SampleShape);
        Assert.Equal(64, c.SampleLength);
        Assert.Equal(10, c.Classes);
        Assert.Equal(10, c.UnconditionalClass);
        Assert.Equal(new ModelCardImage(8, 8, 1, -1, 1), c.Image);
        Assert.Equal("tools/models/train.py", c.Raw["trained_by"]!.GetValue<string>());
        Assert.Equal(Prediction.FlowVelocity, c.Prediction);
        Assert.Equal("flow_euler", c.DefaultSamplerName);
    }

    [Fact]
    public void PredictionErrorNamesKeyValueAndChoices()
    {
        var j = Mutable(); j["prediction"] = "eps";
        var e = Bad(j);
        Assert.Equal("card 'x.onnx.json': \"prediction\": unknown value 'eps'; expected epsilon, x0, v, flow_velocity, score, edm_F", e.Message);
        Assert.Equal("prediction", e.Key);
    }

    public static TheoryData<string, string, string> BadValues => new()
    {
        { "format", "\"gpaths-model/2\"", "format" },
        { "kind", "\"gan\"", "kind" },
        { "velocity", "\"up\"", "velocity" },
        { "sample_shape", "[8, 0]", "sample_shape[1]" },
        { "sample_shape", "\"64\"", "sample_shape" },
        { "classes", "0", "classes" },
        { "unconditional_class", "3", "unconditional_class" },
        { "unconditional_class", "11", "unconditional_class" },
        { "image", "{\"height\": 8, \"width\": 4}", "image" },
        { "image", "{\"height\": 8, \"width\": 8, \"range\": [1, -1]}", "image.range" },
        { "inputs", "{\"sample\": \"x\", \"class\": \"c\"}", "inputs.time" },
        { "inputs", "{\"sample\": \"\", \"time\": \"t\", \"class\": \"c\"}", "inputs.sample" },
        { "output", "3", "output" },
        { "path", "{\"kind\": \"sde\"}", "path.kind" },
        { "path", "{\"kind\": \"rectified_flow\", \"time\": \"noise_at_half\"}", "path.time" },
        { "path", "{\"kind\": \"rectified_flow\", \"time\": \"noise_at_1\", \"time_scale\": -1}", "path.time_scale" },
        { "path", "{\"kind\": \"ve\", \"sigma_min\": 0.002, \"sigma_max\": 80}", "prediction" },
        { "features", "\"f\"", "features" },
    };

    [Theory, MemberData(nameof(BadValues))]
    public void BadValueOfKnownKeyIsNamed(string key, string value, string expectedKey)
    {
        var j = Mutable(); j[key] = JsonNode.Parse(value);
        var e = Bad(j);
        Assert.Equal(expectedKey, e.Key);
        Assert.Contains($"\"{expectedKey}\"", e.Message);
        Assert.StartsWith("card 'x.onnx.json': ", e.Message);
    }

    [Theory]
    [InlineData("format")]
    [InlineData("kind")]
    [InlineData("inputs")]
    [InlineData("output")]
    [InlineData("prediction")]
    [InlineData("velocity")]
    [InlineData("path")]
    [InlineData("sample_shape")]
    [InlineData("classes")]
    public void MissingRequiredKeyIsNamed(string key)
    {
        var j = Mutable(); j.Remove(key);
        Assert.Equal(key, Bad(j).Key);
    }

    [Fact]
    public void ContradictionsAreErrors()
    {
        Assert.Equal("prediction", Assert.Throws<ModelCardException>(() => ModelCard.Parse(Denoiser("edm_F", """{"kind": "ve", "sigma_min": 0.01, "sigma_max": 10}"""))).Key);
        Assert.Equal("prediction", Assert.Throws<ModelCardException>(() => ModelCard.Parse(Denoiser("x0", """{"kind": "edm", "sigma_data": 0.5, "sigma_min": 0.01, "sigma_max": 10}"""))).Key);
        Assert.Equal("velocity", Assert.Throws<ModelCardException>(() => ModelCard.Parse(Denoiser("x0", """{"kind": "ve", "sigma_min": 0.01, "sigma_max": 10}""", ", \"velocity\": \"data_minus_noise\""))).Key);
        Assert.Equal("path.sigma_max", Assert.Throws<ModelCardException>(() => ModelCard.Parse(Denoiser("x0", """{"kind": "ve", "sigma_min": 10, "sigma_max": 1}"""))).Key);
        Assert.Equal("path.sigma_min", Assert.Throws<ModelCardException>(() => ModelCard.Parse(Denoiser("x0", """{"kind": "ve", "sigma_max": 1}"""))).Key);
        var vdisagree = Assert.Throws<ModelCardException>(() => ModelCard.Parse(Denoiser("v", $$"""{"kind": "discrete_vp", "scheduler_config": {{Ddim}}}""")));
        Assert.Equal("path.scheduler_config.prediction_type", vdisagree.Key);
        Assert.Equal("path.scheduler_config", Assert.Throws<ModelCardException>(() => ModelCard.Parse(Denoiser("epsilon", """{"kind": "discrete_vp"}"""))).Key);
        Assert.StartsWith("path.scheduler_config", Assert.Throws<ModelCardException>(() => ModelCard.Parse(Denoiser("epsilon", """{"kind": "discrete_vp", "scheduler_config": {"_class_name": "NoSuchScheduler"}}"""))).Key);
        var j = Mutable(); ((JsonObject)j["inputs"]!).Remove("class");
        Assert.Equal("inputs.class", Bad(j).Key);
    }

    [Fact]
    public void FileErrors()
    {
        var missing = Assert.Throws<ModelCardException>(() => ModelCard.Load(Path.Combine(Path.GetTempPath(), "no-such-card.onnx.json")));
        Assert.Contains("no such file", missing.Message);
        Assert.Null(Assert.Throws<ModelCardException>(() => ModelCard.Parse("{not json")).Key);
        Assert.Throws<ModelCardException>(() => ModelCard.Parse("[1, 2]"));
        string dir = Directory.CreateTempSubdirectory("gpaths-card").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "sched.json"), Ddim);
            File.WriteAllText(Path.Combine(dir, "m.onnx.json"), Denoiser("epsilon", """{"kind": "discrete_vp", "scheduler_config": "sched.json"}"""));
            var c = ModelCard.Load(Path.Combine(dir, "m.onnx.json"));
            Assert.Equal("m.onnx.json", c.SourceName);
            Assert.Equal("DDIMScheduler", c.SchedulerConfig!.ClassName);
            Assert.Equal("ddim", c.DefaultSamplerName);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ClassifierAndTokenCards()
    {
        var c = ModelCard.Parse("""{"format": "gpaths-model/1", "kind": "classifier", "inputs": {"sample": "x"}, "output": "logits", "features": "feat", "sample_shape": [1, 8, 8], "classes": 10, "image": {"height": 8, "width": 8}}""");
        Assert.Equal(ModelCardKind.Classifier, c.Kind);
        Assert.Equal("feat", c.Features);
        Assert.Equal(10, c.Classes);
        Assert.Equal(64, c.SampleLength);
        Assert.Throws<InvalidOperationException>(() => c.Prediction);
        const string Lm = """{"format": "gpaths-model/1", "kind": "causal_lm", "inputs": {"tokens": "ids"}, "output": "logits", "vocabulary": "lm.vocab.json", "context": 128}""";
        var lm = ModelCard.Parse(Lm);
        Assert.Equal(ModelCardKind.CausalLm, lm.Kind);
        Assert.Equal("ids", lm.TokensInput);
        Assert.Equal("lm.vocab.json", lm.Vocabulary);
        Assert.Equal("lm.vocab.json", lm.VocabularyPath);
        Assert.Equal(128, lm.Context);
        var based = ModelCard.Parse(Lm, baseDirectory: Path.Combine(Path.GetTempPath(), "cards"));
        Assert.Equal(Path.Combine(Path.GetTempPath(), "cards", "lm.vocab.json"), based.VocabularyPath);
        var rooted = ModelCard.Parse(Lm.Replace("\"lm.vocab.json\"", "\"/data/v.json\""), baseDirectory: "/elsewhere");
        Assert.Equal("/data/v.json", rooted.VocabularyPath);
        Assert.Null(c.Vocabulary);
        Assert.Null(c.VocabularyPath);
        Assert.Throws<InvalidOperationException>(() => lm.Path);
    }

    [Theory]
    [InlineData("", "missing")]
    [InlineData(", \"vocabulary\": 257", "'257' is not a file name")]
    [InlineData(", \"vocabulary\": \"\"", "is not a file name")]
    [InlineData(", \"vocabulary\": [\"a\"]", "is not a file name")]
    public void TokenCardVocabularyErrorsNameTheKey(string vocabulary, string message)
    {
        var e = Assert.Throws<ModelCardException>(() => ModelCard.Parse(
            "{\"format\": \"gpaths-model/1\", \"kind\": \"causal_lm\", \"inputs\": {\"tokens\": \"ids\"}, \"output\": \"logits\"" + vocabulary + "}", sourceName: "lm.onnx.json"));
        Assert.Equal("vocabulary", e.Key);
        Assert.Contains(message, e.Message);
        Assert.StartsWith("card 'lm.onnx.json': \"vocabulary\"", e.Message);
    }

    [Fact]
    public void TokenCardWithoutTheTokensInputOrWithABadContextNamesTheKey()
    {
        Assert.Equal("inputs.tokens", Assert.Throws<ModelCardException>(() => ModelCard.Parse("""{"format": "gpaths-model/1", "kind": "causal_lm", "inputs": {"x": "ids"}, "output": "logits", "vocabulary": "v.json"}""")).Key);
        Assert.Equal("context", Assert.Throws<ModelCardException>(() => ModelCard.Parse("""{"format": "gpaths-model/1", "kind": "causal_lm", "inputs": {"tokens": "ids"}, "output": "logits", "vocabulary": "v.json", "context": 0}""")).Key);
    }

    public static TheoryData<string> AllPaths => new()
    {
        Denoiser("flow_velocity", """{"kind": "rectified_flow", "time": "noise_at_1", "time_scale": 1000}""", ", \"velocity\": \"noise_minus_data\""),
        Denoiser("flow_velocity", """{"kind": "rectified_flow", "time": "noise_at_0"}""", ", \"velocity\": \"data_minus_noise\""),
        Denoiser("x0", """{"kind": "rectified_flow", "time": "noise_at_1"}"""),
        Denoiser("epsilon", $$"""{"kind": "discrete_vp", "scheduler_config": {{Ddim}}}"""),
        Denoiser("edm_F", """{"kind": "edm", "sigma_data": 0.5, "sigma_min": 0.002, "sigma_max": 80}"""),
        Denoiser("epsilon", """{"kind": "continuous_vp", "beta_min": 0.1, "beta_max": 20, "time_scale": 999}"""),
        Denoiser("score", """{"kind": "ve", "sigma_min": 0.01, "sigma_max": 50}"""),
    };

    /// <summary>The schedule's model time, read back through the card's time map, gives the schedule's own point.</summary>
    [Theory, MemberData(nameof(AllPaths))]
    public void ScheduleAndTimeMapAgree(string json)
    {
        var card = ModelCard.Parse(json);
        var schedule = card.CreateSchedule(12);
        // Every plan ends at the clean point, except DDIM with set_alpha_to_one = false, which ends at abar[0] as diffusers does.
        Assert.True(schedule.Points[^1].Sigma < 0.05, $"last sigma {schedule.Points[^1].Sigma}");
        Assert.Same(card.Path.GetType(), schedule.Path.GetType());
        for (int i = 0; i < schedule.StepCount; i++)
        {
            var p = schedule[i];
            var level = card.TimeMap(p.ModelTime);
            Assert.Equal(p.Alpha, level.Alpha, 1e-6);
            Assert.Equal(p.Sigma, level.Sigma, 1e-6);
            Assert.Equal(p.Alpha, card.Path.Alpha(card.Path.TimeFromLogSnr(p.LogSnr)), 1e-6);
        }
        Assert.NotNull(card.CreateDefaultSampler());
        // n steps are n moves between distinct points (no zero-length step at the end).
        for (int i = 0; i < schedule.StepCount; i++) Assert.True(schedule[i + 1].Sigma / schedule[i + 1].Alpha < schedule[i].Sigma / schedule[i].Alpha);
        if (card.PathKind != CardPathKind.DiscreteVp) Assert.Equal(12, schedule.StepCount);
    }

    [Fact]
    public void NetworkTimeInputScaleAndOutputMap()
    {
        var n1 = ModelCard.Parse(Denoiser("flow_velocity", """{"kind": "rectified_flow", "time": "noise_at_1", "time_scale": 1000}""", ", \"velocity\": \"noise_minus_data\""));
        Assert.Equal(250.0, n1.NetworkTime(0.25), 12);
        Assert.Equal((0.0, 1.0), n1.OutputMap(0.25));
        Assert.Equal(new NoiseLevel(0.75, 0.25, -1, 1), n1.TimeMap(0.25));
        var n0 = ModelCard.Parse(Denoiser("flow_velocity", """{"kind": "rectified_flow", "time": "noise_at_0"}""", ", \"velocity\": \"data_minus_noise\""));
        Assert.Equal(0.75, n0.NetworkTime(0.25), 12);
        Assert.Equal((0.0, -1.0), n0.OutputMap(0.25));
        Assert.Equal(1.0, n0.InputScale(0.25));

        var edm = ModelCard.Parse(Denoiser("edm_F", """{"kind": "edm", "sigma_data": 0.5, "sigma_min": 0.002, "sigma_max": 80}"""));
        Assert.Equal(Prediction.Data, edm.Prediction);
        Assert.False(edm.HasUnitInputScale);
        double s = 2.0;
        Assert.Equal(Math.Log(2.0) / 4, edm.NetworkTime(s), 14);
        Assert.Equal(1 / Math.Sqrt(4.25), edm.InputScale(s), 14);
        var (a, b) = edm.OutputMap(s);
        Assert.Equal(0.25 / 4.25, a, 14);
        Assert.Equal(2 * 0.5 / Math.Sqrt(4.25), b, 14);
        Assert.IsType<HeunSampler>(edm.CreateDefaultSampler());

        var cvp = ModelCard.Parse(Denoiser("epsilon", """{"kind": "continuous_vp", "beta_min": 0.1, "beta_max": 20, "time_scale": 999}"""));
        Assert.Equal(999 * 0.5, cvp.NetworkTime(0.5), 12);
        var lin = new LinearVpPath(0.1, 20);
        Assert.Equal(lin.Alpha(0.5), cvp.TimeMap(0.5).Alpha, 14);

        var ve = ModelCard.Parse(Denoiser("score", """{"kind": "ve", "sigma_min": 0.01, "sigma_max": 50}"""));
        Assert.Equal(Prediction.Score, ve.Prediction);
        Assert.Equal(3.5, ve.NetworkTime(3.5));
        var eps = ModelCard.Parse(Denoiser("epsilon", $$"""{"kind": "discrete_vp", "scheduler_config": {{Ddim}}}"""));
        Assert.Equal(981.0, eps.NetworkTime(981.0));
        Assert.Equal(Math.Sqrt(eps.SchedulerConfig!.AlphasCumprod[981]), eps.TimeMap(981).Alpha, 14);
    }
}
