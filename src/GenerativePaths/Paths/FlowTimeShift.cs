namespace GenerativePaths.Paths;

/// <summary>
/// A monotone warp of flow time <c>[0, 1]</c> onto itself that spends more steps at high noise: the static shift of
/// Stable Diffusion 3 and the resolution-dependent (dynamic, <c>mu</c>) shift of SD3 and Flux.
/// </summary>
/// <remarks>
/// <para>General form: <c>u(t) = a t^e / (a t^e + (1 - t)^e) = a / (a + (1/t - 1)^e)</c> with scale <c>a &gt; 0</c> and exponent <c>e &gt; 0</c>,
/// so <c>u(0) = 0</c>, <c>u(1) = 1</c>, increasing.</para>
/// <list type="bullet">
/// <item><see cref="Static"/>: <c>a = s</c>, <c>e = 1</c>: <c>u = s t / (1 + (s - 1) t)</c> (Esser et al. 2024, SD3, eq. 23).</item>
/// <item><see cref="Exponential"/>: <c>a = exp(mu)</c>: <c>u = exp(mu) / (exp(mu) + (1/t - 1)^e)</c> (diffusers' <c>time_shift_type="exponential"</c>, used by Flux and SD3.5 with <c>e = 1</c>).</item>
/// <item><see cref="LinearMu"/>: <c>a = mu</c> (diffusers' <c>time_shift_type="linear"</c>).</item>
/// </list>
/// <para>Derivative <c>u'(t) = a e t^(e-1) (1-t)^(e-1) / (a t^e + (1-t)^e)^2</c>; inverse
/// <c>t(u) = 1 / (1 + (a (1 - u) / u)^(1/e))</c>.</para>
/// <para>Thread safety: immutable; one instance may serve several threads.</para>
/// </remarks>
public sealed record FlowTimeShift
{
    private FlowTimeShift(double scale, double exponent)
    {
        if (!(scale > 0) || !double.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The shift scale must be positive and finite.");
        if (!(exponent > 0) || !double.IsFinite(exponent)) throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "The shift exponent must be positive and finite.");
        Scale = scale; Exponent = exponent;
    }

    /// <summary>The scale <c>a</c>.</summary>
    public double Scale { get; }

    /// <summary>The exponent <c>e</c>.</summary>
    public double Exponent { get; }

    /// <summary>The identity warp.</summary>
    public static FlowTimeShift None { get; } = new(1.0, 1.0);

    /// <summary>The static shift <c>u = s t / (1 + (s - 1) t)</c>.</summary>
    public static FlowTimeShift Static(double shift) => new(shift, 1.0);

    /// <summary>The resolution-dependent shift <c>u = exp(mu) / (exp(mu) + (1/t - 1)^exponent)</c>.</summary>
    public static FlowTimeShift Exponential(double mu, double exponent = 1.0)
    {
        if (!double.IsFinite(mu)) throw new ArgumentOutOfRangeException(nameof(mu), mu, "mu must be finite.");
        return new(Math.Exp(mu), exponent);
    }

    /// <summary>The linear-mu shift <c>u = mu / (mu + (1/t - 1)^exponent)</c>.</summary>
    public static FlowTimeShift LinearMu(double mu, double exponent = 1.0) => new(mu, exponent);

    /// <summary>
    /// The <c>mu</c> the SD3/Flux pipelines compute from the number of latent tokens (image sequence length): linear from
    /// <c>(baseSeqLen, baseShift)</c> to <c>(maxSeqLen, maxShift)</c>.
    /// </summary>
    /// <remarks><c>mu = baseShift + (imageSeqLen - baseSeqLen) (maxShift - baseShift) / (maxSeqLen - baseSeqLen)</c>.</remarks>
    public static double ResolutionMu(double imageSeqLen, double baseSeqLen = 256, double maxSeqLen = 4096, double baseShift = 0.5, double maxShift = 1.15)
    {
        if (!(maxSeqLen != baseSeqLen) || !double.IsFinite(imageSeqLen))
            throw new ArgumentOutOfRangeException(nameof(maxSeqLen), "Need finite values and maxSeqLen != baseSeqLen.");
        double m = (maxShift - baseShift) / (maxSeqLen - baseSeqLen);
        return imageSeqLen * m + (baseShift - m * baseSeqLen);
    }

    /// <summary><c>u(t)</c>.</summary>
    public double Apply(double t)
    {
        Check(t);
        if (Exponent == 1.0) return Scale * t / (Scale * t + (1 - t));
        double te = Math.Pow(t, Exponent), oe = Math.Pow(1 - t, Exponent);
        return Scale * te / (Scale * te + oe);
    }

    /// <summary><c>du/dt</c>.</summary>
    public double Derivative(double t)
    {
        Check(t);
        if (Exponent == 1.0)
        {
            double d = Scale * t + (1 - t);
            return Scale / (d * d);
        }
        double te = Math.Pow(t, Exponent), oe = Math.Pow(1 - t, Exponent);
        double den = Scale * te + oe;
        return Scale * Exponent * Math.Pow(t, Exponent - 1) * Math.Pow(1 - t, Exponent - 1) / (den * den);
    }

    /// <summary>The inverse <c>t(u)</c>.</summary>
    public double Inverse(double u)
    {
        Check(u);
        if (u == 0) return 0;
        if (u == 1) return 1;
        if (Exponent == 1.0) return u / (u + Scale * (1 - u));
        double r = Math.Pow(Scale * (1 - u) / u, 1 / Exponent);
        return 1 / (1 + r);
    }

    private static void Check(double t)
    {
        if (!(t >= 0 && t <= 1)) throw new ArgumentOutOfRangeException(nameof(t), t, "Flow time must lie in [0, 1].");
    }
}
