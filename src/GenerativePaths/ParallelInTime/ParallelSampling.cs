using System.Numerics;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.ParallelInTime;

/// <summary>
/// Parallel-in-time sampling: guesses the trajectory of a window of steps, evaluates the model at all of them in one batched call,
/// corrects every step of the window from those outputs, and repeats until each step is a fixed point, which is the sequential run.
/// Works over any <see cref="Sampler"/> of the library or a user's, unchanged.
/// </summary>
/// <remarks>
/// <para><b>The iteration.</b> A sampler's run is a chain of model calls <c>f(u_1), f(u_2), ...</c>, where each input <c>u_c</c> is a
/// function of the earlier outputs (the start noise, the step rule, its history and its noise). A <i>round</i> evaluates the model once,
/// batched, at the inputs <c>u_c</c> of every call of the window's steps (<c>W x calls-per-step x B</c> rows, per-row model times,
/// conditions replicated). A <i>sweep</i> then re-runs the sampler over the window from the last accepted step without calling the
/// model: each call is answered with the output evaluated for it in the last round, so the sweep's states and the inputs it records
/// are the Picard update <c>x_{i+1} = Phi_i(x_i, f(x_i^{old}))</c> with the step rule's own linear part exact (ParaDiGMS' Picard
/// iteration, Shih et al., NeurIPS 2023, which sums the drifts <c>x_{i+1} = x_l + sum_{j=l..i} h_j f(x_j^{old})</c>, is the special case
/// of a translation). Multistep samplers carry their history through the sweep; stochastic samplers draw the same counter-based noise
/// (keyed by sample and step) as the sequential run. Calls that were never evaluated are answered with the latest output of the sweep.</para>
/// <para><b>Acceptance and the sliding window.</b> A step is exact when every call it made was answered with an output evaluated at the
/// very input (bit for bit) and model time the sweep handed it, and every earlier step is exact; the window then slides past it. The
/// window's first step is always exact after at most as many rounds as it makes calls, so with <see cref="ParallelSamplingOptions{T}.Tolerance"/>
/// 0 the result equals the sequential <see cref="SamplingLoop"/> result with the same noise to float rounding (bit for bit with a model
/// whose rows do not depend on the batch), in at most as many rounds as the sequential run makes model calls. With a tolerance <c>tol &gt; 0</c>,
/// a step whose calls have all been evaluated is also accepted when, for every sample, <c>||x_new - x_old||^2 / (sigma^2 D) &lt;= tol^2</c>
/// between two successive sweeps (ParaDiGMS' criterion), which stops earlier at a small, reported difference.</para>
/// <para><b>Anderson acceleration.</b> With <see cref="ParallelAcceleration.Anderson"/> the next round evaluates not at the sweep's inputs
/// <c>G(u)</c> but at the Anderson (type II, Walker and Ni 2011) extrapolation <c>u' = G_k - sum_j gamma_j (G_{k-j+1} - G_{k-j})</c>,
/// <c>gamma = argmin ||R_k - sum_j gamma_j (R_{k-j+1} - R_{k-j})||</c> with residuals <c>R = G(u) - u</c>, fitted per sample and, as in
/// ParaTAA's triangular form (Tang et al., ICML 2024), for each call over the residuals of that call and the calls before it only. The
/// window's first step is never extrapolated, so the exactness argument above holds unchanged.</para>
/// <para><b>When it pays.</b> Rounds are sequential; rows within a round are parallel. The gain in wall-clock time needs spare parallel
/// compute (a GPU, idle cores, a batched server): a round of <c>W</c> steps costs about one sequential call only when the model's batched
/// call is that much cheaper per row. See <c>docs/parallel-in-time.md</c>.</para>
/// <para>Thread safety: stateless; concurrent runs are safe when they share no state tensor (the model must then be thread-safe).</para>
/// </remarks>
public static class ParallelSampling
{
    /// <summary>Samples <paramref name="x"/> in place through <paramref name="schedule"/> with <paramref name="sampler"/>, many steps at once.</summary>
    /// <param name="model">The model; called once per round on up to <c>Window x calls-per-step x B</c> rows.</param>
    /// <param name="x">The initial state (as for <see cref="SamplingLoop"/>); overwritten with the sample.</param>
    /// <param name="schedule">The points to visit.</param>
    /// <param name="sampler">The step rule (any sampler whose step depends only on its inputs, its state and the noise source).</param>
    /// <param name="noise">The noise of stochastic samplers: a counter-based source (the same as the sequential run's gives the same noise);
    /// a <see cref="ReplayNoise"/> tape, consumed in call order, cannot be re-swept and is refused.</param>
    /// <param name="options">Window, tolerance, acceleration, condition, sample ids.</param>
    /// <exception cref="ArgumentException">An option is out of range, the condition or sample ids do not match the batch, or the noise is a replay tape.</exception>
    /// <exception cref="NonFiniteModelOutputException">The model returned NaN or infinity where a sweep used it.</exception>
    /// <exception cref="NonFiniteStateException">The initial state is not finite, or a sweep wrote NaN or infinity.</exception>
    /// <exception cref="InvalidOperationException">The sampler did not reproduce its own steps from the same inputs (it is not deterministic).</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static ParallelSamplingResult<T> Run<T>(IGenerativeModel<T> model, BatchTensor<T> x, StepSchedule schedule, Sampler sampler, NoiseSource? noise = null, ParallelSamplingOptions<T>? options = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(sampler);
        options ??= new ParallelSamplingOptions<T>();
        if (options.Window < 1)
            throw new ArgumentException($"Window must be at least 1 (got {options.Window}).", nameof(options));
        if (!double.IsFinite(options.Tolerance) || options.Tolerance < 0)
            throw new ArgumentException($"Tolerance must be finite and non-negative (got {options.Tolerance}).", nameof(options));
        if (options.MaxRounds < 0)
            throw new ArgumentException($"MaxRounds must be non-negative, 0 for no limit (got {options.MaxRounds}).", nameof(options));
        if (options.AndersonMemory is < 1 or > AndersonMixer<T>.MaxMemory)
            throw new ArgumentException($"AndersonMemory must lie in [1, {AndersonMixer<T>.MaxMemory}] (got {options.AndersonMemory}).", nameof(options));
        if (noise is ReplayNoise)
            throw new ArgumentException("Parallel-in-time sampling re-runs steps and needs a counter-based noise source (e.g. PhiloxNoise or a BrownianTree); a ReplayNoise tape is consumed in call order.", nameof(noise));
        if (!options.SampleIds.IsEmpty && options.SampleIds.Length != x.BatchSize)
            throw new ArgumentException($"{options.SampleIds.Length} sample ids for a batch of {x.BatchSize}.", nameof(options));
        options.Condition.EnsureRows(x.BatchSize, nameof(options));
        return new ParallelRun<T>(model, x, schedule, sampler, noise, options).Execute();
    }

    /// <summary>Samples with options and no noise source (deterministic samplers); see the overload with a noise source.</summary>
    public static ParallelSamplingResult<T> Run<T>(IGenerativeModel<T> model, BatchTensor<T> x, StepSchedule schedule, Sampler sampler, ParallelSamplingOptions<T> options)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Run(model, x, schedule, sampler, null, options);
}
