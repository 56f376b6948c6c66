namespace GenerativePaths.Paths;

/// <summary>Numerically careful helpers shared by the paths (log-SNR to alpha and sigma, and back).</summary>
internal static class PathMath
{
    /// <summary><c>log(1 + exp(x))</c> without overflow.</summary>
    public static double Softplus(double x) => x > 0 ? x + Math.Log(1 + Math.Exp(-x)) : Math.Log(1 + Math.Exp(x));

    /// <summary><c>exp(x) - 1</c> accurate near 0 (Kahan's trick).</summary>
    public static double ExpM1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1.0) return x;
        double um1 = u - 1.0;
        if (um1 == -1.0) return -1.0;
        if (double.IsPositiveInfinity(u)) return u;
        return um1 * x / Math.Log(u);
    }

    /// <summary>The logistic function <c>1 / (1 + exp(-x))</c>, exact at the infinities.</summary>
    public static double Sigmoid(double x) => x >= 0 ? 1.0 / (1.0 + Math.Exp(-x)) : Math.Exp(x) / (1.0 + Math.Exp(x));

    /// <summary>Alpha of a variance-preserving point with log-SNR <paramref name="lambda"/>: <c>sqrt(sigmoid(2 lambda))</c>.</summary>
    public static double VpAlpha(double lambda) => double.IsNegativeInfinity(lambda) ? 0.0 : Math.Sqrt(Sigmoid(2 * lambda));

    /// <summary>Sigma of a variance-preserving point with log-SNR <paramref name="lambda"/>: <c>sqrt(sigmoid(-2 lambda))</c>.</summary>
    public static double VpSigma(double lambda) => double.IsPositiveInfinity(lambda) ? 0.0 : Math.Sqrt(Sigmoid(-2 * lambda));

    /// <summary>Log-SNR of a variance-preserving point from its <c>alphas_cumprod</c> value <c>a</c>: <c>0.5 log(a / (1 - a))</c>.</summary>
    public static double LogSnrFromAlphaBar(double alphaBar)
        => alphaBar <= 0 ? double.NegativeInfinity : alphaBar >= 1 ? double.PositiveInfinity : 0.5 * (Math.Log(alphaBar) - Math.Log(1 - alphaBar));

    /// <summary>Throws unless <paramref name="t"/> is finite and inside <c>[min, max]</c> (with a tiny relative slack for rounding).</summary>
    public static void CheckTime(double t, double min, double max, string pathName)
    {
        double slack = 1e-12 * Math.Max(1.0, Math.Max(Math.Abs(min), Math.Abs(max)));
        if (!double.IsFinite(t) || t < min - slack || t > max + slack)
            throw new ArgumentOutOfRangeException(nameof(t), t, $"{pathName}: time {t} is outside the path's range [{min}, {max}].");
    }
}
