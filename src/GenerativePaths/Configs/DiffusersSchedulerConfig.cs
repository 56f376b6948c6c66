using System.Globalization;
using System.Text.Json;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Configs;

/// <summary>
/// A diffusers <c>scheduler_config.json</c> read into the library's terms: the path of the model, the step plan the
/// scheduler class would build for a number of steps (exactly its <c>timesteps</c> and <c>sigmas</c>), the sampler it
/// stands for and the typed options the sampler needs.
/// </summary>
/// <remarks>
/// <para>Supported classes (diffusers 0.3x–0.40, <c>src/diffusers/schedulers/scheduling_*.py</c>), one family file each
/// (<c>Diffusers*Family.cs</c>, with one typed options record per family in <see cref="Options"/>): <c>DDIMScheduler</c>,
/// <c>DDPMScheduler</c>, <c>PNDMScheduler</c>; <c>EulerDiscreteScheduler</c>, <c>EulerAncestralDiscreteScheduler</c>,
/// <c>HeunDiscreteScheduler</c>, <c>LMSDiscreteScheduler</c>, <c>KDPM2DiscreteScheduler</c>; <c>DPMSolverMultistepScheduler</c>,
/// <c>DPMSolverSinglestepScheduler</c>, <c>UniPCMultistepScheduler</c>, <c>DEISMultistepScheduler</c>, <c>SASolverScheduler</c>;
/// <c>LCMScheduler</c>, <c>TCDScheduler</c>; <c>EDMEulerScheduler</c>, <c>EDMDPMSolverMultistepScheduler</c>;
/// <c>FlowMatchEulerDiscreteScheduler</c>, <c>FlowMatchHeunDiscreteScheduler</c>. Fields the result does not depend on are accepted and
/// ignored (they stay in <see cref="RawConfig"/>); an unknown class or an unsupported value throws a
/// <see cref="DiffusersConfigException"/> naming the field and value. <see cref="CreatePlan"/> builds schedule, sampler and model
/// time map; <see cref="WithClass"/> is diffusers' <c>from_config</c> swap.</para>
/// <para>Schedule points follow the library's state convention <c>x = alpha x0 + sigma eps</c>:</para>
/// <list type="bullet">
/// <item>DDIM / DDPM: <c>alpha = sqrt(abar[t])</c>, <c>sigma = sqrt(1 - abar[t])</c>, model time <c>t</c>; the end point is the
/// clean point, or for DDIM <c>abar[t_last - T div N]</c> / <c>abar[0]</c> (<c>set_alpha_to_one = false</c>) as diffusers' last step goes.</item>
/// <item>Euler family, DPM-Solver, UniPC: the scheduler's VE sigma <c>s</c> (float32, as diffusers stores it) gives
/// <c>alpha = 1 / sqrt(1 + s^2)</c>, <c>sigma = s alpha</c>, model time = the scheduler's timestep (fractional for Euler-family
/// linspace and Karras plans). The Euler family's sample is <c>x / alpha</c> (<see cref="Coordinates"/>).</item>
/// <item>Flow matching: <c>alpha = 1 - s</c>, <c>sigma = s</c>, model time <c>T s</c> (float32 as diffusers).</item>
/// </list>
/// <para>Known quirk reproduced on purpose: <c>FlowMatchEulerDiscreteScheduler</c> with a static <c>shift</c> builds its
/// smallest time by shifting <c>1/T</c> once in its constructor and then shifts the whole plan again in
/// <c>set_timesteps</c>, so the last non-zero sigma is shifted twice (with <c>shift = 3</c>, 20 steps: 0.00893, not 0.00299).
/// Models are used with that plan, so the importer builds the same one.</para>
/// <para>Thread safety: immutable after Parse (WithAlphasCumprod returns a copy); one instance may serve several threads, each call builds a new schedule.</para>
/// </remarks>
public sealed class DiffusersSchedulerConfig
{
    private DiffusersTables? _tables;

    private DiffusersSchedulerConfig(JsonElement raw, string className)
    {
        RawConfig = raw.Clone();
        ClassName = className;
    }

    /// <summary>Parses a <c>scheduler_config.json</c> text.</summary>
    /// <exception cref="DiffusersConfigException">An unknown class, or an unsupported or invalid value (named).</exception>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static DiffusersSchedulerConfig Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = JsonDocument.Parse(json);
        return FromJson(doc.RootElement);
    }

    /// <summary>Reads a configuration object as the class <paramref name="className"/> (which wins over the object's <c>_class_name</c>, as
    /// diffusers' <c>from_config</c> does), or as its <c>_class_name</c> when <paramref name="className"/> is null.</summary>
    /// <exception cref="DiffusersConfigException">An unknown class, or an unsupported or invalid value (named).</exception>
    public static DiffusersSchedulerConfig FromJson(JsonElement config, string? className = null)
    {
        if (config.ValueKind != JsonValueKind.Object)
            throw new DiffusersConfigException("(root)", config.ValueKind.ToString(), "A scheduler configuration must be a JSON object.", unsupported: false);
        bool hasName = config.TryGetProperty("_class_name", out var cn) && cn.ValueKind != JsonValueKind.Null;
        if (hasName && cn.ValueKind != JsonValueKind.String)
            throw new DiffusersConfigException("_class_name", cn.GetRawText(), $"_class_name = {cn.GetRawText()} is invalid: must be a string naming the scheduler class.", unsupported: false);
        // As diffusers' SchedulerClass.from_config(config): the class asked for wins over the configuration's _class_name.
        string? name = !string.IsNullOrEmpty(className) ? className : hasName ? cn.GetString() : null;
        if (string.IsNullOrEmpty(name))
            throw new DiffusersConfigException("_class_name", null, "The configuration has no _class_name and none was given.", unsupported: false);
        if (hasName && cn.GetString() != name)
        {
            // Keep the stored text consistent with the class it is read as (ToJson round-trips to the same class).
            var obj = System.Text.Json.Nodes.JsonObject.Create(config)!;
            obj["_class_name"] = name;
            using var doc = JsonDocument.Parse(obj.ToJsonString());
            return new DiffusersSchedulerConfig(doc.RootElement, name).Read();
        }
        var c = new DiffusersSchedulerConfig(config, name);
        return c.Read();
    }

    // ---------------------------------------------------------------- identity

    /// <summary>The diffusers class name (<c>_class_name</c>).</summary>
    public string ClassName { get; }

    /// <summary>The step rule the class stands for.</summary>
    public SamplerKind Sampler { get; internal set; }

    /// <summary>What the model predicts (<c>prediction_type</c>; flow matching: <see cref="Prediction.FlowVelocity"/>).</summary>
    public Prediction Prediction { get; internal set; }

    /// <summary>The model's path: a <see cref="DiscreteVpPath"/> of the configuration's <c>alphas_cumprod</c>, or for flow
    /// matching the unshifted <see cref="RectifiedFlowPath"/> with model time <c>T u</c>.</summary>
    public NoisePath Path { get; internal set; } = null!;

    /// <summary>What the peer's sample is relative to the library's state.</summary>
    internal SampleCoordinates Coordinates { get; set; }

    /// <summary>The configuration as read (for any field not surfaced here).</summary>
    public JsonElement RawConfig { get; }

    /// <summary>The configuration as JSON text (the fields as read, with <c>_class_name</c>); <see cref="Parse"/> of it gives an equal configuration.</summary>
    public string ToJson()
    {
        if (RawConfig.TryGetProperty("_class_name", out _)) return RawConfig.GetRawText();
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("_class_name", ClassName);
            foreach (var p in RawConfig.EnumerateObject()) p.WriteTo(w);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    // ---------------------------------------------------------------- training table

    /// <summary><c>num_train_timesteps</c> (T).</summary>
    public int NumTrainTimesteps { get; internal set; }

    /// <summary><c>beta_schedule</c> (<c>linear</c>, <c>scaled_linear</c>, <c>squaredcos_cap_v2</c>; <c>trained</c> when <c>trained_betas</c> is given; empty for flow matching).</summary>
    public string BetaSchedule { get; internal set; } = "";

    /// <summary><c>beta_start</c>.</summary>
    public double BetaStart { get; internal set; }

    /// <summary><c>beta_end</c>.</summary>
    public double BetaEnd { get; internal set; }

    /// <summary><c>rescale_betas_zero_snr</c> (Lin et al. 2024).</summary>
    public bool RescaleBetasZeroSnr { get; internal set; }

    /// <summary>The float32 <c>alphas_cumprod</c> the scheduler uses (as float64 values; after diffusers' <c>2^-24</c>
    /// replacement of a zero terminal value where the class makes it).</summary>
    /// <remarks>Only the classes of a discrete model have this table (<see cref="HasAlphasCumprod"/>). For the model's time map,
    /// whatever the class, use <see cref="ModelTimeMap"/> rather than <c>ModelTimeMaps.DiscreteVariancePreserving(AlphasCumprod)</c>.</remarks>
    /// <exception cref="InvalidOperationException">A flow-matching or EDM class, which has no table; the message names
    /// <see cref="ModelTimeMap"/> and the map it holds.</exception>
    public IReadOnlyList<double> AlphasCumprod
    {
        get => HasAlphasCumprod ? _alphasCumprod
            : throw new InvalidOperationException($"{ClassName} has no alphas_cumprod table (it is not a discrete-time model). " +
                $"Its model's time map is config.ModelTimeMap ({ModelTimeMapDescription}), which every configuration gives.");
        internal set => _alphasCumprod = value;
    }

    private IReadOnlyList<double> _alphasCumprod = [];

    /// <summary>Whether the class has an <see cref="AlphasCumprod"/> table (a discrete model; false for flow matching and EDM).</summary>
    public bool HasAlphasCumprod => Family.HasTrainingTable;

    private Func<double, NoiseLevel>? _modelTimeMap;

    /// <summary>
    /// The time map of the model this configuration belongs to: the model's point on its path at each model time (what
    /// <see cref="GaussianMixtureModel{T}"/>, <see cref="ThresholdingModel{T}"/> and other wrappers need).
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item>Discrete classes (DDIM, DDPM, PNDM, the Euler family, DPM-Solver, UniPC, DEIS, SA-Solver, LCM, TCD):
    /// <see cref="ModelTimeMaps.DiscreteVariancePreserving"/> of <see cref="AlphasCumprod"/> (fractional timesteps interpolated
    /// in log sigma, as the Euler family's plans ask).</item>
    /// <item>Flow matching: <see cref="ModelTimeMaps.RectifiedFlow"/><c>(num_train_timesteps)</c>: model time <c>T s</c>,
    /// <c>alpha = 1 - s</c>, <c>sigma = s</c>.</item>
    /// <item>EDM classes: the noise input <c>c_noise = ln(sigma) / 4</c> of an <c>edm_F</c> network, mapped to the VE point
    /// <c>(1, sigma)</c>.</item>
    /// </list>
    /// <para>The same map as <see cref="DiffusersSamplingPlan.ModelTimeMap"/> of any plan of this configuration.</para>
    /// </remarks>
    public Func<double, NoiseLevel> ModelTimeMap => _modelTimeMap ??= CreateModelTimeMap();

    private Func<double, NoiseLevel> CreateModelTimeMap()
    {
        if (EdmPreconditioned) return t => NoiseLevel.VarianceExploding(EdmPreconditioning.SigmaFromNoiseInput(t));
        if (Family.IsFlow) return ModelTimeMaps.RectifiedFlow(NumTrainTimesteps);
        return ModelTimeMaps.DiscreteVariancePreserving(_alphasCumprod);
    }

    private string ModelTimeMapDescription
        => EdmPreconditioned ? "the EDM noise input ln(sigma)/4 to sigma"
         : Family.IsFlow ? $"ModelTimeMaps.RectifiedFlow({NumTrainTimesteps.ToString(CultureInfo.InvariantCulture)})"
         : "ModelTimeMaps.DiscreteVariancePreserving(AlphasCumprod)";

    // ---------------------------------------------------------------- spacing

    /// <summary><c>timestep_spacing</c>.</summary>
    public TimestepSpacing TimestepSpacing { get; internal set; }

    /// <summary><c>steps_offset</c>.</summary>
    public int StepsOffset { get; internal set; }

    // ---------------------------------------------------------------- options for samplers

    /// <summary>DDIM <c>set_alpha_to_one</c>: whether the last step goes to the clean point (else to <c>abar[0]</c>).</summary>
    public bool SetAlphaToOne { get; internal set; }

    /// <summary>DDPM <c>variance_type</c> (for DPM-Solver, <see cref="DdpmVarianceType.LearnedRange"/> means the model output
    /// carries learned-variance channels to drop; the default <see cref="DdpmVarianceType.FixedSmall"/> means it does not).</summary>
    public DdpmVarianceType VarianceType { get; internal set; }

    /// <summary><c>clip_sample</c>: clip the predicted x0 to <c>[-ClipSampleRange, ClipSampleRange]</c>.</summary>
    public bool ClipSample { get; internal set; }

    /// <summary><c>clip_sample_range</c>.</summary>
    public double ClipSampleRange { get; internal set; }

    /// <summary><c>thresholding</c>: dynamic thresholding of x0 (Saharia et al. 2022).</summary>
    public bool Thresholding { get; internal set; }

    /// <summary><c>dynamic_thresholding_ratio</c> (the quantile).</summary>
    public double DynamicThresholdingRatio { get; internal set; }

    /// <summary><c>sample_max_value</c> (the threshold's upper bound).</summary>
    public double SampleMaxValue { get; internal set; }

    /// <summary><c>solver_order</c> (DPM-Solver, UniPC).</summary>
    public int SolverOrder { get; internal set; }

    /// <summary><c>lower_order_final</c>.</summary>
    public bool LowerOrderFinal { get; internal set; }

    /// <summary><c>euler_at_final</c> (DPM-Solver).</summary>
    public bool EulerAtFinal { get; internal set; }

    /// <summary><c>final_sigmas_type</c>.</summary>
    public FinalSigmasType FinalSigmasType { get; internal set; }

    /// <summary><c>algorithm_type</c> (DPM-Solver).</summary>
    public DpmAlgorithmType AlgorithmType { get; internal set; }

    /// <summary><c>solver_type</c> (DPM-Solver: midpoint/heun; UniPC: bh1/bh2).</summary>
    public SolverType SolverType { get; internal set; }

    /// <summary><c>lambda_min_clipped</c> (DPM-Solver).</summary>
    public double LambdaMinClipped { get; internal set; }

    /// <summary><c>predict_x0</c> (UniPC).</summary>
    public bool PredictX0 { get; internal set; }

    /// <summary><c>disable_corrector</c> (UniPC): step indices without the corrector.</summary>
    public IReadOnlyList<int> DisableCorrector { get; internal set; } = [];

    /// <summary><c>use_karras_sigmas</c>.</summary>
    public bool UseKarrasSigmas { get; internal set; }

    /// <summary><c>use_exponential_sigmas</c>.</summary>
    public bool UseExponentialSigmas { get; internal set; }

    /// <summary><c>sigma_min</c> override of the Karras/exponential plan (Euler), if given.</summary>
    public double? SigmaMin { get; internal set; }

    /// <summary><c>sigma_max</c> override of the Karras/exponential plan (Euler), if given.</summary>
    public double? SigmaMax { get; internal set; }

    /// <summary>The Karras <c>rho</c> diffusers' discrete classes use (always 7; EDM classes read theirs into <see cref="Rho"/>).</summary>
    public double KarrasRho => 7.0;

    /// <summary>SA-Solver: <c>predictor_order</c> (2).</summary>
    public int PredictorOrder { get; internal set; } = 2;

    /// <summary>SA-Solver: <c>corrector_order</c> (2).</summary>
    public int CorrectorOrder { get; internal set; } = 2;

    /// <summary>PNDM: <c>skip_prk_steps</c> (PLMS from the first step instead of the Runge–Kutta warm-up).</summary>
    public bool SkipPrkSteps { get; internal set; }

    /// <summary>LCM / TCD: <c>original_inference_steps</c> (the distillation schedule's length, 50).</summary>
    public int OriginalInferenceSteps { get; internal set; } = 50;

    /// <summary>LCM: <c>timestep_scaling</c> of the boundary condition (10).</summary>
    public double TimestepScaling { get; internal set; } = 10;

    /// <summary>EDM: <c>sigma_data</c>, the data standard deviation of the preconditioning (0.5).</summary>
    public double SigmaData { get; internal set; } = 0.5;

    /// <summary>EDM: <c>rho</c> of the Karras plan (7).</summary>
    public double Rho { get; internal set; } = 7;

    /// <summary>EDM: <c>sigma_schedule</c> is <c>exponential</c> (else <c>karras</c>).</summary>
    public bool ExponentialSigmaSchedule { get; internal set; }

    /// <summary>EDM classes: the model is an <c>edm_F</c> network used through <see cref="EdmPreconditionedModel{T}"/>
    /// (<see cref="Prediction"/> is then <see cref="Prediction.Data"/>, what the wrapped model returns).</summary>
    public bool EdmPreconditioned { get; internal set; }

    /// <summary>EDM with <c>prediction_type = v_prediction</c>: <c>c_out</c> is negated.</summary>
    public bool EdmNegatedOutput { get; internal set; }

    /// <summary>Flow matching: static <c>shift</c>.</summary>
    public double Shift { get; internal set; }

    /// <summary>Flow matching: <c>use_dynamic_shifting</c> (then <see cref="CreateSchedule(int, double?)"/> needs <c>mu</c>).</summary>
    public bool UseDynamicShifting { get; internal set; }

    /// <summary>Flow matching: <c>base_shift</c>.</summary>
    public double BaseShift { get; internal set; }

    /// <summary>Flow matching: <c>max_shift</c>.</summary>
    public double MaxShift { get; internal set; }

    /// <summary>Flow matching: <c>base_image_seq_len</c>.</summary>
    public int BaseImageSeqLen { get; internal set; }

    /// <summary>Flow matching: <c>max_image_seq_len</c>.</summary>
    public int MaxImageSeqLen { get; internal set; }

    /// <summary>Flow matching: <c>time_shift_type</c>.</summary>
    public TimeShiftType TimeShiftType { get; internal set; }

    /// <summary>Flow matching: <c>shift_terminal</c> (stretch so the last sigma is this value), if given.</summary>
    public double? ShiftTerminal { get; internal set; }

    /// <summary>Flow matching: <c>stochastic_sampling</c> (re-noise each step instead of the Euler update).</summary>
    public bool StochasticSampling { get; internal set; }

    // ================================================================ reading

    /// <summary>The typed options of the class's family (e.g. <see cref="MultistepSolverOptions"/> for DPM-Solver, UniPC, DEIS, SA-Solver):
    /// only the fields that family reads. The flat properties of this class hold the same values (and the defaults of the fields a family
    /// does not read).</summary>
    public DiffusersSchedulerOptions Options { get; private set; } = null!;

    /// <summary>The family of the class (its plan, listings and sampler).</summary>
    internal DiffusersSchedulerFamily Family { get; private set; } = null!;

    private DiffusersSchedulerConfig Read()
    {
        Family = DiffusersSchedulerFamily.Find(ClassName) ?? throw new DiffusersConfigException("_class_name", ClassName,
            $"Scheduler class '{ClassName}' is not supported. Supported: {DiffusersSchedulerFamily.SupportedClassNames}.");
        (Sampler, Coordinates) = Family.Classes[ClassName];

        NumTrainTimesteps = Int("num_train_timesteps", 1000);
        if (NumTrainTimesteps < 2 || NumTrainTimesteps > MaxTrainTimesteps)
            throw Invalid("num_train_timesteps", NumTrainTimesteps, $"must lie in [2, {MaxTrainTimesteps}]");

        if (!Family.HasTrainingTable) { Family.ReadFields(this); Options = Family.CreateOptions(this); return this; }

        (double defaultStart, double defaultEnd) = Family.DefaultBetas(Sampler);
        BetaStart = Double("beta_start", defaultStart);
        BetaEnd = Double("beta_end", defaultEnd);
        BetaSchedule = String("beta_schedule", Family.DefaultBetaSchedule);
        var trained = DoubleListOrNull("trained_betas");
        if (trained is null && BetaSchedule is "linear" or "scaled_linear")
        {
            // Both ends are betas: finite and in [0, 1).
            if (!(BetaStart >= 0 && BetaStart < 1)) throw Invalid("beta_start", BetaStart, "must lie in [0, 1)");
            if (!(BetaEnd >= 0 && BetaEnd < 1)) throw Invalid("beta_end", BetaEnd, "must lie in [0, 1)");
        }
        if (trained is not null) BetaSchedule = "trained";
        RescaleBetasZeroSnr = Bool("rescale_betas_zero_snr", false);
        if (RescaleBetasZeroSnr && !Family.AcceptsZeroSnr(Sampler))
            throw Unsupported("rescale_betas_zero_snr", "true", $"{ClassName} has no zero-terminal-SNR option");

        Prediction = ReadPrediction();
        TimestepSpacing = ReadSpacing(Family.DefaultSpacing);
        StepsOffset = Int("steps_offset", 0);
        if (StepsOffset < 0 || StepsOffset >= NumTrainTimesteps) throw Invalid("steps_offset", StepsOffset, $"must lie in [0, num_train_timesteps = {NumTrainTimesteps})");

        // A field the class does not read is ignored, as diffusers' from_config keeps it unused (a DDIM config swapped to Euler, say).
        ClipSample = Family.ReadsClipSample(Sampler) && Bool("clip_sample", Family.DefaultClipSample);
        ClipSampleRange = Double("clip_sample_range", 1.0);
        Thresholding = Family.ReadsThresholding(Sampler) && Bool("thresholding", false);
        DynamicThresholdingRatio = Double("dynamic_thresholding_ratio", 0.995);
        SampleMaxValue = Double("sample_max_value", 1.0);
        SetAlphaToOne = Bool("set_alpha_to_one", true);
        VarianceType = ReadVarianceType();
        SolverOrder = Int("solver_order", 2);
        if (SolverOrder < 1 || SolverOrder > 3) throw Unsupported("solver_order", SolverOrder.ToString(CultureInfo.InvariantCulture), "solver_order must be 1, 2 or 3");
        LowerOrderFinal = Bool("lower_order_final", Family.DefaultLowerOrderFinal(Sampler));
        EulerAtFinal = Bool("euler_at_final", false);
        FinalSigmasType = ReadFinalSigmasType();
        AlgorithmType = ReadAlgorithmType();
        SolverType = ReadSolverType();
        LambdaMinClipped = Double("lambda_min_clipped", double.NegativeInfinity);
        PredictX0 = Bool("predict_x0", true);
        DisableCorrector = IntList("disable_corrector");
        UseKarrasSigmas = Bool("use_karras_sigmas", false);
        UseExponentialSigmas = Bool("use_exponential_sigmas", false);
        SigmaMin = DoubleOrNull("sigma_min");
        SigmaMax = DoubleOrNull("sigma_max");
        if (SigmaMin is { } smin && !(smin >= 0 && double.IsFinite(smin))) throw Invalid("sigma_min", smin, "must be finite and non-negative");
        if (SigmaMax is { } smax && !(smax > 0 && double.IsFinite(smax))) throw Invalid("sigma_max", smax, "must be finite and positive");
        if (SigmaMin is { } lo && SigmaMax is { } hi && lo > hi)
            throw Invalid("sigma_min", lo, $"is larger than sigma_max = {hi.ToString(CultureInfo.InvariantCulture)}");

        if (Bool("use_beta_sigmas", false)) throw Unsupported("use_beta_sigmas", "true", "beta-distributed sigmas are not supported");
        if (Bool("use_lu_lambdas", false)) throw Unsupported("use_lu_lambdas", "true", "log-uniform lambdas are not supported");
        if (Bool("use_flow_sigmas", false)) throw Unsupported("use_flow_sigmas", "true", "flow sigmas on a multistep solver are not supported");
        string interpolation = String("interpolation_type", "linear");
        if (interpolation != "linear") throw Unsupported("interpolation_type", interpolation, "only linear sigma interpolation is supported");
        string timestepType = String("timestep_type", "discrete");
        if (timestepType != "discrete") throw Unsupported("timestep_type", timestepType, "only discrete timesteps are supported");
        if (UseKarrasSigmas && UseExponentialSigmas) throw Invalid("use_exponential_sigmas", true, "cannot be combined with use_karras_sigmas");
        Family.ReadFields(this);

        var ac = DiffusersBetaSchedules.AlphasCumprod(BetaSchedule == "trained" ? "linear" : BetaSchedule, NumTrainTimesteps, BetaStart, BetaEnd, trained, RescaleBetasZeroSnr);
        if (trained is not null && trained.Count != NumTrainTimesteps && Has("num_train_timesteps"))
            throw Invalid("trained_betas", trained.Count, $"has {trained.Count} values but num_train_timesteps is {NumTrainTimesteps}");
        if (trained is not null) NumTrainTimesteps = trained.Count;
        for (int i = 0; i < ac.Length; i++)
            if (!(ac[i] >= 0 && ac[i] < 1) || (ac[i] == 0 && i < ac.Length - 1))
            {
                string why = $"gives alphas_cumprod[{i}] = {ac[i].ToString(CultureInfo.InvariantCulture)}, outside (0, 1)";
                if (trained is not null) throw Invalid("trained_betas", $"[{i}] = {trained[i].ToString(CultureInfo.InvariantCulture)}", why);
                if (BetaSchedule is "linear" or "scaled_linear")
                    throw i == 0 ? Invalid("beta_start", BetaStart, why)
                                 : Invalid("beta_end", BetaEnd, $"with beta_start = {BetaStart.ToString(CultureInfo.InvariantCulture)} ({BetaSchedule}) it {why}");
                throw Invalid("beta_schedule", BetaSchedule, $"with num_train_timesteps = {NumTrainTimesteps} it {why}");
            }
        if (RescaleBetasZeroSnr && Family.ReplacesZeroTerminal(Sampler))
            ac[^1] = Math.Pow(2, -24); // diffusers keeps the first sigma finite this way
        AlphasCumprod = Array.AsReadOnly(ac);
        Path = new DiscreteVpPath(ac);
        _tables = new DiffusersTables(ac);
        Options = Family.CreateOptions(this);
        return this;
    }

    private Prediction ReadPrediction()
    {
        string p = String("prediction_type", "epsilon");
        Family.CheckPrediction(this, p);
        return p switch
        {
            "epsilon" => Prediction.Epsilon,
            "sample" => Prediction.Data,
            "v_prediction" => Prediction.Velocity,
            _ => throw Unsupported("prediction_type", p, "use epsilon, sample or v_prediction"),
        };
    }

    private TimestepSpacing ReadSpacing(string dflt)
    {
        string s = String("timestep_spacing", dflt);
        return s switch
        {
            "leading" => TimestepSpacing.Leading,
            "trailing" => TimestepSpacing.Trailing,
            "linspace" => TimestepSpacing.Linspace,
            _ => throw Unsupported("timestep_spacing", s, "use leading, trailing or linspace"),
        };
    }

    private DdpmVarianceType ReadVarianceType()
    {
        if (!Has("variance_type") || RawConfig.GetProperty("variance_type").ValueKind == JsonValueKind.Null)
            return DdpmVarianceType.FixedSmall;
        string v = String("variance_type", "fixed_small");
        if (Family.VarianceTypeMeansLearnedChannels(Sampler))
        {
            // DPM-Solver's variance_type only says whether the model output carries learned variance channels.
            return v is "learned" or "learned_range" ? DdpmVarianceType.LearnedRange : throw Unsupported("variance_type", v, "DPM-Solver accepts learned or learned_range");
        }
        return v switch
        {
            "fixed_small" => DdpmVarianceType.FixedSmall,
            "fixed_small_log" => DdpmVarianceType.FixedSmallLog,
            "fixed_large" => DdpmVarianceType.FixedLarge,
            "fixed_large_log" => DdpmVarianceType.FixedLargeLog,
            "learned" => DdpmVarianceType.Learned,
            "learned_range" => DdpmVarianceType.LearnedRange,
            _ => throw Unsupported("variance_type", v, "use fixed_small, fixed_small_log, fixed_large, fixed_large_log, learned or learned_range"),
        };
    }

    private FinalSigmasType ReadFinalSigmasType()
    {
        string f = String("final_sigmas_type", "zero");
        return f switch
        {
            "zero" => FinalSigmasType.Zero,
            "sigma_min" => FinalSigmasType.SigmaMin,
            _ => throw Unsupported("final_sigmas_type", f, "use zero or sigma_min"),
        };
    }

    private DpmAlgorithmType ReadAlgorithmType()
    {
        string a = String("algorithm_type", Sampler switch { SamplerKind.Deis => "deis", SamplerKind.SaSolver => "data_prediction", _ => "dpmsolver++" });
        return a switch
        {
            "dpmsolver++" => DpmAlgorithmType.DpmSolverPlusPlus,
            "sde-dpmsolver++" => DpmAlgorithmType.SdeDpmSolverPlusPlus,
            "dpmsolver" => DpmAlgorithmType.DpmSolver,
            "sde-dpmsolver" => DpmAlgorithmType.SdeDpmSolver,
            "deis" when Sampler == SamplerKind.Deis => DpmAlgorithmType.Deis,
            "data_prediction" when Sampler == SamplerKind.SaSolver => DpmAlgorithmType.DpmSolverPlusPlus,
            "noise_prediction" when Sampler == SamplerKind.SaSolver => DpmAlgorithmType.DpmSolver,
            _ => throw Unsupported("algorithm_type", a, "use dpmsolver++, sde-dpmsolver++, dpmsolver or sde-dpmsolver"),
        };
    }

    private SolverType ReadSolverType()
    {
        string dflt = Family.DefaultSolverType(Sampler);
        string s = String("solver_type", dflt);
        var t = s switch
        {
            "midpoint" => SolverType.Midpoint,
            "heun" => SolverType.Heun,
            "bh1" => SolverType.Bh1,
            "bh2" => SolverType.Bh2,
            "logrho" => SolverType.LogRho,
            _ => throw Unsupported("solver_type", s, "use midpoint, heun (DPM-Solver), bh1, bh2 (UniPC) or logrho (DEIS)"),
        };
        return Family.MapSolverType(Sampler, t);
    }
    // ================================================================ schedules

    /// <summary>The plan the scheduler builds for <paramref name="steps"/> inference steps (its <c>set_timesteps(steps)</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Steps outside <c>[1, T]</c>.</exception>
    /// <exception cref="InvalidOperationException">Flow matching with <c>use_dynamic_shifting</c>: use <see cref="CreateSchedule(int, double?)"/> with <c>mu</c>.</exception>
    public StepSchedule CreateSchedule(int steps) => CreateSchedule(steps, null);

    /// <summary>The plan for <paramref name="steps"/> steps; <paramref name="mu"/> is the resolution-dependent shift of a flow-matching
    /// configuration with <c>use_dynamic_shifting</c> (see <see cref="DynamicShiftMu"/>), ignored otherwise.</summary>
    public StepSchedule CreateSchedule(int steps, double? mu)
    {
        if (steps < 1 || steps > NumTrainTimesteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"The number of inference steps must lie in [1, {NumTrainTimesteps}] for {ClassName}.");
        return Family.CreateSchedule(this, steps, mu);
    }

    /// <summary>
    /// The plan for a user's own timesteps (diffusers' <c>set_timesteps(timesteps=[...])</c>), noisiest first: DDIM/DDPM use
    /// the table at each timestep; the sigma-based classes interpolate their sigma table at each timestep (NumPy <c>interp</c>);
    /// flow matching takes <c>sigma = shift(t / T)</c> (the scheduler shifts custom timesteps too) and calls the model with the
    /// timesteps as given. The plan ends at the clean point (DDIM: as <see cref="SetAlphaToOne"/> says).
    /// </summary>
    /// <exception cref="ArgumentException">A timestep that is non-finite, outside <c>[0, T]</c> or larger than its predecessor; the message names the first bad index.</exception>
    public StepSchedule CreateScheduleFromTimesteps(IReadOnlyList<double> timesteps)
    {
        StepSchedules.ValidateDecreasing(timesteps, nameof(timesteps), "timestep", 0, Family.IsFlow ? NumTrainTimesteps : NumTrainTimesteps - 1);
        return Family.CreateScheduleFromTimesteps(this, timesteps);
    }

    /// <summary>
    /// The plan for a user's own sigmas (diffusers' <c>set_timesteps(sigmas=[...])</c>), noisiest first: for the discrete
    /// classes these are VE sigmas <c>sigma/alpha</c> and each model time is the timestep of that sigma (diffusers'
    /// <c>_sigma_to_t</c>; rounded for DPM-Solver and UniPC); for flow matching they are flow sigmas, shifted by the
    /// configuration's shift as the scheduler does (or by <paramref name="mu"/> with dynamic shifting). A final 0 is appended
    /// when the list does not end at 0.
    /// </summary>
    /// <exception cref="ArgumentException">A sigma that is non-finite, negative (flow: outside <c>[0, 1]</c>) or larger than its predecessor; the message names the first bad index.</exception>
    /// <exception cref="NotSupportedException">DDIM and DDPM, which take no sigmas.</exception>
    public StepSchedule CreateScheduleFromSigmas(IReadOnlyList<double> sigmas, double? mu = null)
        => Family.CreateScheduleFromSigmas(this, sigmas, mu);

    /// <summary>
    /// A copy of this configuration that uses <paramref name="alphasCumprod"/> exactly (e.g. a table listed by a reference
    /// run or exported from a model) instead of the one computed from the betas.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong length, or a table <see cref="DiscreteVpPath"/> rejects (index named).</exception>
    /// <exception cref="NotSupportedException">Flow matching, which has no table.</exception>
    public DiffusersSchedulerConfig WithAlphasCumprod(IReadOnlyList<double> alphasCumprod)
    {
        ArgumentNullException.ThrowIfNull(alphasCumprod);
        if (Family.IsFlow || _tables is null) throw new NotSupportedException($"{ClassName} has no alphas_cumprod table.");
        if (alphasCumprod.Count != NumTrainTimesteps)
            throw new ArgumentException($"The table has {alphasCumprod.Count} values but num_train_timesteps is {NumTrainTimesteps}.", nameof(alphasCumprod));
        var copy = (DiffusersSchedulerConfig)MemberwiseClone();
        var path = new DiscreteVpPath(alphasCumprod);
        copy.Path = path;
        copy.AlphasCumprod = path.AlphasCumprod;
        copy._tables = new DiffusersTables(path.AlphasCumprod);
        copy._modelTimeMap = null;
        return copy;
    }

    /// <summary>The (fractional) timestep of a VE sigma on this configuration's float32 table, as diffusers' <c>_sigma_to_t</c>
    /// computes it (log sigma interpolated linearly, clipped to <c>[0, T - 1]</c>); e.g. the model time of a midpoint.</summary>
    /// <exception cref="NotSupportedException">Flow matching (its timestep is <c>T sigma</c>).</exception>
    public double TimestepFromSigma(double sigma)
    {
        if (Family.IsFlow || _tables is null) throw new NotSupportedException($"{ClassName}: the timestep of a flow sigma s is {NumTrainTimesteps} s.");
        if (!(sigma >= 0)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "Sigma must be non-negative.");
        return Tables.SigmaToT(sigma);
    }

    /// <summary>The <c>mu</c> of the SD3/Flux pipelines for <paramref name="imageSeqLen"/> latent tokens, from this configuration's
    /// <c>base_shift</c>, <c>max_shift</c>, <c>base_image_seq_len</c>, <c>max_image_seq_len</c> (<see cref="FlowTimeShift.ResolutionMu"/>).</summary>
    public double DynamicShiftMu(int imageSeqLen) => FlowTimeShift.ResolutionMu(imageSeqLen, BaseImageSeqLen, MaxImageSeqLen, BaseShift, MaxShift);

    internal DiscreteVpPath DiscretePath => (DiscreteVpPath)Path;

    internal DiffusersTables Tables => _tables ?? throw new InvalidOperationException("No discrete table.");

    // Points from float32 VE sigmas: alpha = 1/sqrt(1+s^2), sigma = s alpha; the final sigma (0 or sigma_min) is appended.
    internal StepSchedule VeSchedule(double[] sigmas, double[] timesteps, double lastSigma)
    {
        var points = new List<SchedulePoint>(sigmas.Length + 1);
        for (int i = 0; i < sigmas.Length; i++)
        {
            double s = (float)sigmas[i];
            var (a, sg) = Path.CoefficientsAtSigmaOverAlpha(s);
            points.Add(new SchedulePoint(a, sg, timesteps[i]));
        }
        double sl = (float)lastSigma;
        if (sl == 0) points.Add(new SchedulePoint(1.0, 0.0, 0.0));
        else
        {
            var (a, sg) = Path.CoefficientsAtSigmaOverAlpha(sl);
            points.Add(new SchedulePoint(a, sg, 0.0));
        }
        return new StepSchedule(Path, points);
    }

    // diffusers' _convert_to_karras / _convert_to_exponential: float64, no trailing zero, ends not pinned.
    internal static double[] KarrasNoPin(int n, double sigmaMin, double sigmaMax, double rho)
    {
        double minInv = Math.Pow(sigmaMin, 1 / rho), maxInv = Math.Pow(sigmaMax, 1 / rho);
        var s = new double[n];
        for (int i = 0; i < n; i++) s[i] = Math.Pow(maxInv + DiscreteTimesteps.Linspace(0, 1, n, i) * (minInv - maxInv), rho);
        return s;
    }

    internal static double[] ExponentialNoPin(int n, double sigmaMin, double sigmaMax)
    {
        var s = new double[n];
        for (int i = 0; i < n; i++) s[i] = Math.Exp(DiscreteTimesteps.Linspace(Math.Log(sigmaMax), Math.Log(sigmaMin), n, i));
        return s;
    }

    // ================================================================ the sampler

    /// <summary>The library sampler the class stands for, with the options of this configuration and the step arguments
    /// (<c>eta</c>, <c>s_churn</c>, ...): e.g. <see cref="DpmSolverPlusPlus2MSampler"/> for <c>DPMSolverMultistepScheduler</c> of order 2.</summary>
    /// <exception cref="DiffusersConfigException">The configuration asks for a variant the library has no sampler for
    /// (<see cref="DiffusersConfigException.IsUnsupported"/> is true; the message names the class and variant).</exception>
    public Sampler CreateSampler(DiffusersStepArguments? arguments = null)
        => TryCreateSampler(arguments, out var sampler, out string? why) ? sampler
            : throw new DiffusersConfigException("_class_name", ClassName, $"{ClassName}: {why} has no sampler in the library yet.", unsupported: true);

    /// <summary>As <see cref="CreateSampler"/>; false (with the reason in <paramref name="why"/>) where the library has no sampler for the variant.</summary>
    public bool TryCreateSampler(DiffusersStepArguments? arguments, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Sampler? sampler, out string? why)
    {
        sampler = Family.CreateSampler(this, arguments ?? DiffusersStepArguments.Default, out why);
        if (sampler is null) why ??= Sampler.ToString();
        return sampler is not null;
    }

    /// <summary>
    /// The sampling plan for <paramref name="steps"/> inference steps: the schedule of <c>set_timesteps(steps)</c> (each point once),
    /// the sampler (<see cref="CreateSampler"/>), the model time map and the start scale (<see cref="DiffusersSamplingPlan"/>).
    /// </summary>
    /// <param name="steps">The number of inference steps.</param>
    /// <param name="arguments">The step arguments (<c>eta</c>, ...); null for the class's defaults.</param>
    /// <param name="mu">The resolution-dependent shift of a flow-matching configuration with dynamic shifting.</param>
    /// <exception cref="DiffusersConfigException">The library has no sampler for the configured variant.</exception>
    public DiffusersSamplingPlan CreatePlan(int steps, DiffusersStepArguments? arguments = null, double? mu = null)
    {
        var sampler = CreateSampler(arguments);
        var schedule = CreateSchedule(steps, mu);
        var kept = new List<SchedulePoint>(schedule.Points.Length);
        foreach (var p in schedule.Points)
            if (kept.Count == 0 || kept[^1] != p) kept.Add(p);
        if (kept.Count != schedule.Points.Length) schedule = new StepSchedule(schedule.Path, kept);
        return new DiffusersSamplingPlan(this, schedule, sampler);
    }

    // ================================================================ from_config

    /// <summary>
    /// This configuration run as another scheduler class, as diffusers' <c>OtherScheduler.from_config(config, **overrides)</c> does:
    /// every field is kept (the training fields <c>num_train_timesteps</c>, the betas, <c>prediction_type</c>, ... as the model
    /// shipped them), <c>_class_name</c> becomes <paramref name="className"/>, and <paramref name="overrides"/> replace or add fields
    /// (a null value removes the field, so the class's default applies). Fields the new class does not read are kept and ignored.
    /// </summary>
    /// <param name="className">The diffusers class to run, e.g. <c>DPMSolverMultistepScheduler</c>.</param>
    /// <param name="overrides">Fields to set, e.g. <c>use_karras_sigmas = true</c>.</param>
    /// <exception cref="DiffusersConfigException">An unknown class, or a field the new class rejects (named).</exception>
    /// <remarks>A table installed with <see cref="WithAlphasCumprod"/> is not carried over: the new configuration computes its table from the betas.</remarks>
    public DiffusersSchedulerConfig WithClass(string className, IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonNode?>? overrides = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(className);
        var obj = System.Text.Json.Nodes.JsonObject.Create(RawConfig) ?? new System.Text.Json.Nodes.JsonObject();
        obj["_class_name"] = className;
        if (overrides is not null)
            foreach (var (key, value) in overrides)
            {
                ArgumentException.ThrowIfNullOrEmpty(key, nameof(overrides));
                if (key == "_class_name") throw new ArgumentException("Give the class as className, not as an override.", nameof(overrides));
                obj[key] = value?.DeepClone();
            }
        using var doc = JsonDocument.Parse(obj.ToJsonString());
        return FromJson(doc.RootElement, className);
    }

    /// <summary>This configuration with <paramref name="overrides"/> applied (same class); see <see cref="WithClass"/>.</summary>
    /// <exception cref="DiffusersConfigException">A field the class rejects (named).</exception>
    public DiffusersSchedulerConfig With(IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonNode?> overrides)
        => WithClass(ClassName, overrides);

    /// <summary>diffusers' <c>SchedulerClass.from_config(config, **overrides)</c>: <paramref name="config"/> run as <paramref name="className"/>
    /// (see <see cref="WithClass"/>).</summary>
    public static DiffusersSchedulerConfig FromConfig(DiffusersSchedulerConfig config, string className, IReadOnlyDictionary<string, System.Text.Json.Nodes.JsonNode?>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.WithClass(className, overrides);
    }

    // ================================================================ what the peer lists

    /// <summary>
    /// <c>init_noise_sigma</c> for the library's state: the factor of standard-normal noise <c>z</c> such that
    /// <c>x = InitNoiseSigma(schedule) z</c> is diffusers' start (<c>latents = randn * init_noise_sigma</c>) in the library's
    /// coordinates, ready for <see cref="SamplingLoop"/> on <paramref name="schedule"/>. The diffusers idiom works as written.
    /// </summary>
    /// <remarks>
    /// <para>diffusers multiplies <c>z</c> by its attribute <c>init_noise_sigma</c> (<see cref="PeerInitNoiseSigma"/>) in its own
    /// coordinates. The Euler family (<see cref="SampleCoordinates.VarianceExploding"/>: Euler, Euler ancestral, Heun, LMS, KDPM2)
    /// works in <c>x / alpha</c>, where that attribute is the largest sigma of the plan (about 14.6 for Stable Diffusion's table);
    /// the library's state is <c>x = alpha x0 + sigma eps</c>, so this method returns <c>PeerInitNoiseSigma * alpha_0</c>
    /// (<c>sigma_0</c> with <c>linspace</c>/<c>trailing</c> spacing, 1 with <c>leading</c>). For every other class diffusers'
    /// coordinates are the library's and the two values agree: 1, or <c>sqrt(sigma_max^2 + 1)</c> for the EDM classes.</para>
    /// <para>Multiplying the library's state by <see cref="PeerInitNoiseSigma"/> instead gives samples of the wrong scale (a standard
    /// deviation of 6.9 instead of 2.05 on a test mixture) with no error. <see cref="StepSchedule.Start{T}(Tensors.BatchTensor{T})"/>
    /// (<c>x = sigma_0 z</c>) is the library's own start; it differs from this one only where diffusers starts from <c>z</c> itself
    /// (DDIM, DPM-Solver, leading Euler: 1 instead of <c>sigma_0</c> just under 1). Equal to
    /// <see cref="DiffusersSamplingPlan.InitialScale"/>; <see cref="DiffusersSamplingPlan.Run{T}"/> applies it itself.</para>
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    public double InitNoiseSigma(StepSchedule schedule)
    {
        double peer = PeerInitNoiseSigma(schedule);
        return Coordinates == SampleCoordinates.VarianceExploding ? peer * schedule[0].Alpha : peer;
    }

    /// <summary>The value of diffusers' attribute <c>init_noise_sigma</c> for the plan, in diffusers' own coordinates (to compare
    /// with the peer): 1 for DDIM/DDPM/DPM-Solver/UniPC/flow matching; for the Euler family the largest sigma/alpha of the plan, or
    /// <c>sqrt(max^2 + 1)</c> with <c>leading</c> spacing; <c>sqrt(sigma_max^2 + 1)</c> for the EDM classes (as diffusers computes it).</summary>
    /// <remarks>Not a factor for the library's state: for the Euler family it is <c>1 / alpha_0</c> times too large there. Start
    /// with <see cref="InitNoiseSigma"/> (or <see cref="StepSchedule.Start{T}(Tensors.BatchTensor{T})"/>) instead.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="schedule"/> is null.</exception>
    public double PeerInitNoiseSigma(StepSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return Family.InitNoiseSigma(this, schedule);
    }

    /// <summary>The peer's <c>timesteps</c> list for the plan: the model time of every point but the end point; for
    /// <c>HeunDiscreteScheduler</c> each point after the first is listed twice (its two model calls); for
    /// <c>KDPM2DiscreteScheduler</c> each is preceded by the timestep of the geometric midpoint before it.</summary>
    public IReadOnlyList<double> Timesteps(StepSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return Family.Timesteps(this, schedule);
    }

    /// <summary>The peer's <c>sigmas</c> list: the VE sigma <c>sigma/alpha</c> of every point (flow matching: the flow sigma),
    /// with Heun's and KDPM2's repetitions (every point after the first and before the end listed twice).</summary>
    public IReadOnlyList<double> Sigmas(StepSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return Family.Sigmas(this, schedule);
    }

    // ================================================================ JSON helpers

    internal bool Has(string name) => RawConfig.TryGetProperty(name, out _);

    internal bool TryGet(string name, out JsonElement e)
        => RawConfig.TryGetProperty(name, out e) && e.ValueKind != JsonValueKind.Null;

    internal int Int(string name, int dflt)
    {
        if (!TryGet(name, out var e)) return dflt;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue) return (int)d;
        throw Invalid(name, e.GetRawText(), "must be an integer");
    }

    internal double Double(string name, double dflt) => DoubleOrNull(name) ?? dflt;

    internal double? DoubleOrNull(string name)
    {
        if (!TryGet(name, out var e)) return null;
        if (e.ValueKind == JsonValueKind.Number) return e.GetDouble();
        if (e.ValueKind == JsonValueKind.String && e.GetString() is { } s)
        {
            if (s is "-inf" or "-Infinity") return double.NegativeInfinity;
            if (s is "inf" or "Infinity") return double.PositiveInfinity;
        }
        throw Invalid(name, e.GetRawText(), "must be a number");
    }

    internal bool Bool(string name, bool dflt)
    {
        if (!TryGet(name, out var e)) return dflt;
        return e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(name, e.GetRawText(), "must be true or false"),
        };
    }

    internal string String(string name, string dflt)
    {
        if (!TryGet(name, out var e)) return dflt;
        return e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Invalid(name, e.GetRawText(), "must be a string");
    }

    internal List<double>? DoubleListOrNull(string name)
    {
        if (!TryGet(name, out var e)) return null;
        if (e.ValueKind != JsonValueKind.Array) throw Invalid(name, e.GetRawText(), "must be an array of numbers");
        var list = new List<double>();
        int i = 0;
        foreach (var x in e.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number) throw Invalid(name, i, $"element {i} is not a number");
            list.Add(x.GetDouble());
            i++;
        }
        return list;
    }

    internal List<int> IntList(string name)
    {
        var d = DoubleListOrNull(name);
        if (d is null) return [];
        var r = new List<int>(d.Count);
        for (int i = 0; i < d.Count; i++)
        {
            if (d[i] != Math.Floor(d[i])) throw Invalid(name, i, $"element {i} is not an integer");
            r.Add((int)d[i]);
        }
        return r;
    }

    /// <summary>The largest accepted <c>num_train_timesteps</c>.</summary>
    public const int MaxTrainTimesteps = 1_000_000;

    internal const double MinShift = 1e-30, MaxShiftValue = 1e30;

    internal DiffusersConfigException Unsupported(string field, string value, string why)
        => new(field, value, $"{ClassName}: {field} = {value} is not supported: {why}.", unsupported: true);

    internal DiffusersConfigException Invalid(string field, object value, string why)
    {
        string v = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
        return new(field, v, $"{ClassName}: {field} = {v} is invalid: {why}.", unsupported: false);
    }
}
