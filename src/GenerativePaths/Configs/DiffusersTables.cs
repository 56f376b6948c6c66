namespace GenerativePaths.Configs;

/// <summary>
/// diffusers' float32 sigma table of a discrete model, <c>sigma_t = sqrt((1 - abar_t) / abar_t)</c> (computed in float32 as
/// the schedulers do), its float32 logarithm, NumPy's <c>interp</c> over it, and <c>_sigma_to_t</c>.
/// </summary>
internal sealed class DiffusersTables
{
    public DiffusersTables(IReadOnlyList<double> alphasCumprod)
    {
        int n = alphasCumprod.Count;
        Sigmas = new double[n];
        LogSigmas = new double[n];
        for (int i = 0; i < n; i++)
        {
            float a = (float)alphasCumprod[i];
            float s = MathF.Sqrt((1f - a) / a);
            Sigmas[i] = s;
            LogSigmas[i] = (float)Math.Log(s);
        }
    }

    /// <summary>Float32 sigma per training timestep (as float64 values).</summary>
    public double[] Sigmas { get; }

    /// <summary>Float32 log sigma per training timestep.</summary>
    public double[] LogSigmas { get; }

    /// <summary><c>np.interp(t, arange(T), sigmas)</c>.</summary>
    public double Interp(double t)
    {
        int n = Sigmas.Length;
        if (t <= 0) return Sigmas[0];
        if (t >= n - 1) return Sigmas[n - 1];
        int j = (int)Math.Floor(t);
        if (t == j) return Sigmas[j];
        double slope = Sigmas[j + 1] - Sigmas[j];
        return slope * (t - j) + Sigmas[j];
    }

    /// <summary>diffusers' <c>_sigma_to_t</c>: the timestep where log sigma, interpolated linearly, equals <c>log sigma</c>; clipped to <c>[0, T-1]</c>.</summary>
    public double SigmaToT(double sigma)
    {
        double ls = Math.Log(Math.Max(sigma, 1e-10));
        int n = LogSigmas.Length;
        // low = last index with ls >= LogSigmas[i] (0 if none), at most n - 2.
        int low = 0;
        for (int i = 0; i < n; i++) if (ls - LogSigmas[i] >= 0) low = i;
        low = Math.Min(low, n - 2);
        double lo = LogSigmas[low], hi = LogSigmas[low + 1];
        double w = Math.Clamp((lo - ls) / (lo - hi), 0, 1);
        return (1 - w) * low + w * (low + 1);
    }
}
