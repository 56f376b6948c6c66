namespace GenerativePaths.Samplers;

/// <summary>A model returned NaN or infinity during sampling; the message names the step, the model time and the first bad sample.</summary>
/// <remarks>Thread safety: immutable; may be shared by several threads.</remarks>
public sealed class NonFiniteModelOutputException : InvalidOperationException
{
    /// <summary>Creates the exception for step <paramref name="stepIndex"/>, model time <paramref name="modelTime"/> and sample <paramref name="sampleIndex"/>.</summary>
    public NonFiniteModelOutputException(int stepIndex, double modelTime, int sampleIndex)
        : base($"The model returned a non-finite value (NaN or infinity) at step {stepIndex}, model time {modelTime:R}, in sample {sampleIndex} of the batch.")
    {
        StepIndex = stepIndex;
        ModelTime = modelTime;
        SampleIndex = sampleIndex;
    }

    /// <summary>The step during which the model was called.</summary>
    public int StepIndex { get; }

    /// <summary>The time value the model was called with.</summary>
    public double ModelTime { get; }

    /// <summary>The index in the batch of the first sample with a non-finite value.</summary>
    public int SampleIndex { get; }
}
