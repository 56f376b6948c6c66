using System.Collections.Immutable;

namespace GenerativePaths.Paths;

/// <summary>
/// A discrete variance-preserving path: the <c>alphas_cumprod</c> table of a model trained on <c>T</c> integer
/// timesteps (DDPM, Ho et al. 2020; Stable Diffusion and the diffusers schedulers), extended to fractional timesteps.
/// </summary>
/// <remarks>
/// <para>Time unit: the training timestep, <c>t</c> in <c>[0, T - 1]</c> (possibly fractional); the model time is <c>t</c> itself.</para>
/// <para>At an integer <c>t</c>: <c>alpha = sqrt(abar[t])</c>, <c>sigma = sqrt(1 - abar[t])</c>, so
/// <c>lambda_t = 0.5 log(abar[t] / (1 - abar[t]))</c>.</para>
/// <para>Between integers the log-SNR <c>lambda = log(alpha / sigma) = -log(sigma / alpha)</c> is interpolated linearly
/// (the rule diffusers applies when it maps a sigma back to a fractional timestep), and
/// <c>alpha = sqrt(sigmoid(2 lambda))</c>, <c>sigma = sqrt(sigmoid(-2 lambda))</c>, i.e. <c>alpha = 1/sqrt(1 + s^2)</c>,
/// <c>sigma = s alpha</c> with <c>s = exp(-lambda)</c>.</para>
/// <para>Derivatives (piecewise, using the slope of the segment <c>[floor t, floor t + 1]</c>; the last integer uses the
/// segment to its left): <c>alpha' = alpha sigma^2 lambda'</c>, <c>sigma' = -sigma alpha^2 lambda'</c>.</para>
/// <para>A zero-terminal-SNR table (Lin et al. 2024, arXiv 2305.08891) has <c>abar[T-1] = 0</c>: there <c>alpha = 0</c>,
/// <c>sigma = 1</c>, <c>lambda = -infinity</c>; on the open last segment the interpolated log-SNR is <c>-infinity</c> as well
/// (alpha stays 0, derivatives are 0), and <see cref="TimeFromLogSnr"/> of <c>-infinity</c> is <c>T - 1</c>.</para>
/// <para>Tables are used exactly as given, including ones that are not monotone: diffusers replaces the zero terminal value of a
/// rescaled table by <c>2^-24</c> (to keep its first sigma finite), which for some beta schedules is larger than the entry before it,
/// and models are run on that table. <see cref="LogSnr"/>, <see cref="Alpha"/> and <see cref="Sigma"/> interpolate whatever the
/// table says; <see cref="TimeFromLogSnr"/> returns the first passage: the time at which the interpolated log-SNR, walking from
/// <c>t = 0</c>, first falls to <c>lambda</c> (for a non-increasing table, the plain inverse).</para>
/// <para>Thread safety: immutable; one instance may serve several threads.</para>
/// </remarks>
public sealed class DiscreteVpPath : VariancePreservingPath
{
    private readonly double[] _lambda;
    private readonly double[] _runningMin; // min_{j <= i} lambda_j: non-increasing, for the first-passage inverse

    /// <summary>A path from a table of <c>alphas_cumprod</c> (used exactly as given).</summary>
    /// <param name="alphasCumprod">The cumulative products <c>abar[0..T-1]</c>: strictly inside <c>(0, 1)</c> except that the last may be 0.
    /// Normally non-increasing; an increase (as in diffusers' <c>2^-24</c> terminal value) is accepted and used as given.</param>
    /// <exception cref="ArgumentException">Fewer than two values, a value outside <c>[0, 1)</c> (0 only at the end) or a non-finite value; the message names the first bad index.</exception>
    public DiscreteVpPath(IReadOnlyList<double> alphasCumprod)
    {
        ArgumentNullException.ThrowIfNull(alphasCumprod);
        int n = alphasCumprod.Count;
        if (n < 2) throw new ArgumentException($"A discrete path needs at least two timesteps; got {n}.", nameof(alphasCumprod));
        var ac = new double[n];
        _lambda = new double[n];
        _runningMin = new double[n];
        for (int i = 0; i < n; i++)
        {
            double a = alphasCumprod[i];
            bool last = i == n - 1;
            if (!double.IsFinite(a) || a >= 1 || a < 0 || (a == 0 && !last))
                throw new ArgumentException($"alphas_cumprod[{i}] = {a} is invalid: values must lie in (0, 1) (0 is allowed only at the last timestep).", nameof(alphasCumprod));
            ac[i] = a;
            _lambda[i] = PathMath.LogSnrFromAlphaBar(a);
            _runningMin[i] = i == 0 ? _lambda[0] : Math.Min(_runningMin[i - 1], _lambda[i]);
        }
        AlphasCumprod = ac.ToImmutableArray();
    }

    /// <summary>A path from betas: <c>abar[t] = prod_{s &lt;= t} (1 - beta_s)</c>, accumulated in float64.</summary>
    /// <exception cref="ArgumentException">A beta outside <c>(0, 1]</c> (1 only at the end) or non-finite; the message names the index.</exception>
    public static DiscreteVpPath FromBetas(IReadOnlyList<double> betas)
    {
        ArgumentNullException.ThrowIfNull(betas);
        return new DiscreteVpPath(BetaSchedules.AlphasCumprod(betas));
    }

    /// <summary>The table <c>abar[0..T-1]</c>.</summary>
    public ImmutableArray<double> AlphasCumprod { get; }

    /// <summary>The number of training timesteps <c>T</c>.</summary>
    public int TrainingSteps => AlphasCumprod.Length;

    /// <summary>Whether the last timestep has zero signal (<c>abar[T-1] = 0</c>).</summary>
    public bool HasZeroTerminalSnr => AlphasCumprod[^1] == 0;

    /// <inheritdoc/>
    public override double TimeMin => 0;

    /// <inheritdoc/>
    public override double TimeMax => TrainingSteps - 1;

    /// <summary>The diffusers/k-diffusion sigma <c>sqrt((1 - abar[t]) / abar[t])</c> at integer timestep <paramref name="timestep"/> (infinite where <c>abar = 0</c>).</summary>
    public double DiscreteSigma(int timestep)
    {
        if ((uint)timestep >= (uint)TrainingSteps)
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"Timestep must be in [0, {TrainingSteps - 1}].");
        double a = AlphasCumprod[timestep];
        return a == 0 ? double.PositiveInfinity : Math.Sqrt((1 - a) / a);
    }

    private (int Index, double Fraction) Locate(double t)
    {
        PathMath.CheckTime(t, 0, TimeMax, nameof(DiscreteVpPath));
        t = Math.Clamp(t, 0, TimeMax);
        int i = (int)Math.Floor(t);
        if (i >= TrainingSteps - 1) return (TrainingSteps - 2, 1.0);
        return (i, t - i);
    }

    /// <inheritdoc/>
    public override double LogSnr(double t)
    {
        var (i, f) = Locate(t);
        if (f == 0) return _lambda[i];
        if (f == 1) return _lambda[i + 1];
        double lo = _lambda[i], hi = _lambda[i + 1];
        if (double.IsNegativeInfinity(hi)) return double.NegativeInfinity;
        return lo + f * (hi - lo);
    }

    private double Slope(double t)
    {
        var (i, f) = Locate(t);
        double lo = _lambda[i], hi = _lambda[i + 1];
        if (double.IsNegativeInfinity(hi)) return f == 0 ? double.NegativeInfinity : 0.0;
        return hi - lo;
    }

    /// <inheritdoc/>
    public override double Alpha(double t) => PathMath.VpAlpha(LogSnr(t));

    /// <inheritdoc/>
    public override double Sigma(double t) => PathMath.VpSigma(LogSnr(t));

    /// <inheritdoc/>
    public override double AlphaDerivative(double t)
    {
        double lambda = LogSnr(t), slope = Slope(t);
        if (double.IsNegativeInfinity(lambda) || double.IsInfinity(slope)) return 0.0;
        double a = PathMath.VpAlpha(lambda), s = PathMath.VpSigma(lambda);
        return a * s * s * slope;
    }

    /// <inheritdoc/>
    public override double SigmaDerivative(double t)
    {
        double lambda = LogSnr(t), slope = Slope(t);
        if (double.IsNegativeInfinity(lambda) || double.IsInfinity(slope)) return 0.0;
        double a = PathMath.VpAlpha(lambda), s = PathMath.VpSigma(lambda);
        return -s * a * a * slope;
    }

    /// <summary>The timestep whose interpolated log-SNR equals <paramref name="lambda"/>, clamped to <c>[0, T - 1]</c>.</summary>
    /// <remarks>Inverse of the piecewise-linear <see cref="LogSnr"/>; a log-SNR above <c>lambda_0</c> gives 0 and one below
    /// every table value gives <c>T - 1</c> (as diffusers' sigma-to-timestep mapping clips). For a table that is not monotone
    /// the result is the first passage: the segment in which the log-SNR first reaches <paramref name="lambda"/>.</remarks>
    public override double TimeFromLogSnr(double lambda)
    {
        if (double.IsNaN(lambda)) throw new ArgumentException("Log-SNR is NaN.", nameof(lambda));
        int n = _lambda.Length;
        if (lambda >= _lambda[0]) return 0;
        if (lambda <= _runningMin[n - 1]) return n - 1;
        // The running minimum is non-increasing: find the last i with min_{j<=i} lambda_j >= lambda. Then every lambda_j (j <= lo)
        // is >= lambda and lambda_hi < lambda, so the first passage lies in the segment [lo, hi] of the table itself.
        int lo = 0, hi = n - 1; // invariant: _runningMin[lo] >= lambda > _runningMin[hi]
        while (hi - lo > 1)
        {
            int mid = (lo + hi) >>> 1;
            if (_runningMin[mid] >= lambda) lo = mid; else hi = mid;
        }
        hi = lo + 1;
        double l0 = _lambda[lo], l1 = _lambda[hi];
        if (double.IsNegativeInfinity(l1)) return lo; // only reachable for lambda == l0
        double w = (l0 - lambda) / (l0 - l1);
        return lo + Math.Clamp(w, 0, 1);
    }

    /// <summary>The timestep at which the variance-exploding sigma <c>sigma/alpha</c> equals <paramref name="sigmaOverAlpha"/>:
    /// <c>TimeFromLogSnr(-log s)</c> (diffusers' <c>_sigma_to_t</c>).</summary>
    public double TimeFromSigmaOverAlpha(double sigmaOverAlpha)
    {
        if (!(sigmaOverAlpha >= 0)) throw new ArgumentOutOfRangeException(nameof(sigmaOverAlpha), sigmaOverAlpha, "The sigma must be non-negative.");
        return TimeFromLogSnr(-Math.Log(sigmaOverAlpha));
    }
}
