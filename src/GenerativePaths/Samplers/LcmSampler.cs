using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// Multistep consistency sampling of latent consistency models (Luo, Tan, Huang, Li and Zhao 2023, "Latent Consistency Models:
/// Synthesizing High-Resolution Images with Few-step Inference", arXiv 2310.04378, Algorithm 3; Song et al. 2023, "Consistency
/// Models", Algorithm 1): diffusers' <c>LCMScheduler</c>.
/// </summary>
/// <remarks>
/// <para>The consistency function with the boundary condition of LCM: at model time <c>t</c>, with <c>u = timestepScaling t</c>,
/// <c>c_skip = sigma_data^2 / (u^2 + sigma_data^2)</c>, <c>c_out = u / sqrt(u^2 + sigma_data^2)</c> and
/// <c>f(x, t) = c_skip x + c_out x0hat</c> (Luo et al. 2023, eq. 8). Each step jumps to the data estimate and re-noises it to the
/// next point: <c>x' = alpha' f(x, t) + sigma' z</c> with fresh noise <c>z</c> (stream = step index); a step to <c>sigma' = 0</c>
/// returns <c>alpha' f(x, t)</c> and draws nothing.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class LcmSampler : Sampler
{
    /// <summary>LCM sampling.</summary>
    /// <param name="timestepScaling">The factor of the model time in the boundary condition (diffusers' <c>timestep_scaling</c>, 10); finite and non-negative.</param>
    /// <param name="sigmaData">The data scale of the boundary condition (0.5 in LCM); positive and finite.</param>
    public LcmSampler(double timestepScaling = 10.0, double sigmaData = 0.5)
    {
        if (!(timestepScaling >= 0) || double.IsInfinity(timestepScaling))
            throw new ArgumentOutOfRangeException(nameof(timestepScaling), timestepScaling, "timestepScaling must be finite and non-negative.");
        if (!(sigmaData > 0) || double.IsInfinity(sigmaData))
            throw new ArgumentOutOfRangeException(nameof(sigmaData), sigmaData, "sigmaData must be positive and finite.");
        TimestepScaling = timestepScaling;
        SigmaData = sigmaData;
    }

    /// <summary>The factor of the model time in the boundary condition.</summary>
    public double TimestepScaling { get; }

    /// <summary>The data scale of the boundary condition.</summary>
    public double SigmaData { get; }

    /// <inheritdoc/>
    public override string Name => "lcm";

    /// <summary>The boundary-condition scalings <c>(c_skip, c_out)</c> at model time <paramref name="modelTime"/>.</summary>
    public (double Skip, double Out) BoundaryScalings(double modelTime)
    {
        double u = TimestepScaling * modelTime, sd2 = SigmaData * SigmaData;
        return (sd2 / (u * u + sd2), u / Math.Sqrt(u * u + sd2));
    }

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        var x = state.X;
        var d = state.Denoise(x, from);
        var (skip, cout) = BoundaryScalings(from.ModelTime);
        // x' = alpha' f(x, t) + sigma' z with the consistency function f(x, t) = c_skip x + c_out x0hat.
        if (to.Sigma == 0)
        {
            state.Set(x, to.Alpha * (skip * x + cout * d));
            return;
        }
        var z = state.Buffer(NoiseBuffer);
        state.DrawNoise(index, z);
        state.Set(x, to.Alpha * (skip * x + cout * d) + to.Sigma * z);
    }
}
