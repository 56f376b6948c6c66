using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// Euler's method on the probability-flow ODE (Song et al. 2021) in the coordinates of Karras et al. 2022
/// ("Elucidating the Design Space of Diffusion-Based Generative Models", Algorithm 2 without the correction), with EDM's optional churn.
/// </summary>
/// <remarks>
/// <para>In the variance-exploding coordinates <c>x_ve = x / alpha</c>, <c>s = sigma / alpha</c> the ODE is <c>dx_ve/ds = (x_ve - x0hat) / s = epshat</c>;
/// one Euler step <c>x_ve' = x_ve + (s' - s) epshat = x0hat + s' epshat</c> is, in path coordinates,
/// <c>x' = alpha' x0hat + sigma' epshat = (sigma'/sigma) x + (alpha' - sigma' alpha / sigma) x0hat</c>: finite at <c>sigma' = 0</c> (it returns <c>alpha' x0hat</c>)
/// and at a zero-terminal-SNR start (<c>alpha = 0</c>).</para>
/// <para>Churn (<c>s_churn &gt; 0</c>) first raises the noise to <c>s_hat = (1 + gamma) s</c> with fresh noise (stream = step index), see Algorithm 2.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class EulerSampler : ChurnSampler
{
    /// <summary>Euler, optionally with churn.</summary>
    /// <param name="sChurn">Total churn <c>S_churn</c> (0 = deterministic).</param>
    /// <param name="sTMin">Churn only where <c>s &gt;= S_tmin</c>.</param>
    /// <param name="sTMax">Churn only where <c>s &lt;= S_tmax</c>.</param>
    /// <param name="sNoise">Scale of the churn noise <c>S_noise</c>.</param>
    public EulerSampler(double sChurn = 0.0, double sTMin = 0.0, double sTMax = double.PositiveInfinity, double sNoise = 1.0)
        : base(sChurn, sTMin, sTMax, sNoise)
    {
    }

    /// <inheritdoc/>
    public override string Name => "euler";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, state.Schedule[index], to)) return;
        var from = ApplyChurn(state, index);
        var d = state.Denoise(state.X, from);
        state.Set(state.X, to.Alpha * d + to.Sigma * d.Eps);
    }
}
