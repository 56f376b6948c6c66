namespace GenerativePaths.Paths;

/// <summary>
/// The beta tables of discrete variance-preserving models over <c>T</c> training steps, in float64, and the
/// zero-terminal-SNR rescale. Each returns <c>beta[0..T-1]</c>; <see cref="AlphasCumprod"/> turns betas into
/// <c>abar[t] = prod_{s &lt;= t} (1 - beta_s)</c>.
/// </summary>
/// <remarks>For the float32 arithmetic diffusers uses (to reproduce its tables bit for bit) see
/// <see cref="Configs.DiffusersBetaSchedules"/>. Thread safety: stateless; every member may be called from several threads at once.</remarks>
public static class BetaSchedules
{
    /// <summary>Ho et al. (2020): betas evenly spaced from <paramref name="betaStart"/> to <paramref name="betaEnd"/>.</summary>
    /// <remarks><c>beta_i = betaStart + i (betaEnd - betaStart) / (T - 1)</c>.</remarks>
    public static double[] Linear(int trainingSteps, double betaStart = 0.0001, double betaEnd = 0.02)
    {
        CheckRange(trainingSteps, betaStart, betaEnd);
        var b = new double[trainingSteps];
        for (int i = 0; i < trainingSteps; i++) b[i] = betaStart + i * (betaEnd - betaStart) / (trainingSteps - 1);
        b[^1] = betaEnd;
        return b;
    }

    /// <summary>The latent-diffusion ("scaled_linear") schedule: square roots of the betas evenly spaced, then squared.</summary>
    /// <remarks><c>beta_i = (sqrt(betaStart) + i (sqrt(betaEnd) - sqrt(betaStart)) / (T - 1))^2</c> (Rombach et al. 2022).</remarks>
    public static double[] ScaledLinear(int trainingSteps, double betaStart = 0.00085, double betaEnd = 0.012)
    {
        CheckRange(trainingSteps, betaStart, betaEnd);
        double a = Math.Sqrt(betaStart), c = Math.Sqrt(betaEnd);
        var b = new double[trainingSteps];
        for (int i = 0; i < trainingSteps; i++)
        {
            double r = i == trainingSteps - 1 ? c : a + i * (c - a) / (trainingSteps - 1);
            b[i] = r * r;
        }
        return b;
    }

    /// <summary>The cosine schedule of Nichol and Dhariwal (2021) ("squaredcos_cap_v2"), betas capped at <paramref name="maxBeta"/>.</summary>
    /// <remarks><c>abar(u) = cos^2((u + 0.008) / 1.008 * pi / 2)</c>, <c>beta_i = min(1 - abar((i + 1)/T) / abar(i/T), maxBeta)</c>.</remarks>
    public static double[] SquaredCosCapV2(int trainingSteps, double maxBeta = 0.999)
    {
        if (trainingSteps < 2) throw new ArgumentOutOfRangeException(nameof(trainingSteps), trainingSteps, "Need at least two training steps.");
        if (!(maxBeta > 0 && maxBeta <= 1)) throw new ArgumentOutOfRangeException(nameof(maxBeta), maxBeta, "maxBeta must lie in (0, 1].");
        var b = new double[trainingSteps];
        for (int i = 0; i < trainingSteps; i++)
        {
            double t1 = (double)i / trainingSteps, t2 = (double)(i + 1) / trainingSteps;
            b[i] = Math.Min(1 - CosineAlphaBar(t2) / CosineAlphaBar(t1), maxBeta);
        }
        return b;
    }

    /// <summary><c>cos^2((u + 0.008) / 1.008 * pi / 2)</c>, the continuous alpha-bar of the cosine schedule.</summary>
    public static double CosineAlphaBar(double u)
    {
        double c = Math.Cos((u + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /// <summary>
    /// Rescales betas so the last timestep has zero SNR (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample
    /// Steps are Flawed", arXiv 2305.08891, Algorithm 1).
    /// </summary>
    /// <remarks><c>r_t = sqrt(abar_t)</c> is shifted and scaled so that <c>r_0</c> is kept and <c>r_{T-1} = 0</c>:
    /// <c>r'_t = (r_t - r_{T-1}) r_0 / (r_0 - r_{T-1})</c>; then <c>abar'_t = r'_t^2</c>, <c>alpha'_t = abar'_t / abar'_{t-1}</c>
    /// (<c>alpha'_0 = abar'_0</c>), <c>beta'_t = 1 - alpha'_t</c>. The last beta becomes 1.</remarks>
    public static double[] RescaleZeroTerminalSnr(IReadOnlyList<double> betas)
    {
        var ac = AlphasCumprod(betas);
        int n = ac.Length;
        var r = new double[n];
        for (int i = 0; i < n; i++) r[i] = Math.Sqrt(ac[i]);
        double first = r[0], last = r[n - 1];
        if (!(first > last)) throw new ArgumentException("The betas leave no signal to rescale (sqrt(abar) does not decrease).", nameof(betas));
        for (int i = 0; i < n; i++) r[i] = (r[i] - last) * first / (first - last);
        var result = new double[n];
        double prev = 1.0;
        for (int i = 0; i < n; i++)
        {
            double abar = i == n - 1 ? 0.0 : r[i] * r[i];
            result[i] = 1 - abar / prev;
            prev = abar;
        }
        return result;
    }

    /// <summary>Cumulative products <c>abar[t] = prod_{s &lt;= t} (1 - beta_s)</c> in float64.</summary>
    /// <exception cref="ArgumentException">A beta outside <c>(0, 1]</c> (exactly 1 only at the last index) or non-finite; the message names the index.</exception>
    public static double[] AlphasCumprod(IReadOnlyList<double> betas)
    {
        ArgumentNullException.ThrowIfNull(betas);
        var ac = new double[betas.Count];
        double p = 1;
        for (int i = 0; i < ac.Length; i++)
        {
            double b = betas[i];
            if (!double.IsFinite(b) || b <= 0 || b > 1 || (b == 1 && i != ac.Length - 1))
                throw new ArgumentException($"beta[{i}] = {b} is invalid: betas must lie in (0, 1) (1 only at the last index).", nameof(betas));
            p *= 1 - b;
            ac[i] = p;
        }
        return ac;
    }

    private static void CheckRange(int trainingSteps, double betaStart, double betaEnd)
    {
        if (trainingSteps < 2) throw new ArgumentOutOfRangeException(nameof(trainingSteps), trainingSteps, "Need at least two training steps.");
        if (!(betaStart > 0 && betaStart < 1)) throw new ArgumentOutOfRangeException(nameof(betaStart), betaStart, "betaStart must lie in (0, 1).");
        if (!(betaEnd > 0 && betaEnd < 1)) throw new ArgumentOutOfRangeException(nameof(betaEnd), betaEnd, "betaEnd must lie in (0, 1).");
    }
}
