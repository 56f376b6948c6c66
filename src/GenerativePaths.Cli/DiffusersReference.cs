using System.Text.Json;
using GenerativePaths.Configs;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Cli;

/// <summary>
/// Runs the diffusers reference cases of <c>shared/reference</c>: the case's <c>scheduler_config.json</c> fields are imported by
/// <see cref="DiffusersSchedulerConfig"/> into a path, a step schedule and a sampler; the model is the exact Gaussian-mixture
/// model on the case's own <c>alphas_cumprod</c> (or the rectified flow at <c>t = 1000 sigma</c>); noise is replayed.
/// </summary>
internal static class DiffusersReference
{
    public static ReferenceOutcome Run(string name, JsonElement root)
    {
        // The class is named by the case's "peer" ("diffusers <version> <ClassName>") when the config lacks _class_name.
        string? className = root.TryGetProperty("peer", out var peer) ? peer.GetString()?.Split(' ').LastOrDefault() : null;
        DiffusersSchedulerConfig config;
        try
        {
            config = DiffusersSchedulerConfig.FromJson(root.GetProperty("config"), className);
        }
        catch (DiffusersConfigException e) when (e.IsUnsupported)
        {
            return ReferenceOutcome.NotSupported($"the configuration of '{name}' names something the library does not support: {e.Message}");
        }
        catch (DiffusersConfigException e)
        {
            throw new CommandLineException($"the configuration of '{name}' is invalid: {e.Message}");
        }
        if (!root.TryGetProperty("set_timesteps", out var setTimesteps) || setTimesteps.ValueKind != JsonValueKind.Object
            || !setTimesteps.TryGetProperty("num_inference_steps", out var stepsElement) || !stepsElement.TryGetInt32(out int steps))
            throw new CommandLineException($"{name}: the case has no integer set_timesteps.num_inference_steps.");
        if (steps < 1) throw new CommandLineException($"{name}: set_timesteps.num_inference_steps must be at least 1 (got {steps}).");
        DiffusersStepArguments arguments;
        try
        {
            arguments = DiffusersStepArguments.FromJson(root.TryGetProperty("step_kwargs", out var k) ? k : default);
        }
        catch (DiffusersConfigException e)
        {
            throw new CommandLineException($"{name}: {e.Message}");
        }
        if (!config.TryCreateSampler(arguments, out var sampler, out string? why))
            return ReferenceOutcome.NotSupported($"the diffusers scheduler {config.ClassName} ({why}) has no sampler in the library yet.");

        var schedule = Deduplicate(config.CreateSchedule(steps));
        var mixture = SamplerReferenceRun.Mixture(root);
        IGenerativeModel<double> model;
        NoisePath? velocityPath = null;
        if (config.EdmPreconditioned)
        {
            // The case's model is an edm_F network: the exact denoiser on x = x0 + sigma eps, expressed as F (the oracle),
            // used through the library's preconditioning with the configuration's sigma_data.
            var denoiser = new GaussianMixtureModel<double>(mixture, Prediction.Sample, t => NoiseLevel.VarianceExploding(EdmPreconditioning.SigmaFromNoiseInput(t)));
            model = new EdmPreconditionedModel<double>(new EdmFNetwork(denoiser, config.SigmaData, config.EdmNegatedOutput), config.SigmaData, config.EdmNegatedOutput);
        }
        else if (config.Prediction == Prediction.FlowVelocity)
        {
            model = new GaussianMixtureModel<double>(mixture, Prediction.FlowVelocity, ModelTimeMaps.RectifiedFlow(config.NumTrainTimesteps));
            velocityPath = new RectifiedFlowPath(); // the model's velocity is d/dsigma of x = (1 - sigma) x0 + sigma eps
        }
        else
        {
            var map = ModelTimeMaps.DiscreteVariancePreserving(SamplerReferenceRun.Doubles(root.GetProperty("alphas_cumprod")));
            model = new GaussianMixtureModel<double>(mixture, config.Prediction, map);
            if (config.Thresholding)
                model = new ThresholdingModel<double>(model, map, ThresholdingKind.Dynamic, ratio: config.DynamicThresholdingRatio, maxValue: config.SampleMaxValue);
            else if (config.ClipSample)
                model = new ThresholdingModel<double>(model, map, ThresholdingKind.Clip, clipRange: config.ClipSampleRange);
        }

        bool ve = config.Coordinates == SampleCoordinates.VarianceExploding;
        double scale = config.InitNoiseSigma(schedule) * (ve ? schedule[0].Alpha : 1.0);
        var start = SamplerReferenceRun.Matrix(root.GetProperty("x_init")).Select(r => r.Select(v => v * scale).ToArray()).ToArray();
        var run = SamplerReferenceRun.Run(model, start, schedule, sampler, new ReplayNoise(SamplerReferenceRun.Tape(root)),
            trajectoryBeforeEachStep: false, i => ve ? 1.0 / schedule[i].Alpha : 1.0, velocityPath);
        // diffusers' Heun records the predictor and the corrector of each step; our states are the corrector's (and the final Euler step).
        // PNDM's PLMS records the warm-up's predicted point as well: our states are its later entries.
        Func<int, int>? peerIndex = config.Sampler switch
        {
            SamplerKind.Heun or SamplerKind.FlowMatchHeun => i => i < schedule.StepCount - 1 ? 2 * i + 1 : 2 * i,
            SamplerKind.Pndm => i => i + 1,
            _ => null,
        };
        return SamplerReferenceRun.Outcome(name, root, run, "model_call_timesteps", "trajectory", $"diffusers {config.ClassName} via {sampler.Name} ({schedule.StepCount} steps)", peerIndex);
    }

    /// <summary>diffusers' Heun lists every interior point twice (one model call each); the sampler visits each point once.</summary>
    private static StepSchedule Deduplicate(StepSchedule s)
    {
        var kept = new List<SchedulePoint>();
        foreach (var p in s.Points)
            if (kept.Count == 0 || kept[^1] != p) kept.Add(p);
        return kept.Count == s.Points.Length ? s : new StepSchedule(s.Path, kept);
    }
}

/// <summary>
/// The reference cases' <c>edm_F</c> network: from the input <c>c_in x</c> and <c>c_noise = log(sigma)/4</c> it recovers <c>x</c> and
/// <c>sigma</c>, takes the exact denoiser <c>D</c> of the mixture and returns <c>F = (D - c_skip x) / c_out</c> (Karras et al. 2022, Table 1).
/// </summary>
internal sealed class EdmFNetwork(IGenerativeModel<double> denoiser, double sigmaData, bool negated) : IGenerativeModel<double>
{
    private GenerativePaths.Tensors.BatchTensor<double>? _x;

    public Prediction Prediction => Prediction.Sample;

    public void Evaluate(GenerativePaths.Tensors.BatchTensor<double> input, ReadOnlySpan<double> modelTime, in ModelCondition condition, GenerativePaths.Tensors.BatchTensor<double> output)
    {
        _x ??= GenerativePaths.Tensors.BatchTensor<double>.Allocate(input.BatchSize, input.SampleShape.ToArray());
        for (int b = 0; b < input.BatchSize; b++)
        {
            var (_, _, cin) = EdmPreconditioning.Scalings(EdmPreconditioning.SigmaFromNoiseInput(modelTime[b]), sigmaData, negated);
            var xi = _x.Row(b);
            var ui = input.Row(b);
            for (int j = 0; j < xi.Length; j++) xi[j] = ui[j] / cin;
        }
        denoiser.Evaluate(_x, modelTime, condition, output);
        for (int b = 0; b < input.BatchSize; b++)
        {
            var (skip, cout, _) = EdmPreconditioning.Scalings(EdmPreconditioning.SigmaFromNoiseInput(modelTime[b]), sigmaData, negated);
            var o = output.Row(b);
            var xi = _x.Row(b);
            for (int j = 0; j < o.Length; j++) o[j] = (o[j] - skip * xi[j]) / cout;
        }
    }
}
