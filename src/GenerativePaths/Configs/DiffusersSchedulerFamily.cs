using GenerativePaths.Models;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Configs;

/// <summary>
/// One family of diffusers scheduler classes that share a step plan: what the importer needs to know about a class (its
/// defaults, the fields it reads, the plan of <c>set_timesteps</c>, what the peer lists, and the sampler it stands for).
/// Adding a class means adding it to one family (or one new family) and to <see cref="All"/>.
/// </summary>
/// <remarks>Thread safety: families are stateless singletons; every method reads only its arguments.</remarks>
internal abstract class DiffusersSchedulerFamily
{
    /// <summary>Every family the importer knows, in the order their class names are listed in messages.</summary>
    public static IReadOnlyList<DiffusersSchedulerFamily> All { get; } =
    [
        DiffusersDdimFamily.Instance,
        DiffusersDdpmFamily.Instance,
        DiffusersEulerFamily.Instance,
        DiffusersMultistepFamily.Instance,
        DiffusersFlowFamily.Instance,
        DiffusersPndmFamily.Instance,
        DiffusersConsistencyFamily.Instance,
        DiffusersEdmFamily.Instance,
    ];

    /// <summary>The family of <paramref name="className"/>, or null.</summary>
    public static DiffusersSchedulerFamily? Find(string className)
        => All.FirstOrDefault(f => f.Classes.ContainsKey(className));

    /// <summary>Every supported class name, comma separated.</summary>
    public static string SupportedClassNames => string.Join(", ", All.SelectMany(f => f.Classes.Keys));

    /// <summary>The classes of this family with their step rule and sample coordinates.</summary>
    public abstract IReadOnlyDictionary<string, (SamplerKind Sampler, SampleCoordinates Coordinates)> Classes { get; }

    /// <summary>True for flow-matching classes (no beta table).</summary>
    public virtual bool IsFlow => false;

    /// <summary>True for the classes of a discrete model with a beta table (all but flow matching and EDM).</summary>
    public virtual bool HasTrainingTable => !IsFlow;

    /// <summary>The default <c>beta_schedule</c>.</summary>
    public virtual string DefaultBetaSchedule => "linear";

    /// <summary>The default <c>beta_start</c>, <c>beta_end</c> of the class.</summary>
    public virtual (double Start, double End) DefaultBetas(SamplerKind kind) => (0.0001, 0.02);

    /// <summary>The default <c>timestep_spacing</c>.</summary>
    public virtual string DefaultSpacing => "linspace";

    /// <summary>Whether the class reads <c>clip_sample</c> (else the field is ignored, as the class ignores it).</summary>
    public virtual bool ReadsClipSample(SamplerKind kind) => false;

    /// <summary>Whether the class reads <c>thresholding</c> (else the field is ignored, as the class ignores it).</summary>
    public virtual bool ReadsThresholding(SamplerKind kind) => false;

    /// <summary>The default <c>clip_sample</c>.</summary>
    public virtual bool DefaultClipSample => false;

    /// <summary>Whether the class accepts <c>rescale_betas_zero_snr</c>.</summary>
    public virtual bool AcceptsZeroSnr(SamplerKind kind) => true;

    /// <summary>Whether the class replaces a zero terminal <c>alphas_cumprod</c> by <c>2^-24</c> (to keep its first sigma finite).</summary>
    public virtual bool ReplacesZeroTerminal(SamplerKind kind) => false;

    /// <summary>Reads the class-specific fields and checks them (after the common fields and before the table).</summary>
    public virtual void ReadFields(DiffusersSchedulerConfig c) { }

    /// <summary>A check of the <c>prediction_type</c> value before it is read; throws for a type the class does not implement.</summary>
    public virtual void CheckPrediction(DiffusersSchedulerConfig c, string value) { }

    /// <summary>Whether <c>variance_type</c> only says that the model output carries learned-variance channels (DPM-Solver).</summary>
    public virtual bool VarianceTypeMeansLearnedChannels(SamplerKind kind) => false;

    /// <summary>The default <c>lower_order_final</c>.</summary>
    public virtual bool DefaultLowerOrderFinal(SamplerKind kind) => true;

    /// <summary>The default <c>solver_type</c>.</summary>
    public virtual string DefaultSolverType(SamplerKind kind) => "midpoint";

    /// <summary>The solver type the class uses for a <c>solver_type</c> value (classes map the other family's names).</summary>
    public virtual SolverType MapSolverType(SamplerKind kind, SolverType value) => value;

    /// <summary>The plan of <c>set_timesteps(steps)</c>.</summary>
    public abstract StepSchedule CreateSchedule(DiffusersSchedulerConfig c, int steps, double? mu);

    /// <summary>The plan of <c>set_timesteps(timesteps=...)</c>.</summary>
    public abstract StepSchedule CreateScheduleFromTimesteps(DiffusersSchedulerConfig c, IReadOnlyList<double> timesteps);

    /// <summary>The plan of <c>set_timesteps(sigmas=...)</c>.</summary>
    public virtual StepSchedule CreateScheduleFromSigmas(DiffusersSchedulerConfig c, IReadOnlyList<double> sigmas, double? mu)
        => throw new NotSupportedException($"{c.ClassName} takes timesteps, not sigmas.");

    /// <summary>The peer's <c>init_noise_sigma</c>.</summary>
    public virtual double InitNoiseSigma(DiffusersSchedulerConfig c, StepSchedule schedule) => 1.0;

    /// <summary>The peer's <c>timesteps</c>: the model time of every point but the end point.</summary>
    public virtual IReadOnlyList<double> Timesteps(DiffusersSchedulerConfig c, StepSchedule schedule)
    {
        var pts = schedule.Points;
        var list = new List<double>(pts.Length);
        for (int i = 0; i < pts.Length - 1; i++) list.Add(pts[i].ModelTime);
        return list;
    }

    /// <summary>The peer's <c>sigmas</c>: the VE sigma <c>sigma/alpha</c> of every point.</summary>
    public virtual IReadOnlyList<double> Sigmas(DiffusersSchedulerConfig c, StepSchedule schedule)
        => schedule.Points.Select(p => p.Alpha == 0 ? double.PositiveInfinity : p.SigmaOverAlpha).ToList();

    /// <summary>The family's typed options of a read configuration.</summary>
    public abstract DiffusersSchedulerOptions CreateOptions(DiffusersSchedulerConfig c);

    /// <summary>The x0 post-processing fields.</summary>
    protected static DiffusersX0Processing X0(DiffusersSchedulerConfig c)
        => new(c.ClipSample, c.ClipSampleRange, c.Thresholding, c.DynamicThresholdingRatio, c.SampleMaxValue);

    /// <summary>The sampler the class stands for, with its options from the configuration and the step arguments; null when the
    /// configuration asks for a variant the library has no sampler for (<paramref name="why"/> then says which).</summary>
    public abstract Sampler? CreateSampler(DiffusersSchedulerConfig c, DiffusersStepArguments arguments, out string? why);
}
