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
        var (cx1, cp1) = state.EvaluateDeferred(x, from, state.ModelOutput);
        var (ofX, ofDenoised) = DeterministicMove(from, to);
        if (to.Sigma == 0 || from.Alpha == 0)
        {
            state.CombineConsuming(state.ModelOutput, from, x, ofX + ofDenoised * cx1, x, ofDenoised * cp1, state.ModelOutput);
            return;
        }
        var x2 = state.Scratch(1);
        // The predictor consumes the first model output in full (its check fires before the second evaluation),
        // the corrector the second.
        state.CombineConsuming(state.ModelOutput, from, x2, ofX + ofDenoised * cx1, x, ofDenoised * cp1, state.ModelOutput);
        var (cx2, cp2) = state.EvaluateDeferred(x2, to, state.SecondOutput);
        double k = 0.5 * (to.Sigma - to.Alpha * from.Sigma / from.Alpha);
        double k1 = k * from.Alpha / from.Sigma, k2 = k * to.Alpha / to.Sigma;
        state.CombineConsuming(state.SecondOutput, to, x,
            to.Alpha / from.Alpha + k / from.Sigma - k1 * cx1, x,
            -k1 * cp1, state.ModelOutput,
            k / to.Sigma - k2 * cx2, x2,
            -k2 * cp2, state.SecondOutput);
    }
}
