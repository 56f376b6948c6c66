using System.Text.Json;
using System.Text.Json.Nodes;
using GenerativePaths.Configs;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Models;

/// <summary>
/// A model card (<c>gpaths-model/1</c>): the JSON description of a trained network that says what it predicts, on which
/// path and with which time convention, what its inputs and outputs are called and what its samples look like; and the
/// arithmetic an adapter needs to run the network with the library's samplers.
/// </summary>
/// <remarks>
/// <para>The card's keys are documented in <c>docs/models.md</c>. Unknown keys are allowed and kept in <see cref="Raw"/>;
/// an unknown value of a known key, a missing required key or a contradiction raises <see cref="ModelCardException"/>
/// naming the key.</para>
/// <para>Time convention. Schedules built for the card (<see cref="Path"/>, <see cref="CreateSchedule"/>) call the model with a
/// library model time <c>t</c>; <see cref="TimeMap"/> maps <c>t</c> back to its point <c>(alpha, sigma)</c>; the network
/// receives <see cref="NetworkTime"/>(t):</para>
/// <list type="bullet">
/// <item><c>rectified_flow</c>: <c>t = s</c> (the flow sigma, <c>x = (1 - s) x0 + s eps</c>, rates <c>(-1, 1)</c>); network time
/// <c>time_scale * s</c> (<c>noise_at_1</c>) or <c>time_scale * (1 - s)</c> (<c>noise_at_0</c>).</item>
/// <item><c>discrete_vp</c>: <c>t</c> = the diffusers timestep; network time <c>t</c>; point from <c>alphas_cumprod</c>
/// (<see cref="ModelTimeMaps.DiscreteVariancePreserving"/>).</item>
/// <item><c>ve</c>: <c>t = sigma</c> (<c>alpha = 1</c>); network time <c>sigma</c>.</item>
/// <item><c>edm</c>: <c>t = sigma</c>; network time <c>c_noise = ln(sigma) / 4</c>, input <c>c_in x</c> with
/// <c>c_in = 1 / sqrt(sigma^2 + sd^2)</c>.</item>
/// <item><c>continuous_vp</c>: <c>t</c> in <c>[0, 1]</c>, <c>alpha = exp(-(beta_min t + (beta_max - beta_min) t^2 / 2) / 2)</c>;
/// network time <c>time_scale * t</c>.</item>
/// </list>
/// <para>Output map. The adapter reports <see cref="Prediction"/> and computes it from the network output <c>o</c> as
/// <c>p = a x + b o</c> with <c>(a, b) = </c><see cref="OutputMap"/>: <c>edm_F</c>: <c>(c_skip, c_out)</c>,
/// <c>c_skip = sd^2 / (sigma^2 + sd^2)</c>, <c>c_out = sigma sd / sqrt(sigma^2 + sd^2)</c> (so <c>p = D</c>, the denoised
/// sample); <c>flow_velocity</c> with <c>data_minus_noise</c>: <c>(0, -1)</c> (so <c>p = eps - x0</c>); otherwise <c>(0, 1)</c>.</para>
/// <para>Thread safety: immutable after loading (the path and time map are built once, on first use, idempotently); safe to share between threads.</para>
/// </remarks>
public sealed class ModelCard
{
    /// <summary>The format string every card carries.</summary>
    public const string FormatVersion = "gpaths-model/1";

    private const string PredictionValues = "epsilon, x0, v, flow_velocity, score, edm_F";
    private readonly string _source;
    private NoisePath? _path;
    private Func<double, NoiseLevel>? _timeMap;

    private ModelCard(string source, JsonObject raw)
    {
        _source = source;
        Raw = raw;
        Inputs = new Dictionary<string, string>();
    }

    // ---------------------------------------------------------------- keys

    /// <summary>The card's file name (or where its text came from), as used in error messages.</summary>
    public string SourceName => _source;

    /// <summary>The directory relative references resolve against (the card's own directory for <see cref="Load"/>), or null.</summary>
    public string? BaseDirectory { get; private init; }

    /// <summary>The whole card as read, unknown keys included.</summary>
    public JsonObject Raw { get; }

    /// <summary><c>"kind"</c>.</summary>
    public ModelCardKind Kind { get; private set; }

    /// <summary><c>"inputs"</c>: role (<c>sample</c>, <c>time</c>, <c>class</c>, <c>condition</c>, <c>tokens</c>, or any other) to graph input name.</summary>
    public IReadOnlyDictionary<string, string> Inputs { get; private set; }

    /// <summary><c>"inputs.sample"</c>: the graph input of the (noisy) sample; null for a token model.</summary>
    public string? SampleInput { get; private set; }

    /// <summary><c>"inputs.time"</c>: the graph input of the time (denoisers).</summary>
    public string? TimeInput { get; private set; }

    /// <summary><c>"inputs.class"</c>: the graph input of the int64 class labels, or null.</summary>
    public string? ClassInput { get; private set; }

    /// <summary><c>"inputs.condition"</c>: the graph input of a float conditioning tensor, or null.</summary>
    public string? ConditionInput { get; private set; }

    /// <summary><c>"inputs.tokens"</c>: the graph input of a token model's int64 tokens, or null.</summary>
    public string? TokensInput { get; private set; }

    /// <summary><c>"output"</c>: the graph output to read (prediction, logits).</summary>
    public string Output { get; private set; } = "";

    /// <summary><c>"features"</c>: a classifier's optional feature output, or null.</summary>
    public string? Features { get; private set; }

    /// <summary><c>"prediction"</c> (denoisers).</summary>
    public CardPrediction CardPrediction { get; private set; }

    /// <summary><c>"velocity"</c> (flow-velocity denoisers), or null.</summary>
    public FlowVelocitySign? VelocitySign { get; private set; }

    /// <summary><c>"path.kind"</c> (denoisers).</summary>
    public CardPathKind PathKind { get; private set; }

    /// <summary><c>"path.time"</c> (rectified flow).</summary>
    public FlowTimeConvention FlowTime { get; private set; }

    /// <summary><c>"path.time_scale"</c> (rectified flow, continuous VP; 1 elsewhere).</summary>
    public double TimeScale { get; private set; } = 1.0;

    /// <summary><c>"path.sigma_data"</c> (EDM).</summary>
    public double SigmaData { get; private set; } = double.NaN;

    /// <summary><c>"path.sigma_min"</c> (EDM, VE).</summary>
    public double SigmaMin { get; private set; } = double.NaN;

    /// <summary><c>"path.sigma_max"</c> (EDM, VE).</summary>
    public double SigmaMax { get; private set; } = double.NaN;

    /// <summary><c>"path.beta_min"</c> (continuous VP).</summary>
    public double BetaMin { get; private set; } = double.NaN;

    /// <summary><c>"path.beta_max"</c> (continuous VP).</summary>
    public double BetaMax { get; private set; } = double.NaN;

    /// <summary><c>"path.scheduler_config"</c> (discrete VP): the diffusers scheduler configuration, or null.</summary>
    public DiffusersSchedulerConfig? SchedulerConfig { get; private set; }

    /// <summary><c>"sample_shape"</c>: the shape of one sample (without the batch dimension).</summary>
    public IReadOnlyList<int> SampleShape { get; private set; } = [];

    /// <summary>Elements of one sample (the product of <see cref="SampleShape"/>).</summary>
    public int SampleLength { get; private set; }

    /// <summary><c>"classes"</c>: the number of classes (class-conditional denoisers, classifiers), or null.</summary>
    public int? Classes { get; private set; }

    /// <summary><c>"unconditional_class"</c>: the label of the unconditional ("null") class, or null.</summary>
    public int? UnconditionalClass { get; private set; }

    /// <summary><c>"image"</c>, or null.</summary>
    public ModelCardImage? Image { get; private set; }

    /// <summary><c>"vocabulary"</c> (token models): the vocabulary file as the card names it, a path relative to the card's directory
    /// (or absolute) of a JSON file <c>{"vocab": [token strings]}</c> in which index <c>i</c> is token <c>i</c>; null for other kinds.</summary>
    public string? Vocabulary { get; private set; }

    /// <summary>The vocabulary file resolved against <see cref="BaseDirectory"/> (as given when the path is absolute or the card has no
    /// directory); null for other kinds. Whether the file exists is checked by the adapter that loads it.</summary>
    public string? VocabularyPath => Vocabulary is null ? null
        : System.IO.Path.IsPathRooted(Vocabulary) || BaseDirectory is null ? Vocabulary : System.IO.Path.Combine(BaseDirectory, Vocabulary);

    /// <summary><c>"context"</c> (token models): the longest token sequence, or null.</summary>
    public int? Context { get; private set; }

    // ---------------------------------------------------------------- loading

    /// <summary>Reads the card at <paramref name="path"/>; relative references resolve against its directory.</summary>
    /// <exception cref="ModelCardException">The file is missing or unreadable, or the card is invalid (the message names the key).</exception>
    public static ModelCard Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = System.IO.Path.GetFileName(path);
        if (!File.Exists(path)) throw new ModelCardException(name, null, $"no such file: {System.IO.Path.GetFullPath(path)}");
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelCardException(name, null, $"cannot read {path}: {e.Message}", e);
        }
        return Parse(text, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)), name);
    }

    /// <summary>Parses card text.</summary>
    /// <param name="json">The card.</param>
    /// <param name="baseDirectory">Where a <c>scheduler_config</c> given as a relative file name is looked up, or null.</param>
    /// <param name="sourceName">How error messages name the card (default <c>(inline)</c>).</param>
    /// <exception cref="ModelCardException">Invalid JSON or an invalid card (the message names the key).</exception>
    public static ModelCard Parse(string json, string? baseDirectory = null, string? sourceName = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        string source = sourceName ?? "(inline)";
        JsonNode? node;
        try { node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new ModelCardException(source, null, $"not valid JSON: {e.Message}", e); }
        if (node is not JsonObject obj) throw new ModelCardException(source, null, "a card must be a JSON object.");
        var card = new ModelCard(source, obj) { BaseDirectory = baseDirectory };
        card.Read();
        return card;
    }

    private void Read()
    {
        string format = String("format");
        if (format != FormatVersion) throw Error("format", $"unknown value '{format}'; expected {FormatVersion}");
        Kind = Enum("kind", String("kind"), ("denoiser", ModelCardKind.Denoiser), ("classifier", ModelCardKind.Classifier), ("causal_lm", ModelCardKind.CausalLm));
        var inputs = Object(Raw, "inputs", required: true)!;
        var dict = new Dictionary<string, string>();
        foreach (var (role, value) in inputs)
        {
            if (value is not JsonValue v || !v.TryGetValue(out string? s) || string.IsNullOrEmpty(s)) throw Error($"inputs.{role}", "must be a non-empty string (a graph input name)");
            dict[role] = s;
        }
        Inputs = dict;
        Output = String("output");
        Features = OptionalString(Raw, "features", "features");
        if (Features is not null && Kind != ModelCardKind.Classifier) throw Error("features", "only a classifier card has a features output");

        switch (Kind)
        {
            case ModelCardKind.CausalLm:
                TokensInput = RequireInput("tokens");
                Vocabulary = Raw["vocabulary"] switch
                {
                    null => throw Error("vocabulary", "missing (the file name, relative to the card, of a {\"vocab\": [token strings]} file)"),
                    JsonValue v when v.TryGetValue(out string? file) && !string.IsNullOrWhiteSpace(file) => file,
                    var other => throw Error("vocabulary", $"'{other.ToJsonString()}' is not a file name; give the path, relative to the card, of a {{\"vocab\": [token strings]}} file"),
                };
                Context = OptionalInt(Raw, "context", "context", 1);
                return;
            case ModelCardKind.Classifier:
                SampleInput = RequireInput("sample");
                ReadShape();
                Classes = OptionalInt(Raw, "classes", "classes", 1) ?? throw Error("classes", "missing (a classifier's number of logits)");
                ReadImage();
                return;
        }

        SampleInput = RequireInput("sample");
        TimeInput = RequireInput("time");
        ClassInput = dict.GetValueOrDefault("class");
        ConditionInput = dict.GetValueOrDefault("condition");
        ReadShape();
        ReadImage();
        Classes = OptionalInt(Raw, "classes", "classes", 1);
        UnconditionalClass = OptionalInt(Raw, "unconditional_class", "unconditional_class", 0);
        if (ClassInput is not null && Classes is null) throw Error("classes", "missing; a card with inputs.class must give the number of classes");
        if (ClassInput is null && Classes is not null) throw Error("inputs.class", "missing; a card with \"classes\" must name the class input");
        if (UnconditionalClass is not null && Classes is null) throw Error("unconditional_class", "given without \"classes\"");
        if (UnconditionalClass is int u && u < Classes!.Value)
            throw Error("unconditional_class", $"{u} is also a class index (0..{Classes - 1}); the unconditional class must be outside the classes, usually {Classes}");
        if (UnconditionalClass is int u2 && u2 > Classes!.Value)
            throw Error("unconditional_class", $"{u2} is outside [0, {Classes}]; labels lie in [0, classes]");

        string pred = String("prediction");
        CardPrediction = pred switch
        {
            "epsilon" => CardPrediction.Epsilon,
            "x0" => CardPrediction.X0,
            "v" => CardPrediction.V,
            "flow_velocity" => CardPrediction.FlowVelocity,
            "score" => CardPrediction.Score,
            "edm_F" => CardPrediction.EdmF,
            _ => throw Error("prediction", $"unknown value '{pred}'; expected {PredictionValues}"),
        };
        string? vel = OptionalString(Raw, "velocity", "velocity");
        if (vel is not null)
        {
            VelocitySign = vel switch
            {
                "data_minus_noise" => FlowVelocitySign.DataMinusNoise,
                "noise_minus_data" => FlowVelocitySign.NoiseMinusData,
                _ => throw Error("velocity", $"unknown value '{vel}'; expected data_minus_noise, noise_minus_data"),
            };
            if (CardPrediction != CardPrediction.FlowVelocity) throw Error("velocity", $"given for a '{pred}' model; only flow_velocity has a sign convention");
        }
        else if (CardPrediction == CardPrediction.FlowVelocity) throw Error("velocity", "missing; a flow_velocity card must say data_minus_noise or noise_minus_data");
        ReadPath(pred);
    }

    private void ReadShape()
    {
        var node = Raw["sample_shape"] ?? throw Error("sample_shape", "missing (the shape of one sample, e.g. [64] or [1, 8, 8])");
        if (node is not JsonArray arr || arr.Count == 0) throw Error("sample_shape", "must be a non-empty array of positive integers");
        var shape = new int[arr.Count];
        long length = 1;
        for (int i = 0; i < arr.Count; i++)
        {
            if (arr[i] is not JsonValue v || !v.TryGetValue(out int d) || d <= 0) throw Error($"sample_shape[{i}]", $"'{arr[i]?.ToJsonString()}' is not a positive integer");
            shape[i] = d;
            length *= d;
        }
        if (length > int.MaxValue) throw Error("sample_shape", "the sample has more than 2^31 elements");
        SampleShape = shape;
        SampleLength = (int)length;
    }

    private void ReadImage()
    {
        var img = Object(Raw, "image", required: false);
        if (img is null) return;
        int h = OptionalInt(img, "height", "image.height", 1) ?? throw Error("image.height", "missing");
        int w = OptionalInt(img, "width", "image.width", 1) ?? throw Error("image.width", "missing");
        int c = OptionalInt(img, "channels", "image.channels", 1) ?? 1;
        double lo = -1, hi = 1;
        if (img["range"] is JsonNode r)
        {
            if (r is not JsonArray ra || ra.Count != 2 || !TryNumber(ra[0], out lo) || !TryNumber(ra[1], out hi) || !(hi > lo))
                throw Error("image.range", $"'{r.ToJsonString()}' must be [min, max] with min < max");
        }
        if ((long)h * w * c != SampleLength) throw Error("image", $"{h} x {w} x {c} pixels do not match sample_shape [{string.Join(", ", SampleShape)}] ({SampleLength} elements)");
        Image = new ModelCardImage(h, w, c, lo, hi);
    }

    private void ReadPath(string pred)
    {
        var path = Object(Raw, "path", required: true)!;
        string kind = OptionalString(path, "kind", "path.kind") ?? throw Error("path.kind", "missing; expected rectified_flow, discrete_vp, edm, continuous_vp, ve");
        PathKind = kind switch
        {
            "rectified_flow" => CardPathKind.RectifiedFlow,
            "discrete_vp" => CardPathKind.DiscreteVp,
            "edm" => CardPathKind.Edm,
            "continuous_vp" => CardPathKind.ContinuousVp,
            "ve" => CardPathKind.Ve,
            _ => throw Error("path.kind", $"unknown value '{kind}'; expected rectified_flow, discrete_vp, edm, continuous_vp, ve"),
        };
        if (CardPrediction == CardPrediction.EdmF && PathKind != CardPathKind.Edm) throw Error("prediction", $"edm_F needs path.kind edm, not {kind}");
        if (PathKind == CardPathKind.Edm && CardPrediction != CardPrediction.EdmF) throw Error("prediction", $"'{pred}' on an edm path; the edm path's network outputs edm_F");
        if (CardPrediction == CardPrediction.FlowVelocity && PathKind != CardPathKind.RectifiedFlow) throw Error("prediction", $"flow_velocity needs path.kind rectified_flow, not {kind}");
        switch (PathKind)
        {
            case CardPathKind.RectifiedFlow:
            {
                string time = OptionalString(path, "time", "path.time") ?? throw Error("path.time", "missing; expected noise_at_0, noise_at_1");
                FlowTime = time switch
                {
                    "noise_at_1" => FlowTimeConvention.NoiseAt1,
                    "noise_at_0" => FlowTimeConvention.NoiseAt0,
                    _ => throw Error("path.time", $"unknown value '{time}'; expected noise_at_0, noise_at_1"),
                };
                TimeScale = Positive(path, "time_scale", "path.time_scale", 1.0);
                break;
            }
            case CardPathKind.Ve:
                SigmaMin = Positive(path, "sigma_min", "path.sigma_min", null);
                SigmaMax = Positive(path, "sigma_max", "path.sigma_max", null);
                if (!(SigmaMax > SigmaMin)) throw Error("path.sigma_max", $"{SigmaMax} must exceed sigma_min {SigmaMin}");
                break;
            case CardPathKind.Edm:
                SigmaData = Positive(path, "sigma_data", "path.sigma_data", null);
                SigmaMin = Positive(path, "sigma_min", "path.sigma_min", null);
                SigmaMax = Positive(path, "sigma_max", "path.sigma_max", null);
                if (!(SigmaMax > SigmaMin)) throw Error("path.sigma_max", $"{SigmaMax} must exceed sigma_min {SigmaMin}");
                break;
            case CardPathKind.ContinuousVp:
                BetaMin = NonNegative(path, "beta_min", "path.beta_min", 0.1);
                BetaMax = Positive(path, "beta_max", "path.beta_max", 20.0);
                if (!(BetaMax > BetaMin)) throw Error("path.beta_max", $"{BetaMax} must exceed beta_min {BetaMin}");
                TimeScale = Positive(path, "time_scale", "path.time_scale", 1.0);
                break;
            case CardPathKind.DiscreteVp:
                SchedulerConfig = ReadSchedulerConfig(path);
                if (SchedulerConfig.Path is not DiscreteVpPath)
                    throw Error("path.scheduler_config", $"{SchedulerConfig.ClassName} is not a discrete VP scheduler; describe a flow model with path.kind rectified_flow");
                var expected = CardPrediction switch
                {
                    CardPrediction.Epsilon => Prediction.Epsilon,
                    CardPrediction.X0 => Prediction.Data,
                    CardPrediction.V => Prediction.Velocity,
                    _ => throw Error("prediction", $"'{pred}' on a discrete_vp path; expected epsilon, x0 or v"),
                };
                if (SchedulerConfig.Prediction != expected)
                    throw Error("path.scheduler_config.prediction_type", $"the scheduler says {SchedulerConfig.Prediction} but the card's prediction is '{pred}'");
                break;
        }
    }

    private DiffusersSchedulerConfig ReadSchedulerConfig(JsonObject path)
    {
        var node = path["scheduler_config"] ?? throw Error("path.scheduler_config", "missing (a diffusers scheduler config object, or the name of its file)");
        string text;
        if (node is JsonValue v && v.TryGetValue(out string? file))
        {
            string full = System.IO.Path.IsPathRooted(file) || BaseDirectory is null ? file : System.IO.Path.Combine(BaseDirectory, file);
            if (!File.Exists(full)) throw Error("path.scheduler_config", $"no such file: {full}");
            text = File.ReadAllText(full);
        }
        else if (node is JsonObject) text = node.ToJsonString();
        else throw Error("path.scheduler_config", "must be an object or a file name");
        try { return DiffusersSchedulerConfig.Parse(text); }
        catch (DiffusersConfigException e) { throw Error($"path.scheduler_config.{e.Field}", e.Message, e); }
        catch (JsonException e) { throw Error("path.scheduler_config", $"not valid JSON: {e.Message}", e); }
    }

    // ---------------------------------------------------------------- arithmetic for the adapter

    /// <summary>The library prediction an adapter over this card reports: <c>edm_F</c> gives <see cref="Models.Prediction.Data"/>
    /// (after the output map), <c>flow_velocity</c> <see cref="Models.Prediction.FlowVelocity"/> (<c>eps - x0</c>), the others their namesakes.</summary>
    /// <exception cref="InvalidOperationException">The card is not a denoiser.</exception>
    public Prediction Prediction => RequireDenoiser() switch
    {
        CardPrediction.Epsilon => Prediction.Epsilon,
        CardPrediction.X0 or CardPrediction.EdmF => Prediction.Data,
        CardPrediction.V => Prediction.Velocity,
        CardPrediction.FlowVelocity => Prediction.FlowVelocity,
        _ => Prediction.Score,
    };

    /// <summary>
    /// The path schedules for this model are built on, with a model time that <see cref="TimeMap"/> reads back:
    /// <see cref="RectifiedFlowPath"/> with model time scale 1 (<c>t = s</c>), <see cref="VarianceExplodingPath"/>
    /// (<c>t = sigma</c>), the configuration's <see cref="DiscreteVpPath"/> (<c>t</c> = timestep) or a <see cref="LinearVpPath"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The card is not a denoiser.</exception>
    public NoisePath Path
    {
        get
        {
            RequireDenoiser();
            return _path ??= (PathKind switch
            {
                CardPathKind.RectifiedFlow => new RectifiedFlowPath(null, 1.0),
                CardPathKind.Ve or CardPathKind.Edm => new VarianceExplodingPath(SigmaMin, SigmaMax),
                CardPathKind.DiscreteVp => SchedulerConfig!.Path,
                _ => new LinearVpPath(BetaMin, BetaMax, ContinuousVpTimeMin, 1.0),
            });
        }
    }

    /// <summary>The smallest time of the continuous VP schedules built for a card (<c>1e-3</c>, Song et al. 2021).</summary>
    public const double ContinuousVpTimeMin = 1e-3;

    /// <summary>The model's point on its path at library model time <c>t</c> (with the rates <c>d alpha/dt</c>, <c>d sigma/dt</c> where defined;
    /// for rectified flow <c>(-1, 1)</c>, the derivative in <c>s</c>).</summary>
    /// <exception cref="InvalidOperationException">The card is not a denoiser.</exception>
    public Func<double, NoiseLevel> TimeMap
    {
        get
        {
            RequireDenoiser();
            if (_timeMap is not null) return _timeMap;
            switch (PathKind)
            {
                case CardPathKind.RectifiedFlow: return _timeMap = NoiseLevel.RectifiedFlow;
                case CardPathKind.Ve or CardPathKind.Edm: return _timeMap = NoiseLevel.VarianceExploding;
                case CardPathKind.DiscreteVp: return _timeMap = ModelTimeMaps.DiscreteVariancePreserving(SchedulerConfig!.AlphasCumprod);
                default:
                    var p = (LinearVpPath)Path;
                    return _timeMap = t => NoiseLevel.At(p, t);
            }
        }
    }

    /// <summary>The value the network's time input receives at library model time <paramref name="modelTime"/> (see the class remarks).</summary>
    public double NetworkTime(double modelTime) => RequireDenoiser() == CardPrediction.EdmF
        ? Math.Log(modelTime) / 4
        : PathKind switch
        {
            CardPathKind.RectifiedFlow => FlowTime == FlowTimeConvention.NoiseAt1 ? TimeScale * modelTime : TimeScale * (1 - modelTime),
            CardPathKind.ContinuousVp => TimeScale * modelTime,
            _ => modelTime,
        };

    /// <summary>The factor the sample is multiplied by before the network sees it: <c>c_in = 1 / sqrt(sigma^2 + sigma_data^2)</c> for EDM, else 1.</summary>
    public double InputScale(double modelTime)
    {
        if (RequireDenoiser() != CardPrediction.EdmF) return 1.0;
        return 1.0 / Math.Sqrt(modelTime * modelTime + SigmaData * SigmaData);
    }

    /// <summary>Whether <see cref="InputScale"/> is 1 at every time (the sample can go to the network unchanged).</summary>
    public bool HasUnitInputScale => Kind != ModelCardKind.Denoiser || CardPrediction != CardPrediction.EdmF;

    /// <summary>The map <c>p = OfState x + OfOutput o</c> from the network output <c>o</c> to <see cref="Prediction"/> at
    /// <paramref name="modelTime"/> (see the class remarks).</summary>
    public (double OfState, double OfOutput) OutputMap(double modelTime)
    {
        var p = RequireDenoiser();
        if (p == CardPrediction.EdmF)
        {
            double s2 = modelTime * modelTime, sd2 = SigmaData * SigmaData;
            return (sd2 / (s2 + sd2), modelTime * SigmaData / Math.Sqrt(s2 + sd2));
        }
        return p == CardPrediction.FlowVelocity && VelocitySign == FlowVelocitySign.DataMinusNoise ? (0.0, -1.0) : (0.0, 1.0);
    }

    /// <summary>
    /// The default plan of <paramref name="steps"/> steps: the scheduler config's own (<c>discrete_vp</c>); for rectified flow
    /// <c>s = 1, 1 - 1/n, ..., 1/n</c> then 0 (<c>n</c> model evaluations for Euler); Karras (rho 7) from <c>sigma_max</c> to <c>sigma_min</c> (edm, ve); uniform in <c>t</c> from 1 to
    /// <see cref="ContinuousVpTimeMin"/> (continuous VP). Every plan ends at the clean point.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one step.</exception>
    /// <exception cref="InvalidOperationException">The card is not a denoiser.</exception>
    public StepSchedule CreateSchedule(int steps)
    {
        RequireDenoiser();
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        switch (PathKind)
        {
            case CardPathKind.RectifiedFlow:
            {
                var sigmas = new double[steps];
                for (int i = 0; i < steps; i++) sigmas[i] = 1.0 - (double)i / steps;
                return StepSchedules.FromFlowSigmas(sigmas, 1.0);
            }
            case CardPathKind.Ve or CardPathKind.Edm: return StepSchedules.Karras(steps, SigmaMin, SigmaMax);
            case CardPathKind.DiscreteVp: return SchedulerConfig!.CreateSchedule(steps);
            default:
            {
                var path = (LinearVpPath)Path;
                var points = new List<SchedulePoint>(steps + 1);
                for (int i = 0; i < steps; i++)
                {
                    double t = steps == 1 ? 1.0 : 1.0 + (ContinuousVpTimeMin - 1.0) * i / (steps - 1);
                    points.Add(new SchedulePoint(path.Alpha(t), path.Sigma(t), t));
                }
                points.Add(new SchedulePoint(1.0, 0.0, 0.0));
                return new StepSchedule(path, points);
            }
        }
    }

    /// <summary>The sampler a plan from <see cref="CreateSchedule"/> is meant for: the scheduler config's (<c>discrete_vp</c>),
    /// <c>flow_euler</c> (rectified flow), <c>heun</c> (edm), <c>euler</c> (ve), <c>ddim</c> (continuous VP).</summary>
    public string DefaultSamplerName => CreateDefaultSampler().Name;

    /// <summary>A new instance of the default sampler (see <see cref="DefaultSamplerName"/>) with its default options.</summary>
    /// <exception cref="InvalidOperationException">The card is not a denoiser.</exception>
    public Sampler CreateDefaultSampler()
    {
        RequireDenoiser();
        return PathKind switch
        {
            CardPathKind.RectifiedFlow => new FlowMatchEulerSampler(),
            CardPathKind.Edm => new HeunSampler(),
            CardPathKind.Ve => new EulerSampler(),
            CardPathKind.ContinuousVp => new DdimSampler(),
            // A diffusers config builds the sampler of its class with the config's options (the importer owns that mapping).
            _ => SchedulerConfig!.CreateSampler(),
        };
    }

    /// <summary>Builds a <see cref="ModelCardException"/> for this card (for adapters that check the card against a graph).</summary>
    public ModelCardException Error(string? key, string message, Exception? inner = null) => new(_source, key, message, inner);

    /// <summary>The card as JSON text (the keys as read).</summary>
    public override string ToString() => Raw.ToJsonString();

    // ---------------------------------------------------------------- helpers

    private CardPrediction RequireDenoiser()
    {
        if (Kind != ModelCardKind.Denoiser) throw new InvalidOperationException($"card '{_source}' describes a {Kind}, not a denoiser.");
        return CardPrediction;
    }

    private string RequireInput(string role)
        => Inputs.TryGetValue(role, out var name) ? name : throw Error($"inputs.{role}", "missing (the graph input name)");

    private string String(string key) => OptionalString(Raw, key, key) ?? throw Error(key, "missing");

    private string? OptionalString(JsonObject obj, string key, string path)
    {
        var node = obj[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out string? s) && !string.IsNullOrEmpty(s)) return s;
        throw Error(path, $"'{node.ToJsonString()}' is not a non-empty string");
    }

    private int? OptionalInt(JsonObject obj, string key, string path, int min)
    {
        var node = obj[key];
        if (node is null) return null;
        if (node is JsonValue v && v.TryGetValue(out int i) && i >= min) return i;
        if (node is JsonValue v2 && v2.TryGetValue(out double d) && d == Math.Floor(d) && d >= min && d <= int.MaxValue) return (int)d;
        throw Error(path, $"'{node.ToJsonString()}' is not an integer of at least {min}");
    }

    private double Positive(JsonObject obj, string key, string path, double? fallback)
    {
        var node = obj[key];
        if (node is null) return fallback ?? throw Error(path, "missing");
        if (TryNumber(node, out double d) && d > 0 && double.IsFinite(d)) return d;
        throw Error(path, $"'{node.ToJsonString()}' is not a positive finite number");
    }

    private double NonNegative(JsonObject obj, string key, string path, double fallback)
    {
        var node = obj[key];
        if (node is null) return fallback;
        if (TryNumber(node, out double d) && d >= 0 && double.IsFinite(d)) return d;
        throw Error(path, $"'{node.ToJsonString()}' is not a non-negative finite number");
    }

    private static bool TryNumber(JsonNode? node, out double value)
    {
        value = double.NaN;
        return node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out value);
    }

    private JsonObject? Object(JsonObject obj, string key, bool required)
    {
        var node = obj[key];
        if (node is null) return required ? throw Error(key, "missing") : null;
        return node as JsonObject ?? throw Error(key, $"'{node.ToJsonString()}' is not an object");
    }

    private TEnum Enum<TEnum>(string key, string value, params (string Name, TEnum Value)[] options)
    {
        foreach (var (n, v) in options) if (n == value) return v;
        throw Error(key, $"unknown value '{value}'; expected {string.Join(", ", options.Select(o => o.Name))}");
    }
}
