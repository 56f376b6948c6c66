namespace GenerativePaths.Samplers;

/// <summary>The sigma plan a named preset asks for.</summary>
/// <remarks>Thread safety: an enum; immutable.</remarks>
public enum SchedulePreference
{
    /// <summary>The model's own plan (its card's or its scheduler config's).</summary>
    Default = 0,

    /// <summary>Karras et al. 2022's plan, <c>rho = 7</c> (the "Karras" of UI labels).</summary>
    Karras = 1,

    /// <summary>Log-uniform sigmas (the "Exponential" of UI labels).</summary>
    Exponential = 2,
}

/// <summary>One named sampler of the catalogue: how to make it, what it costs, and the plan a UI label may ask for.</summary>
/// <param name="Name">The canonical name (k-diffusion's function name without <c>sample_</c>, e.g. <c>dpmpp_2m_sde</c>).</param>
/// <param name="Description">One line, with the paper.</param>
/// <param name="Create">Makes the sampler with these options.</param>
/// <param name="EvaluationsPerStep">Model calls per step (the last step may take fewer).</param>
/// <param name="Stochastic">True when the sampler draws noise (it needs a noise source).</param>
/// <param name="Schedule">The plan the name asks for (<see cref="SchedulePreference.Default"/> unless a label says Karras or Exponential).</param>
/// <param name="Aliases">Other names it is known by: UI labels (AUTOMATIC1111, ComfyUI), k-diffusion functions, diffusers classes.</param>
/// <remarks>Thread safety: immutable; <see cref="Create"/> returns a new, immutable sampler on each call.</remarks>
public sealed record SamplerPreset(string Name, string Description, Func<Sampler> Create, int EvaluationsPerStep, bool Stochastic,
    SchedulePreference Schedule, IReadOnlyList<string> Aliases);

/// <summary>
/// The library's sampler catalogue: every sampler by the names users type, as k-diffusion names (<c>dpmpp_2m_sde</c>,
/// <c>sample_dpmpp_2m_sde</c>), ComfyUI names (<c>euler_ancestral</c>, <c>uni_pc</c>), AUTOMATIC1111 labels
/// ("DPM++ 2M Karras", "Euler a", "DPM++ SDE Karras") and diffusers scheduler classes (<c>EulerAncestralDiscreteScheduler</c>,
/// with the class's default options). The CLI, the demo and the tests use it.
/// </summary>
/// <remarks>
/// <para>Look-up ignores case, and treats spaces, hyphens and underscores alike. A trailing " Karras" or " Exponential" (a UI label's
/// plan) selects that plan for any sampler: "Euler a Karras" is Euler ancestral on Karras sigmas.</para>
/// <para>For a diffusers <c>scheduler_config.json</c> with its own options, import the config instead
/// (<see cref="Configs.DiffusersSchedulerConfig"/>); the catalogue gives each class's defaults.</para>
/// <para>Thread safety: immutable; safe from any thread.</para>
/// </remarks>
public static class SamplerCatalog
{
    private static SamplerPreset P(string name, string description, Func<Sampler> create, int evaluations, bool stochastic, params string[] aliases)
        => new(name, description, create, evaluations, stochastic, SchedulePreference.Default, aliases);

    /// <summary>Every preset, canonical names first in this order.</summary>
    public static IReadOnlyList<SamplerPreset> All { get; } =
    [
        P("euler", "Euler on the probability-flow ODE (Karras et al. 2022)", () => new EulerSampler(), 1, false,
            "Euler", "sample_euler", "EulerDiscreteScheduler"),
        P("euler_a", "Euler ancestral (k-diffusion)", () => new EulerAncestralSampler(), 1, true,
            "Euler a", "euler_ancestral", "sample_euler_ancestral", "EulerAncestralDiscreteScheduler"),
        P("heun", "Heun's second-order method (Karras et al. 2022, Algorithm 2)", () => new HeunSampler(), 2, false,
            "Heun", "sample_heun", "HeunDiscreteScheduler"),
        P("ddim", "DDIM, eta 0 (Song et al. 2021)", () => new DdimSampler(), 1, false, "DDIM", "DDIMScheduler"),
        P("ddpm", "DDPM ancestral sampling, fixed-small variance (Ho et al. 2020)", () => new DdpmSampler(), 1, true, "DDPM", "DDPMScheduler"),
        P("dpmpp_2m", "DPM-Solver++(2M) (Lu et al. 2022)", () => new DpmSolverPlusPlus2MSampler(), 1, false,
            "DPM++ 2M", "sample_dpmpp_2m", "DPMSolverMultistepScheduler"),
        P("dpmpp_3m", "DPM-Solver++(3M) (Lu et al. 2022, diffusers solver_order 3)", () => new DpmSolverPlusPlus3MSampler(), 1, false, "DPM++ 3M"),
        P("dpmpp_2m_sde", "DPM-Solver++(2M) SDE, midpoint (Lu et al. 2022, k-diffusion)", () => new DpmSolverPlusPlus2MSdeSampler(), 1, true,
            "DPM++ 2M SDE", "sample_dpmpp_2m_sde"),
        P("dpmpp_2m_sde_heun", "DPM-Solver++(2M) SDE, heun (k-diffusion solver_type='heun')",
            () => new DpmSolverPlusPlus2MSdeSampler(secondOrder: DpmSolverSecondOrder.Heun), 1, true, "DPM++ 2M SDE Heun"),
        P("dpmpp_3m_sde", "DPM-Solver++(3M) SDE (k-diffusion)", () => new DpmSolverPlusPlus3MSdeSampler(), 1, true,
            "DPM++ 3M SDE", "sample_dpmpp_3m_sde"),
        P("dpmpp_2s_a", "DPM-Solver++(2S) ancestral (Lu et al. 2022, k-diffusion)", () => new DpmSolverPlusPlus2SAncestralSampler(), 2, true,
            "DPM++ 2S a", "dpmpp_2s_ancestral", "sample_dpmpp_2s_ancestral"),
        P("dpmpp_sde", "DPM-Solver++ SDE, two evaluations per step (k-diffusion)", () => new DpmSolverPlusPlusSdeSampler(), 2, true,
            "DPM++ SDE", "sample_dpmpp_sde"),
        P("dpmpp_singlestep", "DPM-Solver++ single-step, order 2 (Lu et al. 2022)", () => new DpmSolverPlusPlusSinglestepSampler(), 1, false,
            "DPM++ 2S", "DPMSolverSinglestepScheduler"),
        P("dpm2", "DPM-2 (Karras et al. 2022, k-diffusion)", () => new DpmSolver2Sampler(), 2, false,
            "DPM2", "dpm_2", "sample_dpm_2", "KDPM2DiscreteScheduler"),
        P("dpm2_a", "DPM-2 ancestral (k-diffusion)", () => new DpmSolver2AncestralSampler(), 2, true,
            "DPM2 a", "dpm_2_ancestral", "sample_dpm_2_ancestral", "KDPM2AncestralDiscreteScheduler"),
        P("dpm_fast", "DPM-Solver-fast: single-step DPM-Solver-3 (Lu et al. 2022)", () => new DpmSolverFastSampler(), 3, false,
            "DPM fast", "sample_dpm_fast"),
        P("dpm_adaptive", "DPM-Solver-23 with adaptive steps (Lu et al. 2022, k-diffusion)", () => new DpmSolverAdaptiveSampler(), 3, false,
            "DPM adaptive", "sample_dpm_adaptive"),
        P("lms", "linear multistep, order 4 (k-diffusion)", () => new LmsSampler(), 1, false, "LMS", "sample_lms", "LMSDiscreteScheduler"),
        P("unipc", "UniPC, order 2, bh2 (Zhao et al. 2023)", () => new UniPcSampler(), 1, false,
            "UniPC", "uni_pc", "uni_pc_bh2", "UniPCMultistepScheduler"),
        P("unipc_bh1", "UniPC, order 2, bh1 (Zhao et al. 2023)", () => new UniPcSampler(variant: UniPcVariant.Bh1), 1, false, "UniPC bh1"),
        P("deis", "DEIS, order 2 (Zhang and Chen 2022)", () => new DeisSampler(), 1, false, "DEIS", "DEISMultistepScheduler"),
        P("plms", "PLMS, PNDM with skip_prk_steps (Liu et al. 2022; Stable Diffusion 1.5's default)", () => new PlmsSampler(), 1, false,
            "PLMS", "PNDMScheduler"),
        P("pndm", "PNDM with the Runge-Kutta warm-up (Liu et al. 2022)", () => new PlmsSampler(rungeKuttaWarmUp: true), 1, false, "PNDM"),
        P("sa_solver", "SA-Solver, stochastic Adams (Xue et al. 2023)", () => new SaSolverSampler(), 1, true, "SA-Solver", "SASolverScheduler"),
        P("lcm", "latent consistency model sampling (Luo et al. 2023)", () => new LcmSampler(), 1, true, "LCM", "LCMScheduler"),
        P("tcd", "trajectory consistency distillation sampling, gamma 0.3 (Zheng et al. 2024)", () => new TcdSampler(), 1, true, "TCD", "TCDScheduler"),
        P("flow_euler", "flow-matching Euler (diffusers FlowMatchEulerDiscrete)", () => new FlowMatchEulerSampler(), 1, false,
            "FlowMatchEulerDiscreteScheduler"),
        P("flow_heun", "flow-matching Heun (diffusers FlowMatchHeunDiscrete)", () => new FlowMatchHeunSampler(), 2, false,
            "FlowMatchHeunDiscreteScheduler"),
    ];

    /// <summary>The canonical names, comma-separated (for messages and help).</summary>
    public static string Names => string.Join(", ", All.Select(p => p.Name));

    /// <summary>Finds the preset named <paramref name="name"/> (canonical name or alias, any case; spaces, hyphens and underscores alike;
    /// a trailing " Karras" or " Exponential" selects that plan).</summary>
    /// <exception cref="ArgumentException">No sampler has that name; the message lists the known ones.</exception>
    public static SamplerPreset Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryFind(name, out var preset)
            ? preset
            : throw new ArgumentException($"Unknown sampler '{name}'. Known: {Names} (and their UI labels, k-diffusion and diffusers names; add ' Karras' or ' Exponential' for that plan).", nameof(name));
    }

    /// <summary>Finds a preset without throwing; see <see cref="Find"/>.</summary>
    public static bool TryFind(string name, out SamplerPreset preset)
    {
        preset = null!;
        if (string.IsNullOrWhiteSpace(name)) return false;
        string key = Normalise(name);
        var plan = SchedulePreference.Default;
        foreach (var (suffix, p) in new[] { ("_karras", SchedulePreference.Karras), ("_exponential", SchedulePreference.Exponential) })
        {
            if (key.EndsWith(suffix, StringComparison.Ordinal) && key.Length > suffix.Length)
            {
                key = key[..^suffix.Length];
                plan = p;
                break;
            }
        }
        foreach (var candidate in All)
        {
            if (Normalise(candidate.Name) == key || candidate.Aliases.Any(a => Normalise(a) == key))
            {
                preset = plan == SchedulePreference.Default ? candidate : candidate with { Schedule = plan };
                return true;
            }
        }
        return false;
    }

    private static string Normalise(string name)
    {
        var s = name.Trim().ToLowerInvariant().Replace(' ', '_').Replace('-', '_');
        while (s.Contains("__", StringComparison.Ordinal)) s = s.Replace("__", "_", StringComparison.Ordinal);
        return s;
    }
}
