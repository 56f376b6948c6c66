using System.Numerics;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Configs;

/// <summary>
/// Everything needed to sample with a diffusers <c>scheduler_config.json</c>: the step plan of <c>set_timesteps(N)</c>, the library
/// sampler the class stands for, the model's time map, the start scale, and how the peer's sample relates to the library's state.
/// Built by <see cref="DiffusersSchedulerConfig.CreatePlan"/>; <see cref="Run{T}"/> samples with the user's network.
/// </summary>
/// <remarks>
/// <para>The start: diffusers multiplies standard-normal noise <c>z</c> by <c>init_noise_sigma</c> in its own coordinates; in the
/// library's coordinates <c>x = alpha x0 + sigma eps</c> that is <c>x = InitialScale z</c>, with
/// <c>InitialScale = init_noise_sigma * alpha_0</c> for the Euler family (whose sample is <c>x / alpha</c>) and <c>init_noise_sigma</c>
/// otherwise (diffusers' attribute is <see cref="DiffusersSchedulerConfig.PeerInitNoiseSigma"/>; <see cref="InitialScale"/> equals
/// <see cref="DiffusersSchedulerConfig.InitNoiseSigma"/>). The peer's sample after point <c>i</c> is <c>PeerSampleScale(i) * x</c>.</para>
/// <para>The network: <see cref="PrepareModel{T}"/> puts the class's model-side parts around it: EDM's preconditioning for an
/// <c>edm_F</c> network (<see cref="EdmPreconditionedModel{T}"/>), and <c>thresholding</c> / <c>clip_sample</c> of the predicted x0
/// (<see cref="ThresholdingModel{T}"/>).</para>
/// <para>Thread safety: immutable; one plan may serve several runs and threads (each run with its own state and model instance).</para>
/// </remarks>
public sealed class DiffusersSamplingPlan
{
    internal DiffusersSamplingPlan(DiffusersSchedulerConfig config, StepSchedule schedule, Sampler sampler)
    {
        Config = config;
        Schedule = schedule;
        Sampler = sampler;
        ModelTimeMap = config.ModelTimeMap;
        VelocityPath = config.Prediction == Prediction.FlowVelocity ? new RectifiedFlowPath() : null;
        InitialScale = config.InitNoiseSigma(schedule);
    }

    /// <summary>The configuration the plan was made from.</summary>
    public DiffusersSchedulerConfig Config { get; }

    /// <summary>The points to visit.</summary>
    public StepSchedule Schedule { get; }

    /// <summary>The step rule.</summary>
    public Sampler Sampler { get; }

    /// <summary>The model's point on its path at each model time (for analytic models and model wrappers); the same as
    /// <see cref="DiffusersSchedulerConfig.ModelTimeMap"/>.</summary>
    public Func<double, NoiseLevel> ModelTimeMap { get; }

    /// <summary>What the network predicts after <see cref="PrepareModel{T}"/> (EDM: <see cref="Prediction.Data"/>).</summary>
    public Prediction Prediction => Config.Prediction;

    /// <summary>The path a flow-velocity model differentiates (the unshifted rectified flow), or null.</summary>
    public NoisePath? VelocityPath { get; }

    /// <summary>The factor of the standard-normal start: <c>x = InitialScale z</c> (diffusers' start in the library's coordinates;
    /// equal to <see cref="DiffusersSchedulerConfig.InitNoiseSigma"/> of <see cref="Schedule"/>).</summary>
    public double InitialScale { get; }

    /// <summary>The factor from the library's state at point <paramref name="pointIndex"/> to the peer's sample (<c>1 / alpha</c> for the Euler family, else 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index outside the schedule.</exception>
    public double PeerSampleScale(int pointIndex)
    {
        if ((uint)pointIndex >= (uint)Schedule.Points.Length)
            throw new ArgumentOutOfRangeException(nameof(pointIndex), pointIndex, $"The point index must lie in [0, {Schedule.Points.Length}).");
        return Config.Coordinates == SampleCoordinates.VarianceExploding ? 1.0 / Schedule[pointIndex].Alpha : 1.0;
    }

    /// <summary>The network with the class's model-side parts around it (EDM preconditioning, thresholding or clipping of x0).</summary>
    /// <param name="network">The user's network; for the EDM classes it returns <c>F</c> (<c>edm_F</c>), else what <c>prediction_type</c> says.</param>
    /// <exception cref="ArgumentException">The network's declared prediction differs from the configuration's <c>prediction_type</c> (EDM excepted).</exception>
    public IGenerativeModel<T> PrepareModel<T>(IGenerativeModel<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        if (Config.EdmPreconditioned) return new EdmPreconditionedModel<T>(network, Config.SigmaData, Config.EdmNegatedOutput);
        if (network.Prediction != Config.Prediction)
            throw new ArgumentException($"{Config.ClassName}: the configuration's prediction_type means {Config.Prediction}, but the network declares {network.Prediction}.", nameof(network));
        if (Config.Thresholding)
            return new ThresholdingModel<T>(network, ModelTimeMap, ThresholdingKind.Dynamic, ratio: Config.DynamicThresholdingRatio, maxValue: Config.SampleMaxValue);
        if (Config.ClipSample)
            return new ThresholdingModel<T>(network, ModelTimeMap, ThresholdingKind.Clip, clipRange: Config.ClipSampleRange);
        return network;
    }

    /// <summary>
    /// Samples: scales the standard-normal start <paramref name="x"/> by <see cref="InitialScale"/> in place, runs <see cref="Sampler"/>
    /// over <see cref="Schedule"/> with the prepared network and returns the result in the library's coordinates (multiply by
    /// <see cref="PeerSampleScale"/> of the last point for the peer's).
    /// </summary>
    /// <param name="network">The user's network (see <see cref="PrepareModel{T}"/>).</param>
    /// <param name="x">Standard-normal noise, overwritten with the sample.</param>
    /// <param name="noise">The noise of stochastic samplers (stream = step index); null for deterministic ones.</param>
    /// <param name="options">Callback, progress, cancellation, condition, sample ids.</param>
    public SamplingResult<T> Run<T>(IGenerativeModel<T> network, BatchTensor<T> x, NoiseSource? noise = null, SamplingOptions<T>? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        System.Numerics.Tensors.TensorPrimitives.Multiply(x.Span, T.CreateTruncating(InitialScale), x.Span);
        var state = new SamplerState<T>(PrepareModel(network), Schedule, x, noise, options is null ? default : options.SampleIds.Span, VelocityPath, options?.Condition ?? default);
        return SamplingLoop.Run(state, Sampler, options);
    }
}
