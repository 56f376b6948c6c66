using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// Heun's second-order method on the probability-flow ODE (Karras et al. 2022, Algorithm 2, with optional churn): an Euler predictor
/// and a trapezoidal corrector, two model evaluations per step; Euler on a step to <c>sigma = 0</c> (and from <c>alpha = 0</c>).
/// </summary>
/// <remarks>
/// <para>In the coordinates <c>x_ve = x / alpha</c>, <c>s = sigma / alpha</c>: <c>d = (x_ve - D(x_ve; s)) / s</c>,
/// <c>x2 = x_ve + (s' - s) d</c>, <c>d2 = (x2 - D(x2; s')) / s'</c>, <c>x_ve' = x_ve + (s' - s)(d + d2) / 2</c>.</para>
/// <para>In path coordinates, with <c>k = (sigma' - alpha' sigma / alpha) / 2</c>, <c>eps1 = (x - alpha x0_1) / sigma</c> and
/// <c>eps2 = (x2 - alpha' x0_2) / sigma'</c>: <c>x' = (alpha'/alpha) x + k (eps1 + eps2)</c>, evaluated as one four-term combination of
/// <c>x</c>, the first model output, <c>x2</c> and the second model output.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class HeunSampler : ChurnSampler
{
    /// <summary>Heun, optionally with churn (same parameters as <see cref="EulerSampler"/>).</summary>
    public HeunSampler(double sChurn = 0.0, double sTMin = 0.0, double sTMax = double.PositiveInfinity, double sNoise = 1.0)
        : base(sChurn, sTMin, sTMax, sNoise)
    {
    }

    /// <inheritdoc/>
    public override string Name => "heun";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, state.Schedule[index], to)) return;
        var from = ApplyChurn(state, index);
        var x = state.X;
        var d1 = state.Denoise(x, from);
        if (to.Sigma == 0 || from.Alpha == 0)
        {
            state.Set(x, to.Alpha * d1 + to.Sigma * d1.Eps);
            return;
        }
        // The Euler predictor, then the trapezoidal corrector x' = (alpha'/alpha) x + k (eps1 + eps2).
        var x2 = state.Buffer("heun_predictor");
        state.Set(x2, to.Alpha * d1 + to.Sigma * d1.Eps);
        var d2 = state.Denoise(x2, to);
        double k = 0.5 * (to.Sigma - to.Alpha * from.Sigma / from.Alpha);
        state.Set(x, (to.Alpha / from.Alpha) * x + k * d1.Eps + k * d2.Eps);
    }
}
