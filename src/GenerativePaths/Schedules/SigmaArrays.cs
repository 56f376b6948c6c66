namespace GenerativePaths.Schedules;

/// <summary>
/// The sigma plans of k-diffusion (<c>k_diffusion/sampling.py</c>, <c>get_sigmas_*</c>) for the variance-exploding
/// path <c>x = x0 + sigma eps</c>: <c>n</c> decreasing sigmas followed by a final 0 (so <c>n + 1</c> values).
/// Computed in float64.
/// </summary>
/// <remarks>Thread safety: stateless; every member may be called from several threads at once.</remarks>
public static class SigmaArrays
{
    /// <summary>Karras et al. (2022), "Elucidating the Design Space of Diffusion-Based Generative Models", eq. 5.</summary>
    /// <remarks><c>sigma_i = (sigmaMax^(1/rho) + i/(n-1) (sigmaMin^(1/rho) - sigmaMax^(1/rho)))^rho</c>, <c>i = 0..n-1</c>, then 0.</remarks>
    public static double[] Karras(int n, double sigmaMin, double sigmaMax, double rho = 7.0)
    {
        Check(n, sigmaMin, sigmaMax);
        if (!(rho > 0) || !double.IsFinite(rho)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "rho must be positive and finite.");
        double minInv = Math.Pow(sigmaMin, 1 / rho), maxInv = Math.Pow(sigmaMax, 1 / rho);
        var s = new double[n + 1];
        for (int i = 0; i < n; i++)
        {
            double ramp = Ramp(i, n);
            s[i] = Math.Pow(maxInv + ramp * (minInv - maxInv), rho);
        }
        if (n > 1) s[n - 1] = sigmaMin;
        s[0] = sigmaMax;
        return s;
    }

    /// <summary>Sigmas evenly spaced in log sigma from <paramref name="sigmaMax"/> to <paramref name="sigmaMin"/>, then 0.</summary>
    /// <remarks><c>sigma_i = exp(log sigmaMax + i/(n-1) (log sigmaMin - log sigmaMax))</c>.</remarks>
    public static double[] Exponential(int n, double sigmaMin, double sigmaMax)
    {
        Check(n, sigmaMin, sigmaMax);
        double a = Math.Log(sigmaMax), b = Math.Log(sigmaMin);
        var s = new double[n + 1];
        for (int i = 0; i < n; i++) s[i] = Math.Exp(a + Ramp(i, n) * (b - a));
        if (n > 1) s[n - 1] = sigmaMin;
        s[0] = sigmaMax;
        return s;
    }

    /// <summary>k-diffusion's polynomial-in-log-sigma plan: <c>log sigma</c> goes from max to min along <c>r^rho</c>, then 0.</summary>
    /// <remarks><c>r_i = (1 - i/(n-1))^rho</c>, <c>sigma_i = exp(r_i (log sigmaMax - log sigmaMin) + log sigmaMin)</c>; <c>rho = 1</c> is <see cref="Exponential"/>.</remarks>
    public static double[] PolyExponential(int n, double sigmaMin, double sigmaMax, double rho = 1.0)
    {
        Check(n, sigmaMin, sigmaMax);
        if (!(rho > 0) || !double.IsFinite(rho)) throw new ArgumentOutOfRangeException(nameof(rho), rho, "rho must be positive and finite.");
        double a = Math.Log(sigmaMax), b = Math.Log(sigmaMin);
        var s = new double[n + 1];
        for (int i = 0; i < n; i++)
        {
            double r = Math.Pow(1 - Ramp(i, n), rho);
            s[i] = Math.Exp(r * (a - b) + b);
        }
        return s;
    }

    /// <summary>The continuous VP (linear beta) plan of Song et al. (2021) expressed as VE sigmas, then 0.</summary>
    /// <remarks><c>t_i = 1 + i/(n-1) (epsS - 1)</c>, <c>sigma_i = sqrt(exp(betaD t^2 / 2 + betaMin t) - 1)</c>.</remarks>
    public static double[] Vp(int n, double betaD = 19.9, double betaMin = 0.1, double epsS = 1e-3)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "Need at least one sigma.");
        if (!(betaD > 0) || !(betaMin >= 0) || !(epsS > 0 && epsS < 1))
            throw new ArgumentOutOfRangeException(nameof(betaD), $"Need betaD > 0, betaMin >= 0, 0 < epsS < 1; got {betaD}, {betaMin}, {epsS}.");
        var s = new double[n + 1];
        for (int i = 0; i < n; i++)
        {
            double t = 1 + Ramp(i, n) * (epsS - 1);
            s[i] = Math.Sqrt(Paths.PathMath.ExpM1(betaD * t * t / 2 + betaMin * t));
        }
        return s;
    }

    /// <summary>
    /// The flow-matching plan: <paramref name="n"/> flow times evenly spaced from 1 to <paramref name="timeMin"/>, each
    /// mapped through <paramref name="shift"/>, then 0. The values are sigmas of the rectified-flow path (<c>alpha = 1 - sigma</c>).
    /// </summary>
    /// <remarks><c>u_i = shift(1 + i/(n-1) (timeMin - 1))</c>. For diffusers' FlowMatchEulerDiscreteScheduler (which shifts its
    /// smallest time twice) use <see cref="Configs.DiffusersSchedulerConfig"/>.</remarks>
    public static double[] Flow(int n, Paths.FlowTimeShift? shift = null, double timeMin = 0.0)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "Need at least one step.");
        if (!(timeMin >= 0 && timeMin < 1)) throw new ArgumentOutOfRangeException(nameof(timeMin), timeMin, "timeMin must lie in [0, 1).");
        shift ??= Paths.FlowTimeShift.None;
        var s = new double[n + 1];
        for (int i = 0; i < n; i++) s[i] = shift.Apply(1 + Ramp(i, n) * (timeMin - 1));
        return s;
    }

    private static double Ramp(int i, int n) => n == 1 ? 0.0 : (double)i / (n - 1);

    private static void Check(int n, double sigmaMin, double sigmaMax)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "Need at least one sigma.");
        if (!(sigmaMin > 0) || !double.IsFinite(sigmaMin)) throw new ArgumentOutOfRangeException(nameof(sigmaMin), sigmaMin, "sigmaMin must be positive and finite.");
        if (!(sigmaMax >= sigmaMin) || !double.IsFinite(sigmaMax)) throw new ArgumentOutOfRangeException(nameof(sigmaMax), sigmaMax, $"sigmaMax must be finite and at least sigmaMin ({sigmaMin}).");
    }
}
