using GenerativePaths.Models;
using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode.Problems;

/// <summary>
/// The probability-flow ODE of a <see cref="GaussianMixture"/> under the variance-exploding path
/// <c>x = x0 + sigma eps</c> (alpha = 1): the ODE in sigma, its exact divergence and the exact log-density of the noised
/// marginal, all computed by the mixture itself.
/// </summary>
/// <remarks>
/// <para>The denoiser <c>D(x; sigma) = E[x0 | x]</c> is <see cref="GaussianMixture.PosteriorMean(ReadOnlySpan{double}, double, double, Span{double})"/> at alpha = 1.</para>
/// <para>probability-flow ODE (Karras et al. 2022, eq. 3 with sigma(t) = t) <c>dx/dsigma = (x - D(x; sigma)) / sigma</c>;</para>
/// <para>the velocity's divergence is <c>(d - div D)/sigma</c>, with <c>div D</c> from <see cref="GaussianMixture.PosteriorMeanDivergence"/>.</para>
/// <para>Thread safety: immutable; the instance and the functions it returns may be used from several threads at once.</para>
/// </remarks>
public sealed class GaussianMixtureFlow
{
    /// <summary>The probability flow of <paramref name="mixture"/>.</summary>
    public GaussianMixtureFlow(GaussianMixture mixture)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        Mixture = mixture;
    }

    /// <summary>The probability flow of the isotropic mixture <c>sum_k w_k N(mu_k, s_k^2 I)</c>.</summary>
    /// <exception cref="ArgumentException">The sizes disagree, a weight is not positive or a standard deviation is negative.</exception>
    public GaussianMixtureFlow(double[] weights, double[][] means, double[] stds)
        : this(GaussianMixture.Isotropic(weights, means, stds))
    {
    }

    /// <summary>The mixture.</summary>
    public GaussianMixture Mixture { get; }

    /// <summary>The dimension <c>d</c> of a sample.</summary>
    public int Dimension => Mixture.Dimension;

    /// <summary>Writes the posterior mean <c>D(x; sigma)</c> of one sample into <paramref name="x0hat"/>.</summary>
    public void Denoise(ReadOnlySpan<double> x, double sigma, Span<double> x0hat) => Mixture.PosteriorMean(x, 1.0, sigma, x0hat);

    /// <summary>The exact log-density <c>log p_sigma(x)</c> of the noised marginal at one sample.</summary>
    public double LogDensity(ReadOnlySpan<double> x, double sigma) => Mixture.LogDensity(x, 1.0, sigma);

    /// <summary>The divergence of the probability-flow velocity <c>(x - D)/sigma</c> at one sample.</summary>
    /// <remarks>Formula: <c>(d - div_x D(x; sigma)) / sigma</c>.</remarks>
    public double VelocityDivergence(ReadOnlySpan<double> x, double sigma)
        => (Dimension - Mixture.PosteriorMeanDivergence(x, 1.0, sigma)) / sigma;

    /// <summary>The probability-flow ODE <c>dx/dsigma = (x - D(x; sigma))/sigma</c> on rows of <see cref="Dimension"/> elements (time = sigma).</summary>
    /// <remarks>The function keeps no shared scratch (per-call buffers on the stack, or per thread above 256 dimensions), so one
    /// instance may be called from several threads at once.</remarks>
    public OdeFunction<T> ProbabilityFlow<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = Dimension;
        return (t, y, dydt) =>
        {
            if (y.RowLength != d) throw new ArgumentException($"The mixture has dimension {d}; the tensor has rows of {y.RowLength}.", nameof(y));
            Span<double> xs = d <= 256 ? stackalloc double[d] : Scratch(0, d);
            Span<double> dn = d <= 256 ? stackalloc double[d] : Scratch(1, d);
            for (int b = 0; b < y.BatchSize; b++)
            {
                var row = y.Row(b); var outRow = dydt.Row(b);
                double sigma = t[b];
                for (int i = 0; i < d; i++) xs[i] = double.CreateTruncating(row[i]);
                Denoise(xs, sigma, dn);
                for (int i = 0; i < d; i++) outRow[i] = T.CreateTruncating((xs[i] - dn[i]) / sigma);
            }
        };
    }

    /// <summary>The exact divergence of <see cref="ProbabilityFlow{T}"/> per sample, for likelihood computation.</summary>
    /// <remarks>Keeps no shared scratch; one instance may be called from several threads at once.</remarks>
    public DivergenceFunction<T> ProbabilityFlowDivergence<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = Dimension;
        return (t, y, divergence) =>
        {
            Span<double> xs = d <= 256 ? stackalloc double[d] : Scratch(0, d);
            for (int b = 0; b < y.BatchSize; b++)
            {
                var row = y.Row(b);
                for (int i = 0; i < d; i++) xs[i] = double.CreateTruncating(row[i]);
                divergence[b] = VelocityDivergence(xs, t[b]);
            }
        };
    }

    [ThreadStatic] private static double[]?[]? t_scratch;

    /// <summary>Per-thread scratch for large dimensions: no buffer is shared between threads.</summary>
    private static Span<double> Scratch(int slot, int length)
    {
        var slots = t_scratch ??= new double[]?[2];
        var a = slots[slot];
        if (a is null || a.Length < length) slots[slot] = a = new double[length];
        return a.AsSpan(0, length);
    }
}
