using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// Heun's method (the explicit trapezoidal rule) for flow matching / rectified flow (Lipman et al. 2023; Esser et al. 2024; the
/// second-order step of Karras et al. 2022, Algorithm 1, in the flow time): diffusers' <c>FlowMatchHeunDiscreteScheduler</c>.
/// </summary>
/// <remarks>
/// <para>On the rectified-flow path <c>x = (1 - s) x0 + s eps</c>, with the velocity <c>u = eps - x0</c>:
/// <c>x2 = x + (s' - s) u(x, s)</c>, <c>x' = x + (s' - s) (u(x, s) + u(x2, s')) / 2</c>; Euler on a step to <c>s' = 0</c>.</para>
/// <para>On any path the sampler takes the same two moves in the path's <c>(alpha, sigma)</c>, linear in the flow time:
/// <c>x2 = alpha' x0_1 + sigma' eps_1</c> (the straight-line move of <see cref="FlowMatchEulerSampler"/>) and
/// <c>x' = (x2 + x + (alpha' - alpha) x0_2 + (sigma' - sigma) eps_2) / 2</c> with <c>x0_2</c>, <c>eps_2 = (x2 - alpha' x0_2) / sigma'</c>
/// the estimates at <c>x2</c>; on the rectified-flow path these are the formulas above.</para>
/// <para>Thread safety: immutable (it has no options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class FlowMatchHeunSampler : Sampler
{
    /// <inheritdoc/>
    public override string Name => "flow_heun";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        var x = state.X;
        var d1 = state.Denoise(x, from);
        // The straight-line move x2 = alpha' x0_1 + sigma' eps_1 = (sigma'/sigma) x + (alpha' - sigma' alpha / sigma) x0_1.
        var (ox, od) = DeterministicMove(from, to);
        if (to.Sigma == 0)
        {
            state.Set(x, ox * x + od * d1);
            return;
        }
        var x2 = state.Buffer("flow_heun_predictor");
        state.Set(x2, ox * x + od * d1);
        var d2 = state.Denoise(x2, to);
        // x' = (x2 + x + (alpha' - alpha) x0_2 + (sigma' - sigma) eps_2) / 2 with eps_2 = (x2 - alpha' x0_2) / sigma', i.e.
        // x' = x/2 + (1/2 + (sigma' - sigma)/(2 sigma')) x2 + w x0_2, w = ((alpha' - alpha) - (sigma' - sigma) alpha'/sigma') / 2.
        double w = 0.5 * ((to.Alpha - from.Alpha) - (to.Sigma - from.Sigma) * to.Alpha / to.Sigma);
        state.Set(x, 0.5 * x + (0.5 + 0.5 * (to.Sigma - from.Sigma) / to.Sigma) * x2 + w * d2);
    }
}
