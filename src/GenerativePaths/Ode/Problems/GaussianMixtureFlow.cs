using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode.Problems;

/// <summary>
/// An isotropic Gaussian mixture <c>p(x0) = sum_k w_k N(x0; mu_k, s_k^2 I)</c> under the variance-exploding path
/// <c>x = x0 + sigma eps</c>: its exact denoiser, the probability-flow ODE in sigma, its exact divergence and the exact
/// log-density of the noised marginal.
/// </summary>
/// <remarks>
/// <para>With <c>v_k = s_k^2 + sigma^2</c> and responsibilities <c>r_k ∝ w_k N(x; mu_k, v_k I)</c> (a softmax of log densities):</para>
/// <para>denoiser <c>D(x; sigma) = sum_k r_k (mu_k + (s_k^2 / v_k)(x - mu_k))</c>;</para>
/// <para>probability-flow ODE (Karras et al. 2022, eq. 3 with sigma(t) = t) <c>dx/dsigma = (x - D(x; sigma)) / sigma</c>;</para>
/// <para>by Tweedie's formula <c>D = x + sigma^2 grad log p_sigma</c>, so with <c>g_k = -(x - mu_k)/v_k</c> and <c>g = sum_k r_k g_k</c>:
/// <c>div D = d + sigma^2 (sum_k r_k (|g_k|^2 - d/v_k) - |g|^2)</c> and the velocity's divergence is <c>(d - div D)/sigma</c>.</para>
/// </remarks>
public sealed class GaussianMixtureFlow
{
    private readonly double[] _logW;
    private readonly double[][] _mu;
    private readonly double[] _s2;

    /// <summary>Creates the mixture.</summary>
    /// <exception cref="ArgumentException">The sizes disagree, a weight is not positive or a standard deviation is negative.</exception>
    public GaussianMixtureFlow(double[] weights, double[][] means, double[] stds)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(stds);
        int k = weights.Length;
        if (k == 0) throw new ArgumentException("A mixture needs at least one component.", nameof(weights));
        if (means.Length != k) throw new ArgumentException($"There are {means.Length} means for {k} weights.", nameof(means));
        if (stds.Length != k) throw new ArgumentException($"There are {stds.Length} standard deviations for {k} weights.", nameof(stds));
        Dimension = means[0].Length;
        double total = weights.Sum();
        _logW = new double[k];
        _mu = new double[k][];
        _s2 = new double[k];
        for (int i = 0; i < k; i++)
        {
            if (!(weights[i] > 0)) throw new ArgumentException($"Weight {i} must be positive; it is {weights[i]}.", nameof(weights));
            if (!(stds[i] >= 0)) throw new ArgumentException($"Standard deviation {i} must be non-negative; it is {stds[i]}.", nameof(stds));
            if (means[i].Length != Dimension) throw new ArgumentException($"Mean {i} has {means[i].Length} elements; mean 0 has {Dimension}.", nameof(means));
            _logW[i] = Math.Log(weights[i] / total);
            _mu[i] = (double[])means[i].Clone();
            _s2[i] = stds[i] * stds[i];
        }
    }

    /// <summary>The dimension <c>d</c> of a sample.</summary>
    public int Dimension { get; }

    /// <summary>The number of components.</summary>
    public int Components => _logW.Length;

    /// <summary>Writes the posterior mean <c>D(x; sigma)</c> of one sample into <paramref name="x0hat"/>; <paramref name="r"/> is scratch of length <see cref="Components"/>.</summary>
    public void Denoise(ReadOnlySpan<double> x, double sigma, Span<double> x0hat, Span<double> r)
    {
        Responsibilities(x, sigma, r);
        x0hat.Clear();
        for (int k = 0; k < Components; k++)
        {
            double v = _s2[k] + sigma * sigma, a = _s2[k] / v;
            var mu = _mu[k];
            for (int i = 0; i < Dimension; i++) x0hat[i] += r[k] * (mu[i] + a * (x[i] - mu[i]));
        }
    }

    /// <summary>The exact log-density <c>log p_sigma(x)</c> of the noised marginal at one sample.</summary>
    public double LogDensity(ReadOnlySpan<double> x, double sigma)
    {
        double max = double.NegativeInfinity;
        Span<double> l = Components <= 64 ? stackalloc double[Components] : new double[Components];
        for (int k = 0; k < Components; k++) { l[k] = ComponentLog(x, sigma, k); max = Math.Max(max, l[k]); }
        double sum = 0;
        for (int k = 0; k < Components; k++) sum += Math.Exp(l[k] - max);
        return max + Math.Log(sum);
    }

    /// <summary>The divergence of the probability-flow velocity <c>(x - D)/sigma</c> at one sample.</summary>
    public double VelocityDivergence(ReadOnlySpan<double> x, double sigma)
    {
        Span<double> r = Components <= 64 ? stackalloc double[Components] : new double[Components];
        Responsibilities(x, sigma, r);
        int d = Dimension;
        Span<double> g = d <= 256 ? stackalloc double[d] : new double[d];
        g.Clear();
        double sumSq = 0;
        for (int k = 0; k < Components; k++)
        {
            double v = _s2[k] + sigma * sigma, gk2 = 0;
            var mu = _mu[k];
            for (int i = 0; i < d; i++)
            {
                double gi = -(x[i] - mu[i]) / v;
                gk2 += gi * gi;
                g[i] += r[k] * gi;
            }
            sumSq += r[k] * (gk2 - d / v);
        }
        double g2 = 0;
        for (int i = 0; i < d; i++) g2 += g[i] * g[i];
        double divD = d + sigma * sigma * (sumSq - g2);
        return (d - divD) / sigma;
    }

    /// <summary>The probability-flow ODE <c>dx/dsigma = (x - D(x; sigma))/sigma</c> on rows of <see cref="Dimension"/> elements (time = sigma).</summary>
    public OdeFunction<T> ProbabilityFlow<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = Dimension;
        var xs = new double[d];
        var dn = new double[d];
        var r = new double[Components];
        return (t, y, dydt) =>
        {
            if (y.RowLength != d) throw new ArgumentException($"The mixture has dimension {d}; the tensor has rows of {y.RowLength}.", nameof(y));
            for (int b = 0; b < y.BatchSize; b++)
            {
                var row = y.Row(b); var outRow = dydt.Row(b);
                double sigma = t[b];
                for (int i = 0; i < d; i++) xs[i] = double.CreateTruncating(row[i]);
                Denoise(xs, sigma, dn, r);
                for (int i = 0; i < d; i++) outRow[i] = T.CreateTruncating((xs[i] - dn[i]) / sigma);
            }
        };
    }

    /// <summary>The exact divergence of <see cref="ProbabilityFlow{T}"/> per sample, for likelihood computation.</summary>
    public DivergenceFunction<T> ProbabilityFlowDivergence<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int d = Dimension;
        var xs = new double[d];
        return (t, y, divergence) =>
        {
            for (int b = 0; b < y.BatchSize; b++)
            {
                var row = y.Row(b);
                for (int i = 0; i < d; i++) xs[i] = double.CreateTruncating(row[i]);
                divergence[b] = VelocityDivergence(xs, t[b]);
            }
        };
    }

    private void Responsibilities(ReadOnlySpan<double> x, double sigma, Span<double> r)
    {
        double max = double.NegativeInfinity;
        for (int k = 0; k < Components; k++) { r[k] = ComponentLog(x, sigma, k); max = Math.Max(max, r[k]); }
        double sum = 0;
        for (int k = 0; k < Components; k++) { r[k] = Math.Exp(r[k] - max); sum += r[k]; }
        for (int k = 0; k < Components; k++) r[k] /= sum;
    }

    private double ComponentLog(ReadOnlySpan<double> x, double sigma, int k)
    {
        double v = _s2[k] + sigma * sigma, q = 0;
        var mu = _mu[k];
        for (int i = 0; i < Dimension; i++) { double z = x[i] - mu[i]; q += z * z; }
        return _logW[k] - 0.5 * Dimension * Math.Log(2 * Math.PI * v) - 0.5 * q / v;
    }
}
