namespace GenerativePaths.Samplers;

/// <summary>
/// The sample itself became NaN or infinity during sampling while the model's output was finite: the initial state was not finite,
/// or a step's update overflowed (or met a degenerate schedule or non-finite noise). The message names the step, the model time and the first bad sample.
/// </summary>
/// <remarks>
/// <para>Raised by the driver for a non-finite initial state (<see cref="IsInitialState"/>, step 0, the model time of the first point)
/// and by every update of <see cref="SamplerState{T}"/> whose written values are not all finite although the model output they read is
/// finite. A non-finite model output raises <see cref="NonFiniteModelOutputException"/> instead.</para>
/// <para>Thread safety: immutable; may be shared by several threads.</para>
/// </remarks>
public sealed class NonFiniteStateException : InvalidOperationException
{
    /// <summary>Creates the exception for step <paramref name="stepIndex"/>, model time <paramref name="modelTime"/> and sample <paramref name="sampleIndex"/>.</summary>
    /// <param name="stepIndex">The step whose update wrote the value (0 for the initial state).</param>
    /// <param name="modelTime">The model time of the step's starting point.</param>
    /// <param name="sampleIndex">The index in the batch of the first sample with a non-finite value.</param>
    /// <param name="isInitialState">True when the initial state handed to the run was already non-finite.</param>
    public NonFiniteStateException(int stepIndex, double modelTime, int sampleIndex, bool isInitialState)
        : base(isInitialState
            ? $"The initial state holds a non-finite value (NaN or infinity) in sample {sampleIndex} of the batch (before step {stepIndex}, model time {modelTime:R})."
            : $"The sampler's update wrote a non-finite value (NaN or infinity) at step {stepIndex}, model time {modelTime:R}, in sample {sampleIndex} of the batch, " +
              "although the model output was finite: the update overflowed the sample's precision, or the schedule or the noise is degenerate.")
    {
        StepIndex = stepIndex;
        ModelTime = modelTime;
        SampleIndex = sampleIndex;
        IsInitialState = isInitialState;
    }

    /// <summary>The step during which the state became non-finite (0 for the initial state).</summary>
    public int StepIndex { get; }

    /// <summary>The model time of the step's starting point.</summary>
    public double ModelTime { get; }

    /// <summary>The index in the batch of the first sample with a non-finite value.</summary>
    public int SampleIndex { get; }

    /// <summary>True when the initial state was already non-finite.</summary>
    public bool IsInitialState { get; }
}
