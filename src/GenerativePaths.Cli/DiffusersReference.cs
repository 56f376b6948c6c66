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
        if (!config.TryCreateSampler(arguments, out _, out string? why))
            return ReferenceOutcome.NotSupported($"the diffusers scheduler {config.ClassName} ({why}) has no sampler in the library yet.");

        // The library's factory: schedule, sampler, model time map, start scale and the model-side parts (EDM, thresholding).
        var plan = config.CreatePlan(steps, arguments);
        var schedule = plan.Schedule;
        var sampler = plan.Sampler;
        var mixture = SamplerReferenceRun.Mixture(root);
        IGenerativeModel<double> network;
        if (config.EdmPreconditioned)
        {
            // The case's model is an edm_F network: the exact denoiser on x = x0 + sigma eps, expressed as F (the oracle).
            var denoiser = new GaussianMixtureModel<double>(mixture, Prediction.Data, plan.ModelTimeMap);
            network = new EdmFNetwork(denoiser, config.SigmaData, config.EdmNegatedOutput);
        }
        else if (config.Prediction == Prediction.FlowVelocity)
            network = new GaussianMixtureModel<double>(mixture, Prediction.FlowVelocity, plan.ModelTimeMap);
        else
            network = new GaussianMixtureModel<double>(mixture, config.Prediction, ModelTimeMaps.DiscreteVariancePreserving(SamplerReferenceRun.Doubles(root.GetProperty("alphas_cumprod"))));
        var model = plan.PrepareModel(network);

        double scale = plan.InitialScale;
        var start = SamplerReferenceRun.Matrix(root.GetProperty("x_init")).Select(r => r.Select(v => v * scale).ToArray()).ToArray();
        // diffusers draws one tensor per step, in step order (some where the draw is multiplied by zero): the tape is keyed by each
        // step's interval of sigma/alpha, so a sampler that skips an unneeded draw (k-diffusion's SDE samplers at sigma' = 0) stays in step.
        var tape = SamplerReferenceRun.Tape(root);
        double Ratio(int i) => schedule[i].Alpha == 0 ? double.PositiveInfinity : schedule[i].SigmaOverAlpha;
        var noise = tape.Count > 0 && tape.Count <= schedule.StepCount
            ? new ReplayNoise(tape, Enumerable.Range(0, tape.Count).Select(i => (Ratio(i), Ratio(i + 1))))
            : new ReplayNoise(tape);
        var run = SamplerReferenceRun.Run(model, start, schedule, sampler, noise,
            trajectoryBeforeEachStep: false, plan.PeerSampleScale, plan.VelocityPath);
        // PNDM's PLMS records the warm-up's predicted point as well: our states are its later entries.
        Func<int, int>? peerIndex = config.Sampler switch
        {
            SamplerKind.Heun or SamplerKind.FlowMatchHeun or SamplerKind.KDpm2Ancestral => i => i < schedule.StepCount - 1 ? 2 * i + 1 : 2 * i,
            SamplerKind.Pndm => i => i + 1,
            _ => null,
        };
        return SamplerReferenceRun.Outcome(name, root, run, "model_call_timesteps", "trajectory", $"diffusers {config.ClassName} via {sampler.Name} ({schedule.StepCount} steps)", peerIndex);
    }
}

/// <summary>
/// The reference cases' <c>edm_F</c> network: from the input <c>c_in x</c> and <c>c_noise = log(sigma)/4</c> it recovers <c>x</c> and
/// <c>sigma</c>, takes the exact denoiser <c>D</c> of the mixture and returns <c>F = (D - c_skip x) / c_out</c> (Karras et al. 2022, Table 1).
/// </summary>
internal sealed class EdmFNetwork(IGenerativeModel<double> denoiser, double sigmaData, bool negated) : IGenerativeModel<double>
{
    private GenerativePaths.Tensors.BatchTensor<double>? _x;

    public Prediction Prediction => Prediction.Data;

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
