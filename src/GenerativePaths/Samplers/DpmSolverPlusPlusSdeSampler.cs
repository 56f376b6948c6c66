using System.Numerics;
using GenerativePaths.Noise;

namespace GenerativePaths.Samplers;

/// <summary>
/// DPM-Solver++ SDE (k-diffusion's <c>sample_dpmpp_sde</c>): a stochastic second-order single-step solver in data prediction after
/// Lu, Zhou, Bao, Chen, Li and Zhu (2022, "DPM-Solver++"), with an ancestral noise injection at its intermediate point and at its end.
/// Two model evaluations per step (one on a step to <c>sigma' = 0</c>).
/// </summary>
/// <remarks>
/// <para>In the coordinates <c>s = sigma / alpha</c>, <c>x_ve = x / alpha</c>, <c>lambda = -log s</c>, <c>h = lambda' - lambda</c>:
/// the intermediate level <c>s_r = exp(-(lambda + r h)) = s^{1-r} s'^r</c>; with <c>(d_1, u_1)</c> the ancestral split of
/// <c>s -&gt; s_r</c> (see <see cref="EulerAncestralSampler"/>), <c>x_ve,r = (d_1/s) x_ve + (1 - d_1/s) D + s_noise u_1 z_1</c>;
/// the model at the path point of <c>s_r</c> gives <c>D_r</c>; with <c>(d_2, u_2)</c> the split of <c>s -&gt; s'</c> and
/// <c>f = 1/(2r)</c>: <c>x_ve' = (d_2/s) x_ve + (1 - d_2/s) ((1 - f) D + f D_r) + s_noise u_2 z_2</c>; in path coordinates
/// <c>x = alpha x_ve</c> at each point.</para>
/// <para>Noise: <c>z_1</c> for the interval <c>(s, s_r)</c> (stream <c>NoiseStreams.Start + 2^32 + i</c> for a source that is asked by
/// stream only), <c>z_2</c> for <c>(s, s')</c> (stream <c>i</c>), in that order, each only when its scale is positive. With a
/// <see cref="BrownianNoise"/> this is k-diffusion's default. A step to <c>sigma' = 0</c> returns <c>alpha' x0hat</c>; from
/// <c>alpha = 0</c> the step is the ancestral Euler step of <see cref="DpmSolver2AncestralSampler"/>.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
public sealed class DpmSolverPlusPlusSdeSampler : Sampler
{
    /// <summary>DPM-Solver++ SDE.</summary>
    /// <param name="eta">Ancestral noise level; finite and non-negative.</param>
    /// <param name="sNoise">Scale of the added noise; finite and non-negative.</param>
    /// <param name="r">Position of the intermediate point in log-SNR, in (0, 1] (k-diffusion's default 1/2).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range or not finite.</exception>
    public DpmSolverPlusPlusSdeSampler(double eta = 1.0, double sNoise = 1.0, double r = 0.5)
    {
        if (!(eta >= 0) || double.IsInfinity(eta)) throw new ArgumentOutOfRangeException(nameof(eta), eta, "eta must be finite and non-negative.");
        if (!(sNoise >= 0) || double.IsInfinity(sNoise)) throw new ArgumentOutOfRangeException(nameof(sNoise), sNoise, "s_noise must be finite and non-negative.");
        if (!(r > 0 && r <= 1)) throw new ArgumentOutOfRangeException(nameof(r), r, "r must lie in (0, 1].");
        Eta = eta;
        SNoise = sNoise;
        R = r;
    }

    /// <summary>The ancestral noise level.</summary>
    public double Eta { get; }

    /// <summary>The noise scale.</summary>
    public double SNoise { get; }

    /// <summary>The position of the intermediate point.</summary>
    public double R { get; }

    /// <inheritdoc/>
    public override string Name => "dpmpp_sde";

    /// <inheritdoc/>
    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) return;
        var x = state.X;
        var d = state.Denoise(x, from);
        if (to.Sigma == 0 || from.Alpha == 0 || to.Alpha == 0)
        {
            AncestralEuler.TryStep(state, index, from, to, d, Eta, SNoise, out _, out _);
            return;
        }
        double s = from.SigmaOverAlpha, sNext = to.SigmaOverAlpha;
        var mid = VeStepMath.PointAt(state.Schedule.Path, Math.Exp((1 - R) * Math.Log(s) + R * Math.Log(sNext)));
        double sMid = mid.SigmaOverAlpha;
        var z = state.Buffer(NoiseBuffer);
        var xMid = state.Buffer("dpmpp_sde_midpoint");

        // Step 1: x_mid = alpha_mid ((d1/s) x / alpha + (1 - d1/s) D + s_noise u1 z1).
        var (d1, u1) = VeStepMath.Ancestral(s, sMid, Eta);
        double w = d1 / s, n1 = mid.Alpha * SNoise * u1;
        var toMid = (mid.Alpha * w / from.Alpha) * x + (mid.Alpha * (1 - w)) * d;
        if (n1 > 0)
        {
            state.DrawNoise(VeStepMath.SubstepStream(index, 1), s, sMid, z);
            state.Set(xMid, toMid + n1 * z);
        }
        else state.Set(xMid, toMid);
        var dMid = state.Denoise(xMid, mid);

        // Step 2: x' = alpha' ((d2/s) x / alpha + (1 - d2/s) ((1 - f) D + f D_mid) + s_noise u2 z2).
        var (d2, u2) = VeStepMath.Ancestral(s, sNext, Eta);
        double f = 1 / (2 * R), v = d2 / s, g = to.Alpha * (1 - v), n2 = to.Alpha * SNoise * u2;
        var update = (to.Alpha * v / from.Alpha) * x + (g * (1 - f)) * d + (g * f) * dMid;
        if (n2 > 0)
        {
            state.DrawNoise(index, s, sNext, z);
            state.Set(x, update + n2 * z);
        }
        else state.Set(x, update);
    }
}
