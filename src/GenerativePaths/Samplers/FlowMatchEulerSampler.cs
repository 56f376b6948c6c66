using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// Euler for flow matching / rectified flow (Lipman et al. 2023, "Flow Matching for Generative Modeling"; Liu et al. 2023,
/// "Flow Straight and Fast"), with the optional stochastic re-noising of diffusers' <c>stochastic_sampling</c>.
/// </summary>
/// <remarks>
/// <para>On the rectified-flow path <c>x = (1 - s) x0 + s eps</c> the model's velocity is <c>u = eps - x0</c> and the Euler step in
/// <c>s</c> is <c>x' = x + (s' - s) u = (1 - s') x0hat + s' epshat</c>: the move along the straight line through the current
/// estimates of data and noise, exact when the flow is straight (a point-mass target). On any path the sampler takes that straight-line
/// move, <c>x' = alpha' x0hat + sigma' epshat</c>, whatever the model predicts (the conversions supply <c>x0hat</c>, <c>epshat</c>).</para>
/// <para>Stochastic: <c>x' = alpha' x0hat + sigma' z</c> with fresh noise <c>z</c> (stream = step index) in place of <c>epshat</c>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class FlowMatchEulerSampler : Sampler
{
    /// <summary>Flow-matching Euler.</summary>
    /// <param name="stochastic">Re-noise with fresh noise on each step instead of following the velocity.</param>
    /// <remarks>Stochastic noise is asked for by the step's interval of <c>sigma / alpha</c>, and not on a step to the clean point: a tape
    /// recorded by diffusers (which also draws there) replays through a <see cref="Noise.ReplayNoise"/> keyed by interval.</remarks>
    public FlowMatchEulerSampler(bool stochastic = false) => Stochastic = stochastic;

    /// <summary>Whether the step re-noises.</summary>
    public bool Stochastic { get; }

    /// <inheritdoc/>
    public override string Name => Stochastic ? "flow_euler_stochastic" : "flow_euler";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        var d = state.Denoise(state.X, from);
        if (!Stochastic || to.Sigma == 0)
        {
            state.Set(state.X, to.Alpha * d + to.Sigma * d.Eps);
            return;
        }
        var z = state.Buffer(NoiseBuffer);
        state.DrawNoise(index, from.SigmaOverAlpha, to.SigmaOverAlpha, z);
        state.Set(state.X, to.Alpha * d + to.Sigma * z);
    }
}
