namespace GenerativePaths.Configs;

/// <summary>The step rule a diffusers scheduler class stands for.</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
public enum SamplerKind
{
    /// <summary><c>DDIMScheduler</c> (Song et al. 2021).</summary>
    Ddim,

    /// <summary><c>DDPMScheduler</c> (Ho et al. 2020).</summary>
    Ddpm,

    /// <summary><c>EulerDiscreteScheduler</c> (Karras et al. 2022, Algorithm 2 without churn by default).</summary>
    Euler,

    /// <summary><c>EulerAncestralDiscreteScheduler</c>.</summary>
    EulerAncestral,

    /// <summary><c>HeunDiscreteScheduler</c> (Karras et al. 2022, Algorithm 1).</summary>
    Heun,

    /// <summary><c>DPMSolverMultistepScheduler</c> (Lu et al. 2022, DPM-Solver++).</summary>
    DpmSolverMultistep,

    /// <summary><c>FlowMatchEulerDiscreteScheduler</c> (Esser et al. 2024).</summary>
    FlowMatchEuler,

    /// <summary><c>LMSDiscreteScheduler</c> (linear multistep on the VE sigmas).</summary>
    Lms,

    /// <summary><c>UniPCMultistepScheduler</c> (Zhao et al. 2023).</summary>
    UniPc,

    /// <summary><c>KDPM2DiscreteScheduler</c> (k-diffusion's DPM-2, Karras et al. 2022 with a geometric midpoint).</summary>
    KDpm2,

    /// <summary><c>PNDMScheduler</c> (Liu et al. 2022; PLMS with <c>skip_prk_steps</c>).</summary>
    Pndm,

    /// <summary><c>DEISMultistepScheduler</c> (Zhang and Chen 2022).</summary>
    Deis,

    /// <summary><c>DPMSolverSinglestepScheduler</c> (Lu et al. 2022, DPM-Solver++ 2S/3S).</summary>
    DpmSolverSinglestep,

    /// <summary><c>KDPM2AncestralDiscreteScheduler</c> (k-diffusion's DPM-2 ancestral).</summary>
    KDpm2Ancestral,

    /// <summary><c>FlowMatchHeunDiscreteScheduler</c> (Heun on the flow-matching ODE).</summary>
    FlowMatchHeun,

    /// <summary><c>LCMScheduler</c> (Luo et al. 2023, latent consistency models).</summary>
    Lcm,

    /// <summary><c>TCDScheduler</c> (Zheng et al. 2024, trajectory consistency distillation).</summary>
    Tcd,

    /// <summary><c>EDMEulerScheduler</c> (Karras et al. 2022, Euler with EDM preconditioning).</summary>
    EdmEuler,

    /// <summary><c>EDMDPMSolverMultistepScheduler</c> (DPM-Solver++ on the EDM sigmas with EDM preconditioning).</summary>
    EdmDpmSolverMultistep,

    /// <summary><c>SASolverScheduler</c> (Xue et al. 2023, stochastic Adams solver).</summary>
    SaSolver,
}

/// <summary>What the peer's sample is, relative to the library's state <c>x = alpha x0 + sigma eps</c>.</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
internal enum SampleCoordinates
{
    /// <summary>The peer's sample is <c>x</c> itself (DDIM, DDPM, DPM-Solver, UniPC, flow matching).</summary>
    Path,

    /// <summary>The peer's sample is <c>x / alpha = x0 + (sigma/alpha) eps</c> (the Euler/Heun/LMS/KDPM2 family); the model input is <c>x / alpha / sqrt(s^2 + 1) = x</c>.</summary>
    VarianceExploding,
}

/// <summary>DDPM's posterior variance choice (<c>variance_type</c>).</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.
/// <para>The enumeration lists every value diffusers accepts, including values no library sampler runs (<c>learned</c> and <c>learned_range</c> (a model that predicts its variance)): a configuration that names one reads, round-trips through <see cref="DiffusersSchedulerConfig.ToJson"/> and can be swapped to another class, and <see cref="DiffusersSchedulerConfig.CreateSampler"/> throws a <see cref="DiffusersConfigException"/> with <see cref="DiffusersConfigException.IsUnsupported"/> set that names the value.</para></remarks>
public enum DdpmVarianceType
{
    /// <summary><c>fixed_small</c>: <c>beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t</c>.</summary>
    FixedSmall,

    /// <summary><c>fixed_small_log</c>: the same variance, clipped and computed in log space.</summary>
    FixedSmallLog,

    /// <summary><c>fixed_large</c>: <c>beta_t</c>.</summary>
    FixedLarge,

    /// <summary><c>fixed_large_log</c>: <c>log beta_t</c>.</summary>
    FixedLargeLog,

    /// <summary><c>learned</c>: the model predicts the variance.</summary>
    Learned,

    /// <summary><c>learned_range</c>: the model interpolates between the small and large log variances.</summary>
    LearnedRange,
}

/// <summary>Where a multistep schedule ends (<c>final_sigmas_type</c>).</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
public enum FinalSigmasType
{
    /// <summary>At sigma 0 (the clean point).</summary>
    Zero,

    /// <summary>At the smallest training sigma (<c>abar[0]</c>).</summary>
    SigmaMin,
}

/// <summary>DPM-Solver's <c>algorithm_type</c>.</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.
/// <para>The enumeration lists every value diffusers accepts, including values no library sampler runs (<c>dpmsolver</c> and <c>sde-dpmsolver</c> (noise-prediction DPM-Solver)): a configuration that names one reads, round-trips through <see cref="DiffusersSchedulerConfig.ToJson"/> and can be swapped to another class, and <see cref="DiffusersSchedulerConfig.CreateSampler"/> throws a <see cref="DiffusersConfigException"/> with <see cref="DiffusersConfigException.IsUnsupported"/> set that names the value.</para></remarks>
public enum DpmAlgorithmType
{
    /// <summary><c>dpmsolver++</c>: data-prediction multistep (Lu et al. 2022b).</summary>
    DpmSolverPlusPlus,

    /// <summary><c>sde-dpmsolver++</c>: its stochastic variant.</summary>
    SdeDpmSolverPlusPlus,

    /// <summary><c>dpmsolver</c>: noise-prediction DPM-Solver (Lu et al. 2022a).</summary>
    DpmSolver,

    /// <summary><c>sde-dpmsolver</c>.</summary>
    SdeDpmSolver,

    /// <summary><c>deis</c>: DEIS's noise-prediction exponential integrator (DEISMultistepScheduler's only algorithm).</summary>
    Deis,
}

/// <summary>The second-order correction of a multistep solver (<c>solver_type</c>).</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
public enum SolverType
{
    /// <summary>DPM-Solver <c>midpoint</c>.</summary>
    Midpoint,

    /// <summary>DPM-Solver <c>heun</c>.</summary>
    Heun,

    /// <summary>UniPC <c>bh1</c>.</summary>
    Bh1,

    /// <summary>UniPC <c>bh2</c>.</summary>
    Bh2,

    /// <summary>DEIS <c>logrho</c> (polynomials in <c>log(sigma/alpha)</c>).</summary>
    LogRho,
}

/// <summary>The form of the resolution-dependent flow shift (<c>time_shift_type</c>).</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
public enum TimeShiftType
{
    /// <summary><c>exp(mu) / (exp(mu) + (1/t - 1))</c>.</summary>
    Exponential,

    /// <summary><c>mu / (mu + (1/t - 1))</c>.</summary>
    Linear,
}
