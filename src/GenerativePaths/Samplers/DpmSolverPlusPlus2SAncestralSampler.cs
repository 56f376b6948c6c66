using System.Numerics;

namespace GenerativePaths.Samplers;

/// <summary>
/// DPM-Solver++(2S) ancestral (Lu, Zhou, Bao, Chen, Li and Zhu 2022, "DPM-Solver++", Algorithm 1, the second-order single-step solver
/// in data prediction, with the ancestral noise of k-diffusion's <c>sample_dpmpp_2s_ancestral</c>).
/// </summary>
/// <remarks>
/// <para>In the coordinates <c>s = sigma / alpha</c>, <c>x_ve = x / alpha</c>: <c>(s_down, s_up)</c> as in
/// <see cref="EulerAncestralSampler"/>; with <c>lambda = -log s</c>, <c>h = lambda_down - lambda</c>, the midpoint
/// <c>s_mid = sqrt(s s_down)</c> (<c>lambda + h/2</c>), <c>x_ve,mid = (s_mid/s) x_ve + (1 - e^{-h/2}) x0hat</c>
/// (<c>e^{-h/2} = s_mid / s</c>), then <c>x_ve' = (s_down/s) x_ve + (1 - e^{-h}) x0hat(x_mid) + s_noise s_up z</c>; in path coordinates
/// <c>x' = alpha' x_ve'</c>, the model called at the path point of <c>s_mid</c> with <c>x_mid = alpha_mid x_ve,mid</c>.</para>
/// <para>When <c>s_down = 0</c> or from <c>alpha = 0</c>: the Euler step to <c>s_down</c> (see <see cref="DpmSolver2AncestralSampler"/>); a step to
/// <c>sigma' = 0</c> returns <c>alpha' x0hat</c>. Noise: interval <c>(s, s')</c>, stream = step index, drawn only when <c>s_up s_noise &gt; 0</c>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolverPlusPlus2SAncestralSampler : Sampler
{
    /// <summary>DPM-Solver++(2S) ancestral.</summary>
    /// <param name="eta">Ancestral noise level (0 = DPM-Solver++(2S) without noise); finite and non-negative.</param>
    /// <param name="sNoise">Scale of the added noise; finite and non-negative.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is negative or not finite.</exception>
    public DpmSolverPlusPlus2SAncestralSampler(double eta = 1.0, double sNoise = 1.0)
    {
        if (!(eta >= 0) || double.IsInfinity(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be finite and non-negative.");
        if (!(sNoise >= 0) || double.IsInfinity(sNoise)) throw new ArgumentOutOfRangeException(nameof(sNoise), sNoise, "s_noise must be finite and non-negative.");
        Eta = eta;
        SNoise = sNoise;
    }

    /// <summary>The ancestral noise level.</summary>
    public double Eta { get; }

    /// <summary>The noise scale.</summary>
    public double SNoise { get; }

    /// <inheritdoc/>
    public override string Name => "dpmpp_2s_ancestral";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        var x = state.X;
        var d = state.Denoise(x, from);
        if (AncestralEuler.TryStep(state, index, from, to, d, Eta, SNoise, out double sDown, out double sUp)) return;
        double s = from.SigmaOverAlpha;
        var mid = VeStepMath.PointAt(state.Schedule.Path, Math.Sqrt(s * sDown));
        double w = mid.SigmaOverAlpha / s;
        // x_mid = alpha_mid ((s_mid/s) x / alpha + (1 - s_mid/s) x0hat), the DDIM move to the log-SNR midpoint of s -> s_down.
        var xMid = state.Buffer("dpmpp_2s_ancestral_midpoint");
        state.Set(xMid, (mid.Alpha * w / from.Alpha) * x + (mid.Alpha * (1 - w)) * d);
        var dMid = state.Denoise(xMid, mid);
        // x' = alpha' ((s_down/s) x / alpha + (1 - s_down/s) x0hat_mid) + alpha' s_noise s_up z.
        double v = sDown / s, ofX = to.Alpha * v / from.Alpha, ofD = to.Alpha * (1 - v);
        double noise = to.Alpha * SNoise * sUp;
        if (noise > 0)
        {
            var z = state.Buffer(NoiseBuffer);
            state.DrawNoise(index, s, to.SigmaOverAlpha, z);
            state.Set(x, ofX * x + ofD * dMid + noise * z);
        }
        else state.Set(x, ofX * x + ofD * dMid);
    }
}
