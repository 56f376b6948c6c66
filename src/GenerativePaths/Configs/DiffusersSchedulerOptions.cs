namespace GenerativePaths.Configs;

/// <summary>
/// The typed options of one family of diffusers scheduler classes, as read from a <c>scheduler_config.json</c>
/// (<see cref="DiffusersSchedulerConfig.Options"/>): one record per family, holding only the fields that family reads.
/// </summary>
/// <remarks>Thread safety: immutable records; may be shared by several threads.</remarks>
public abstract record DiffusersSchedulerOptions;

/// <summary>The x0 post-processing shared by the discrete classes: <c>clip_sample</c> (range) or dynamic <c>thresholding</c> (Saharia et al. 2022).</summary>
/// <param name="ClipSample"><c>clip_sample</c>.</param>
/// <param name="ClipSampleRange"><c>clip_sample_range</c>.</param>
/// <param name="Thresholding"><c>thresholding</c>.</param>
/// <param name="DynamicThresholdingRatio"><c>dynamic_thresholding_ratio</c>.</param>
/// <param name="SampleMaxValue"><c>sample_max_value</c>.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public sealed record DiffusersX0Processing(bool ClipSample, double ClipSampleRange, bool Thresholding, double DynamicThresholdingRatio, double SampleMaxValue);

/// <summary><c>DDIMScheduler</c>.</summary>
/// <param name="SetAlphaToOne"><c>set_alpha_to_one</c>: the last step goes to the clean point (else to <c>abar[0]</c>).</param>
/// <param name="X0">Clipping and thresholding of x0.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public sealed record DdimSchedulerOptions(bool SetAlphaToOne, DiffusersX0Processing X0) : DiffusersSchedulerOptions;

/// <summary><c>DDPMScheduler</c>.</summary>
/// <param name="VarianceType"><c>variance_type</c>.</param>
/// <param name="X0">Clipping and thresholding of x0.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public sealed record DdpmSchedulerOptions(DdpmVarianceType VarianceType, DiffusersX0Processing X0) : DiffusersSchedulerOptions;

/// <summary><c>PNDMScheduler</c>.</summary>
/// <param name="SkipPrkSteps"><c>skip_prk_steps</c>: PLMS from the first step (the Stable Diffusion setting).</param>
/// <param name="SetAlphaToOne"><c>set_alpha_to_one</c>.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public sealed record PndmSchedulerOptions(bool SkipPrkSteps, bool SetAlphaToOne) : DiffusersSchedulerOptions;

/// <summary>The Euler family (<c>EulerDiscrete</c>, <c>EulerAncestralDiscrete</c>, <c>HeunDiscrete</c>, <c>LMSDiscrete</c>, <c>KDPM2Discrete</c>).</summary>
/// <param name="UseKarrasSigmas"><c>use_karras_sigmas</c>.</param>
/// <param name="UseExponentialSigmas"><c>use_exponential_sigmas</c>.</param>
/// <param name="SigmaMin"><c>sigma_min</c> of the Karras/exponential plan, if given.</param>
/// <param name="SigmaMax"><c>sigma_max</c> of the Karras/exponential plan, if given.</param>
/// <param name="FinalSigmasType"><c>final_sigmas_type</c> (Euler).</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public sealed record EulerFamilyOptions(bool UseKarrasSigmas, bool UseExponentialSigmas, double? SigmaMin, double? SigmaMax, FinalSigmasType FinalSigmasType) : DiffusersSchedulerOptions;

/// <summary>The multistep and single-step solvers (<c>DPMSolverMultistep</c>, <c>DPMSolverSinglestep</c>, <c>UniPCMultistep</c>, <c>DEISMultistep</c>, <c>SASolver</c>).</summary>
/// <param name="SolverOrder"><c>solver_order</c>.</param>
/// <param name="AlgorithmType"><c>algorithm_type</c>.</param>
/// <param name="SolverType"><c>solver_type</c>.</param>
/// <param name="LowerOrderFinal"><c>lower_order_final</c>.</param>
/// <param name="EulerAtFinal"><c>euler_at_final</c>.</param>
/// <param name="FinalSigmasType"><c>final_sigmas_type</c> (DEIS and SA-Solver: always the smallest training sigma).</param>
/// <param name="LambdaMinClipped"><c>lambda_min_clipped</c>.</param>
/// <param name="PredictX0"><c>predict_x0</c> (UniPC).</param>
/// <param name="DisableCorrector"><c>disable_corrector</c> (UniPC).</param>
/// <param name="PredictorOrder"><c>predictor_order</c> (SA-Solver).</param>
/// <param name="CorrectorOrder"><c>corrector_order</c> (SA-Solver).</param>
/// <param name="UseKarrasSigmas"><c>use_karras_sigmas</c>.</param>
/// <param name="UseExponentialSigmas"><c>use_exponential_sigmas</c>.</param>
/// <param name="X0">Clipping and thresholding of x0.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public sealed record MultistepSolverOptions(int SolverOrder, DpmAlgorithmType AlgorithmType, SolverType SolverType, bool LowerOrderFinal, bool EulerAtFinal,
    FinalSigmasType FinalSigmasType, double LambdaMinClipped, bool PredictX0, IReadOnlyList<int> DisableCorrector, int PredictorOrder, int CorrectorOrder,
    bool UseKarrasSigmas, bool UseExponentialSigmas, DiffusersX0Processing X0) : DiffusersSchedulerOptions;

/// <summary>Flow matching (<c>FlowMatchEulerDiscrete</c>, <c>FlowMatchHeunDiscrete</c>).</summary>
/// <param name="Shift"><c>shift</c>.</param>
/// <param name="UseDynamicShifting"><c>use_dynamic_shifting</c>.</param>
/// <param name="BaseShift"><c>base_shift</c>.</param>
/// <param name="MaxShift"><c>max_shift</c>.</param>
/// <param name="BaseImageSeqLen"><c>base_image_seq_len</c>.</param>
/// <param name="MaxImageSeqLen"><c>max_image_seq_len</c>.</param>
/// <param name="TimeShiftType"><c>time_shift_type</c>.</param>
/// <param name="ShiftTerminal"><c>shift_terminal</c>, if given.</param>
/// <param name="StochasticSampling"><c>stochastic_sampling</c>.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public sealed record FlowMatchOptions(double Shift, bool UseDynamicShifting, double BaseShift, double MaxShift, int BaseImageSeqLen, int MaxImageSeqLen,
    TimeShiftType TimeShiftType, double? ShiftTerminal, bool StochasticSampling) : DiffusersSchedulerOptions;

/// <summary>The consistency-distilled classes (<c>LCMScheduler</c>, <c>TCDScheduler</c>).</summary>
/// <param name="OriginalInferenceSteps"><c>original_inference_steps</c>.</param>
/// <param name="TimestepScaling"><c>timestep_scaling</c> (LCM's boundary condition).</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public sealed record ConsistencyOptions(int OriginalInferenceSteps, double TimestepScaling) : DiffusersSchedulerOptions;

/// <summary>The EDM classes (<c>EDMEulerScheduler</c>, <c>EDMDPMSolverMultistepScheduler</c>).</summary>
/// <param name="SigmaMin"><c>sigma_min</c>.</param>
/// <param name="SigmaMax"><c>sigma_max</c>.</param>
/// <param name="SigmaData"><c>sigma_data</c> of the preconditioning.</param>
/// <param name="Rho"><c>rho</c> of the Karras plan.</param>
/// <param name="ExponentialSigmaSchedule"><c>sigma_schedule</c> is <c>exponential</c> (else <c>karras</c>).</param>
/// <param name="NegatedOutput"><c>prediction_type = v_prediction</c>: <c>c_out</c> negated.</param>
/// <param name="FinalSigmasType"><c>final_sigmas_type</c>.</param>
/// <param name="SolverOrder"><c>solver_order</c> (DPM-Solver).</param>
/// <param name="AlgorithmType"><c>algorithm_type</c> (DPM-Solver).</param>
/// <param name="SolverType"><c>solver_type</c> (DPM-Solver).</param>
/// <param name="LowerOrderFinal"><c>lower_order_final</c> (DPM-Solver).</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public sealed record EdmOptions(double SigmaMin, double SigmaMax, double SigmaData, double Rho, bool ExponentialSigmaSchedule, bool NegatedOutput,
    FinalSigmasType FinalSigmasType, int SolverOrder, DpmAlgorithmType AlgorithmType, SolverType SolverType, bool LowerOrderFinal) : DiffusersSchedulerOptions;
