using GenerativePaths.Paths;

namespace GenerativePaths.Configs;

/// <summary>
/// The <c>alphas_cumprod</c> tables of the diffusers schedulers computed with diffusers' float32 arithmetic, so that a
/// model's table is reproduced to the last bit or within a few float32 units (the library's own
/// <see cref="BetaSchedules"/> computes the same formulas in float64).
/// </summary>
/// <remarks>
/// As diffusers (<c>scheduling_ddim.py</c> and siblings, <c>__init__</c>) does: betas in float32
/// (<c>torch.linspace(..., dtype=float32)</c>; <c>scaled_linear</c> squares a float32 linspace of the square roots;
/// <c>squaredcos_cap_v2</c> is computed in float64 and rounded to float32; trained betas are rounded to float32), the
/// optional zero-terminal-SNR rescale in float32, <c>alphas = 1 - betas</c> in float32, and the cumulative product
/// accumulated in float64 and stored in float32 (what <c>torch.cumprod</c> does on the CPU).
/// <para>Thread safety: stateless; every member may be called from several threads at once.</para>
/// </remarks>
internal static class DiffusersBetaSchedules
{
    /// <summary>The float32 betas for a diffusers <c>beta_schedule</c> name (<c>linear</c>, <c>scaled_linear</c>, <c>squaredcos_cap_v2</c>), or <paramref name="trainedBetas"/> when given.</summary>
    /// <exception cref="DiffusersConfigException">An unknown schedule name.</exception>
    public static float[] Betas(string betaSchedule, int trainingSteps, double betaStart, double betaEnd, IReadOnlyList<double>? trainedBetas = null)
    {
        if (trainedBetas is not null)
        {
            if (trainedBetas.Count < 2) throw new DiffusersConfigException("trained_betas", trainedBetas.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), "trained_betas needs at least two values.", unsupported: false);
            return trainedBetas.Select(b => (float)b).ToArray();
        }
        if (trainingSteps < 2) throw new DiffusersConfigException("num_train_timesteps", trainingSteps.ToString(System.Globalization.CultureInfo.InvariantCulture), "num_train_timesteps must be at least 2.", unsupported: false);
        switch (betaSchedule)
        {
            case "linear":
                return TorchLinspace((float)betaStart, (float)betaEnd, trainingSteps);
            case "scaled_linear":
            {
                var r = TorchLinspace((float)Math.Sqrt(betaStart), (float)Math.Sqrt(betaEnd), trainingSteps);
                for (int i = 0; i < r.Length; i++) r[i] = r[i] * r[i];
                return r;
            }
            case "squaredcos_cap_v2":
                return BetaSchedules.SquaredCosCapV2(trainingSteps).Select(b => (float)b).ToArray();
            default:
                throw new DiffusersConfigException("beta_schedule", betaSchedule, $"beta_schedule '{betaSchedule}' is not supported (use linear, scaled_linear, squaredcos_cap_v2 or trained_betas).", unsupported: true);
        }
    }

    /// <summary>Lin et al. (2024) zero-terminal-SNR rescale (arXiv 2305.08891, Algorithm 1) in float32, as diffusers' <c>rescale_zero_terminal_snr</c>.</summary>
    public static float[] RescaleZeroTerminalSnr(float[] betas)
    {
        ArgumentNullException.ThrowIfNull(betas);
        var ac = Cumprod(OneMinus(betas));
        int n = ac.Length;
        var r = new float[n];
        for (int i = 0; i < n; i++) r[i] = MathF.Sqrt(ac[i]);
        float first = r[0], last = r[n - 1];
        for (int i = 0; i < n; i++) r[i] -= last;
        float scale = first / (first - last);
        for (int i = 0; i < n; i++) r[i] *= scale;
        var abar = new float[n];
        for (int i = 0; i < n; i++) abar[i] = r[i] * r[i];
        var result = new float[n];
        result[0] = 1f - abar[0];
        for (int i = 1; i < n; i++) result[i] = 1f - abar[i] / abar[i - 1];
        return result;
    }

    /// <summary>The float32 <c>alphas_cumprod</c> (returned as float64 values) for the betas: <c>alphas = 1 - betas</c> in float32,
    /// cumulative product accumulated in float64 and rounded to float32 at each index.</summary>
    public static double[] AlphasCumprod(float[] betas) => Cumprod(OneMinus(betas)).Select(v => (double)v).ToArray();

    /// <summary>The whole table for a configuration: betas, optional rescale, cumulative product.</summary>
    public static double[] AlphasCumprod(string betaSchedule, int trainingSteps, double betaStart, double betaEnd, IReadOnlyList<double>? trainedBetas = null, bool rescaleZeroTerminalSnr = false)
    {
        var betas = Betas(betaSchedule, trainingSteps, betaStart, betaEnd, trainedBetas);
        if (rescaleZeroTerminalSnr) betas = RescaleZeroTerminalSnr(betas);
        return AlphasCumprod(betas);
    }

    private static float[] OneMinus(float[] b)
    {
        var a = new float[b.Length];
        for (int i = 0; i < b.Length; i++) a[i] = 1f - b[i];
        return a;
    }

    private static float[] Cumprod(float[] a)
    {
        var c = new float[a.Length];
        double p = 1;
        for (int i = 0; i < a.Length; i++) { p *= a[i]; c[i] = (float)p; }
        return c;
    }

    /// <summary>
    /// <c>torch.linspace(start, end, steps, dtype=float32)</c> as PyTorch's CPU kernel computes it on an AVX2 machine:
    /// <c>step = (end - start) / (steps - 1)</c> in float32; the first half counts up from <c>start</c>, the second half down
    /// from <c>end</c>; blocks of <paramref name="lanes"/> values start from <c>start + step idx</c> (or <c>end - step (steps - 1 - idx)</c>)
    /// and add <c>k step</c>, each product-sum rounded once (fused multiply-add). This reproduces the float32 tables of
    /// the reference cases bit for bit.
    /// </summary>
    internal static float[] TorchLinspace(float start, float end, int steps, int lanes = 8)
    {
        var r = new float[steps];
        if (steps == 1) { r[0] = start; return r; }
        float step = (end - start) / (steps - 1);
        int half = steps / 2;
        int vectorEnd = lanes > 1 ? steps / (2 * lanes) * (2 * lanes) : 0;
        int idx = 0;
        for (; idx < vectorEnd; idx += lanes)
        {
            float b = Base(idx);
            r[idx] = b;
            for (int k = 1; k < lanes; k++) r[idx + k] = MathF.FusedMultiplyAdd(k, step, b);
        }
        for (; idx < steps; idx++) r[idx] = Base(idx);
        return r;

        float Base(int i) => i < half ? MathF.FusedMultiplyAdd(step, i, start) : MathF.FusedMultiplyAdd(-step, steps - i - 1, end);
    }
}

/// <summary>A diffusers configuration with an invalid value, or one that names a scheduler class or value the library does not support
/// (<see cref="IsUnsupported"/> tells which), for the field <see cref="Field"/>.</summary>
/// <remarks>It derives from <see cref="Exception"/>, not <see cref="NotSupportedException"/>: most configuration errors are invalid values,
/// and callers that treat "not supported" differently test <see cref="IsUnsupported"/>.
/// Thread safety: immutable; may be shared by several threads.</remarks>
public sealed class DiffusersConfigException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DiffusersConfigException(string field, string? value, string message, bool unsupported = true) : base(message)
    {
        Field = field; Value = value; IsUnsupported = unsupported;
    }

    /// <summary>The configuration field at fault (e.g. <c>_class_name</c>, <c>beta_schedule</c>).</summary>
    public string Field { get; }

    /// <summary>The offending value as text, if any.</summary>
    public string? Value { get; }

    /// <summary>True when the value is valid for diffusers but not supported here; false when it is invalid.</summary>
    public bool IsUnsupported { get; }
}
