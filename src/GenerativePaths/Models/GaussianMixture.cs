using System.Numerics;
using GenerativePaths.Noise;
using GenerativePaths.Tensors;

namespace GenerativePaths.Models;

/// <summary>
/// A Gaussian mixture with diagonal covariances, <c>p(x0) = sum_k w_k N(x0; mu_k, diag(s_k^2))</c>, and the
/// exact quantities of its noised marginals under any Gaussian path <c>x = alpha x0 + sigma eps</c>:
/// posterior mean (the ideal denoiser), score, log-density and the divergence of the posterior mean.
/// The ground truth for tests, benchmarks and demos.
/// </summary>
/// <remarks>
/// <para>Under the path, component <c>k</c> has marginal <c>N(alpha mu_k, diag(v_k))</c> with
/// <c>v_kd = alpha^2 s_kd^2 + sigma^2</c>. With <c>g_k = -(x - alpha mu_k) / v_k</c> (element-wise) and
/// responsibilities <c>r_k = softmax_k( log w_k - 1/2 sum_d [ (x_d - alpha mu_kd)^2 / v_kd + log(2 pi v_kd) ] )</c>:</para>
/// <para><c>E[x0 | x] = sum_k r_k m_k</c> with <c>m_k = mu_k + (alpha s_k^2 / v_k) (x - alpha mu_k)</c>;</para>
/// <para><c>grad log p(x) = sum_k r_k g_k</c>; <c>log p(x) = logsumexp_k( ... )</c>;</para>
/// <para><c>div_x E[x0 | x] = sum_k r_k [ sum_d alpha s_kd^2 / v_kd + m_k . (g_k - gbar) ]</c> with <c>gbar = sum_k r_k g_k</c>.</para>
/// <para>Everything is computed in double. Where <c>v_kd = 0</c> (a point-mass component at <c>sigma = 0</c>) the
/// quantities are undefined and an <see cref="ArgumentOutOfRangeException"/> is thrown.</para>
/// <para>Thread safety: immutable after construction; every method may be called from several threads at once (scratch is per call).</para>
/// </remarks>
public sealed class GaussianMixture
{
    private readonly double[] _logWeights;
    private readonly double[][] _means;
    private readonly double[][] _variances;

    /// <summary>A mixture with isotropic components: component <c>k</c> is <c>N(means[k], stds[k]^2 I)</c>.</summary>
    /// <exception cref="ArgumentException">Counts or dimensions disagree, a weight is not positive, a std is negative, or a value is not finite.</exception>
    public static GaussianMixture Isotropic(IReadOnlyList<double> weights, IReadOnlyList<IReadOnlyList<double>> means, IReadOnlyList<double> stds)
    {
        ArgumentNullException.ThrowIfNull(stds);
        ArgumentNullException.ThrowIfNull(means);
        if (stds.Count != means.Count)
            throw new ArgumentException($"{stds.Count} standard deviations for {means.Count} components.", nameof(stds));
        var diag = new double[stds.Count][];
        for (int k = 0; k < stds.Count; k++)
        {
            diag[k] = new double[means[k].Count];
            Array.Fill(diag[k], stds[k]);
        }
        return new GaussianMixture(weights, means, diag);
    }

    /// <summary>A mixture with diagonal components: component <c>k</c> is <c>N(means[k], diag(stds[k]^2))</c>.</summary>
    /// <param name="weights">Positive weights; normalised to sum to one.</param>
    /// <param name="means">One mean vector per component, all of the same dimension.</param>
    /// <param name="stds">Per-component, per-dimension standard deviations (non-negative).</param>
    /// <exception cref="ArgumentException">Counts or dimensions disagree, a weight is not positive, a std is negative, or a value is not finite.</exception>
    public GaussianMixture(IReadOnlyList<double> weights, IReadOnlyList<IReadOnlyList<double>> means, IReadOnlyList<IReadOnlyList<double>> stds)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(stds);
        int k = weights.Count;
        if (k == 0) throw new ArgumentException("A mixture needs at least one component.", nameof(weights));
        if (means.Count != k) throw new ArgumentException($"{means.Count} means for {k} weights.", nameof(means));
        if (stds.Count != k) throw new ArgumentException($"{stds.Count} std vectors for {k} weights.", nameof(stds));
        Dimension = means[0].Count;
        double total = 0;
        for (int j = 0; j < k; j++)
        {
            if (!(weights[j] > 0) || !double.IsFinite(weights[j])) throw new ArgumentException($"Weight {j} is {weights[j]}; weights must be positive and finite.", nameof(weights));
            total += weights[j];
        }
        _logWeights = new double[k];
        _means = new double[k][];
        _variances = new double[k][];
        for (int j = 0; j < k; j++)
        {
            if (means[j].Count != Dimension) throw new ArgumentException($"Mean {j} has dimension {means[j].Count}; mean 0 has {Dimension}.", nameof(means));
            if (stds[j].Count != Dimension) throw new ArgumentException($"Std vector {j} has dimension {stds[j].Count}; the means have {Dimension}.", nameof(stds));
            _logWeights[j] = Math.Log(weights[j] / total);
            _means[j] = new double[Dimension];
            _variances[j] = new double[Dimension];
            for (int d = 0; d < Dimension; d++)
            {
                double m = means[j][d], s = stds[j][d];
                if (!double.IsFinite(m)) throw new ArgumentException($"Mean {j}, dimension {d} is {m}.", nameof(means));
                if (!(s >= 0) || !double.IsFinite(s)) throw new ArgumentException($"Std {j}, dimension {d} is {s}; stds must be finite and non-negative.", nameof(stds));
                _means[j][d] = m;
                _variances[j][d] = s * s;
            }
        }
    }

    /// <summary>Dimension of one sample.</summary>
    public int Dimension { get; }

    /// <summary>Number of components.</summary>
    public int ComponentCount => _logWeights.Length;

    /// <summary>The normalised weight of component <paramref name="k"/>.</summary>
    public double Weight(int k) => Math.Exp(_logWeights[k]);

    /// <summary>The mean of component <paramref name="k"/> (a copy).</summary>
    public double[] Mean(int k) => (double[])_means[k].Clone();

    /// <summary>The per-dimension standard deviations of component <paramref name="k"/> (a copy).</summary>
    public double[] Std(int k) => _variances[k].Select(Math.Sqrt).ToArray();

    /// <summary>The mixture of component <paramref name="k"/> alone (weight 1): the class-conditional distribution when each class is one component.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not a component index.</exception>
    public GaussianMixture Component(int k)
    {
        if ((uint)k >= (uint)ComponentCount) throw new ArgumentOutOfRangeException(nameof(k), k, $"Component index must lie in [0, {ComponentCount}).");
        return new GaussianMixture([1.0], [Mean(k)], [Std(k)]);
    }

    /// <summary>The posterior mean <c>E[x0 | x]</c> (the ideal denoiser) of one sample.</summary>
    /// <remarks>Formula: <c>sum_k r_k (mu_k + (alpha s_k^2 / v_k)(x - alpha mu_k))</c>; see the class remarks.</remarks>
    public void PosteriorMean(ReadOnlySpan<double> x, double alpha, double sigma, Span<double> x0hat)
        => Evaluate(x, alpha, sigma, x0hat, default, out _, out _);

    /// <summary>The score <c>grad_x log p_t(x)</c> of one sample.</summary>
    /// <remarks>Formula: <c>sum_k r_k g_k</c>, <c>g_k = -(x - alpha mu_k) / v_k</c>.</remarks>
    public void Score(ReadOnlySpan<double> x, double alpha, double sigma, Span<double> score)
        => Evaluate(x, alpha, sigma, default, score, out _, out _);

    /// <summary>The log-density <c>log p_t(x)</c> of the noised marginal at one sample.</summary>
    /// <remarks>Formula: <c>logsumexp_k( log w_k - 1/2 sum_d [ (x_d - alpha mu_kd)^2 / v_kd + log(2 pi v_kd) ] )</c>.</remarks>
    public double LogDensity(ReadOnlySpan<double> x, double alpha, double sigma)
    {
        Evaluate(x, alpha, sigma, default, default, out double logp, out _);
        return logp;
    }

    /// <summary>The divergence <c>sum_d d E[x0|x]_d / d x_d</c> of the posterior mean at one sample.</summary>
    /// <remarks>Formula: <c>sum_k r_k [ sum_d alpha s_kd^2 / v_kd + m_k . (g_k - gbar) ]</c>; see the class remarks.</remarks>
    public double PosteriorMeanDivergence(ReadOnlySpan<double> x, double alpha, double sigma)
    {
        Evaluate(x, alpha, sigma, default, default, out _, out double div);
        return div;
    }

    /// <summary>
    /// Batched posterior mean: row <c>b</c> of <paramref name="x0hat"/> is <c>E[x0 | x_b]</c> at
    /// <c>(alpha[b], sigma[b])</c>. <paramref name="x0hat"/> may be <paramref name="x"/> itself.
    /// </summary>
    public void PosteriorMean<T>(BatchTensor<T> x, ReadOnlySpan<double> alpha, ReadOnlySpan<double> sigma, BatchTensor<T> x0hat)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckBatch(x, alpha, sigma, x0hat);
        double[] xs = new double[Dimension], outs = new double[Dimension];
        for (int b = 0; b < x.BatchSize; b++)
        {
            var row = x.Row(b);
            for (int d = 0; d < Dimension; d++) xs[d] = double.CreateTruncating(row[d]);
            PosteriorMean(xs, alpha[b], sigma[b], outs);
            var o = x0hat.Row(b);
            for (int d = 0; d < Dimension; d++) o[d] = T.CreateTruncating(outs[d]);
        }
    }

    /// <summary>
    /// Draws exact samples of the mixture: for sample id <c>s</c>, the component is chosen from the first
    /// Philox word of stream <paramref name="stream"/> and the value is <c>mu_k + s_k * z</c> with <c>z</c> the
    /// <see cref="PhiloxNoise"/> normals of stream <c>stream + 1</c>; reproducible per (seed, sample id, stream).
    /// </summary>
    public void Sample<T>(BatchTensor<T> destination, ulong seed, long stream = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.RowLength != Dimension)
            throw new ArgumentException($"Destination rows have {destination.RowLength} elements; the mixture has dimension {Dimension}.", nameof(destination));
        var z = new double[Dimension];
        for (int b = 0; b < destination.BatchSize; b++)
        {
            var (w, _, _, _) = Philox.Generate(0xFFFFFFFFu, (uint)b, (uint)stream, (uint)((ulong)stream >> 32), (uint)seed, (uint)(seed >> 32));
            double u = (w + 0.5) / 4294967296.0, acc = 0;
            int k = 0;
            for (; k < ComponentCount - 1; k++)
            {
                acc += Math.Exp(_logWeights[k]);
                if (u < acc) break;
            }
            PhiloxNoise.FillRow<double>(z, seed, (uint)b, (ulong)(stream + 1));
            var row = destination.Row(b);
            for (int d = 0; d < Dimension; d++) row[d] = T.CreateTruncating(_means[k][d] + Math.Sqrt(_variances[k][d]) * z[d]);
        }
    }

    private void CheckBatch<T>(BatchTensor<T> x, ReadOnlySpan<double> alpha, ReadOnlySpan<double> sigma, BatchTensor<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(output);
        if (x.RowLength != Dimension)
            throw new ArgumentException($"Input rows have {x.RowLength} elements; the mixture has dimension {Dimension}.", nameof(x));
        if (!x.HasSameShape(output))
            throw new ArgumentException($"Shape mismatch: output has shape {output.ShapeString}, input {x.ShapeString}.", nameof(output));
        if (alpha.Length != x.BatchSize) throw new ArgumentException($"{alpha.Length} alphas for a batch of {x.BatchSize}.", nameof(alpha));
        if (sigma.Length != x.BatchSize) throw new ArgumentException($"{sigma.Length} sigmas for a batch of {x.BatchSize}.", nameof(sigma));
    }

    private void Evaluate(ReadOnlySpan<double> x, double alpha, double sigma, Span<double> x0hat, Span<double> score, out double logDensity, out double divergence)
    {
        if (x.Length != Dimension) throw new ArgumentException($"Sample has {x.Length} elements; the mixture has dimension {Dimension}.", nameof(x));
        if (!x0hat.IsEmpty && x0hat.Length < Dimension) throw new ArgumentException($"Destination has {x0hat.Length} elements; needs {Dimension}.", nameof(x0hat));
        if (!score.IsEmpty && score.Length < Dimension) throw new ArgumentException($"Destination has {score.Length} elements; needs {Dimension}.", nameof(score));
        if (!(alpha >= 0) || !double.IsFinite(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be finite and non-negative.");
        if (!(sigma >= 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "sigma must be finite and non-negative.");

        int K = ComponentCount, D = Dimension;
        Span<double> logr = K <= 64 ? stackalloc double[K] : new double[K];
        double a2 = alpha * alpha, s2 = sigma * sigma;
        for (int k = 0; k < K; k++)
        {
            double q = 0, logdet = 0;
            var mu = _means[k]; var var = _variances[k];
            for (int d = 0; d < D; d++)
            {
                double v = a2 * var[d] + s2;
                if (v <= 0) throw new ArgumentOutOfRangeException(nameof(sigma), $"Component {k} has zero variance in dimension {d} at alpha = {alpha}, sigma = {sigma}: the noised density is degenerate.");
                double r = x[d] - alpha * mu[d];
                q += r * r / v;
                logdet += Math.Log(2 * Math.PI * v);
            }
            logr[k] = _logWeights[k] - 0.5 * (q + logdet);
        }
        double max = double.NegativeInfinity;
        for (int k = 0; k < K; k++) max = Math.Max(max, logr[k]);
        double sum = 0;
        for (int k = 0; k < K; k++) sum += Math.Exp(logr[k] - max);
        logDensity = max + Math.Log(sum);
        for (int k = 0; k < K; k++) logr[k] = Math.Exp(logr[k] - logDensity); // now responsibilities

        if (!x0hat.IsEmpty) x0hat.Slice(0, D).Clear();
        if (!score.IsEmpty) score.Slice(0, D).Clear();
        for (int k = 0; k < K; k++)
        {
            double rk = logr[k];
            var mu = _means[k]; var var = _variances[k];
            for (int d = 0; d < D; d++)
            {
                double v = a2 * var[d] + s2;
                double res = x[d] - alpha * mu[d];
                if (!x0hat.IsEmpty) x0hat[d] += rk * (mu[d] + alpha * var[d] / v * res);
                if (!score.IsEmpty) score[d] -= rk * res / v;
            }
        }

        // Divergence of the posterior mean (two passes: gbar first).
        divergence = 0;
        if (!x0hat.IsEmpty || !score.IsEmpty) return;
        Span<double> gbar = D <= 256 ? stackalloc double[D] : new double[D];
        gbar.Clear();
        for (int k = 0; k < K; k++)
        {
            var mu = _means[k]; var var = _variances[k];
            for (int d = 0; d < D; d++) gbar[d] -= logr[k] * (x[d] - alpha * mu[d]) / (a2 * var[d] + s2);
        }
        for (int k = 0; k < K; k++)
        {
            var mu = _means[k]; var var = _variances[k];
            double term = 0;
            for (int d = 0; d < D; d++)
            {
                double v = a2 * var[d] + s2, res = x[d] - alpha * mu[d];
                double m = mu[d] + alpha * var[d] / v * res, g = -res / v;
                term += alpha * var[d] / v + m * (g - gbar[d]);
            }
            divergence += logr[k] * term;
        }
    }
}
