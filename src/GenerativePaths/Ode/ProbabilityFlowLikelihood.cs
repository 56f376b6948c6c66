using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>Writes the divergence <c>div_x v(t[b], x[b])</c> of a velocity field for every sample.</summary>
/// <remarks>Thread safety: to share a likelihood between threads the function must keep no shared mutable scratch.</remarks>
public delegate void DivergenceFunction<T>(ReadOnlySpan<double> t, BatchTensor<T> x, Span<double> divergence)
    where T : unmanaged, IFloatingPointIeee754<T>;

/// <summary>How the divergence of the velocity is obtained for the likelihood.</summary>
/// <remarks>Thread safety: an enumeration; a value.</remarks>
public enum DivergenceEstimator
{
    /// <summary>Exact up to differencing error: one forward-difference Jacobian–vector product per dimension, <c>sum_i (v(x + delta e_i)_i - v(x)_i)/delta</c>.</summary>
    FiniteDifference,

    /// <summary>Hutchinson's unbiased estimate <c>z^T J z</c> with one Rademacher vector <c>z</c> per sample, fixed for the whole solve (Grathwohl et al. 2019); one extra evaluation.</summary>
    Hutchinson,

    /// <summary>The model's own divergence function.</summary>
    Provided,
}

/// <summary>
/// Log-likelihood through the probability-flow ODE (Chen et al. 2018, "Neural ordinary differential equations";
/// Grathwohl et al. 2019, "FFJORD"): the state is augmented with the integral of the velocity's divergence.
/// </summary>
/// <remarks>
/// <para>For <c>dx/dt = v(t, x)</c> the instantaneous change of variables gives <c>d/dt log p_t(x(t)) = -div v(t, x(t))</c>. The augmented
/// system on rows <c>(x, z)</c> of length <c>d + 1</c> is <c>x' = v(t, x)</c>, <c>z' = div v(t, x)</c>, so that after a solve from
/// <c>t0</c> to <c>t1</c> with <c>z(t0) = 0</c>: <c>log p_t0(x(t0)) = log p_t1(x(t1)) + z(t1)</c>.</para>
/// <para>Finite differences use <c>delta = sqrt(eps) (1 + |x_i|)</c> per element (<c>eps</c> of <typeparamref name="T"/>); Hutchinson uses
/// <c>delta = sqrt(eps) (1 + ||x||_2 / sqrt(d))</c> along <c>z</c>. The Rademacher entries come from a fixed hash of (seed, sample, element).</para>
/// <para>Thread safety: one instance (and its <see cref="Function"/>) may serve solves on several threads at once, provided the
/// velocity and divergence functions it wraps may; its scratch is per thread.</para>
/// </remarks>
public sealed class ProbabilityFlowLikelihood<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly OdeFunction<T> _velocity;
    private readonly DivergenceFunction<T>? _divergence;
    private readonly ThreadLocal<Scratch> _scratch;
    private readonly T[] _z;
    private readonly int _batch, _d;

    /// <summary>Creates the augmented system for batches of <paramref name="batchSize"/> samples of dimension <paramref name="dimension"/>.</summary>
    /// <param name="velocity">The velocity field <c>v(t, x)</c> on rows of <paramref name="dimension"/> elements.</param>
    /// <param name="batchSize">The number of samples.</param>
    /// <param name="dimension">The dimension <c>d</c> of a sample.</param>
    /// <param name="estimator">How to obtain the divergence.</param>
    /// <param name="divergence">The model's divergence, required for <see cref="DivergenceEstimator.Provided"/>.</param>
    /// <param name="seed">The seed of the Hutchinson vector.</param>
    /// <exception cref="ArgumentException"><see cref="DivergenceEstimator.Provided"/> without a divergence function.</exception>
    public ProbabilityFlowLikelihood(OdeFunction<T> velocity, int batchSize, int dimension, DivergenceEstimator estimator,
        DivergenceFunction<T>? divergence = null, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(velocity);
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (estimator == DivergenceEstimator.Provided && divergence is null)
            throw new ArgumentException("DivergenceEstimator.Provided needs the model's divergence function.", nameof(divergence));
        _velocity = velocity;
        _divergence = divergence;
        Estimator = estimator;
        _batch = batchSize;
        _d = dimension;
        _scratch = new ThreadLocal<Scratch>(() => new Scratch(batchSize, dimension));
        _z = new T[batchSize * dimension];
        for (int b = 0; b < batchSize; b++)
            for (int i = 0; i < dimension; i++)
                _z[b * dimension + i] = (Mix(seed, (ulong)b, (ulong)i) & 1) == 0 ? T.One : -T.One;
        Function = Evaluate;
    }

    /// <summary>The divergence estimator.</summary>
    public DivergenceEstimator Estimator { get; }

    /// <summary>The augmented right-hand side on rows <c>(x, z)</c> of length <c>d + 1</c>.</summary>
    public OdeFunction<T> Function { get; }

    /// <summary>Builds the augmented initial state: rows <c>(x, 0)</c>.</summary>
    public BatchTensor<T> Augment(BatchTensor<T> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.BatchSize != _batch || x.RowLength != _d)
            throw new ArgumentException($"x has shape {x.ShapeString}; expected {_batch} samples of {_d} elements.", nameof(x));
        var a = BatchTensor<T>.Allocate(_batch, _d + 1);
        for (int b = 0; b < _batch; b++) x.Row(b).CopyTo(a.Row(b));
        return a;
    }

    /// <summary>
    /// Integrates the augmented system from <paramref name="t0"/> to <paramref name="t1"/> and returns, per sample, the state reached and
    /// <c>Delta = integral of div v dt</c>, so that <c>log p_t0(x) = log p_t1(x(t1)) + Delta</c>.
    /// </summary>
    public (OdeResult<T> Result, double[] DeltaLogDensity) Solve(BatchTensor<T> x, double t0, double t1, EmbeddedTableau method, OdeOptions? options = null)
    {
        using var y0 = Augment(x);
        var result = OdeSolver.Solve(new OdeProblem<T>(Function, y0, t0, t1), method, options);
        var delta = new double[_batch];
        for (int b = 0; b < _batch; b++) delta[b] = double.CreateTruncating(result.FinalState.Row(b)[_d]);
        return (result, delta);
    }

    private void Evaluate(ReadOnlySpan<double> t, BatchTensor<T> y, BatchTensor<T> dydt)
    {
        int d = _d;
        if (y.BatchSize != _batch || y.RowLength != d + 1)
            throw new ArgumentException($"The augmented state has shape {y.ShapeString}; expected {_batch} samples of {d + 1} elements.", nameof(y));
        // Per-thread buffers: the function may serve solves on several threads at once.
        var sc = _scratch.Value!;
        var (_x, _v, _xp, _vp, _div) = (sc.X, sc.V, sc.XP, sc.VP, sc.Div);
        for (int b = 0; b < _batch; b++) y.Row(b)[..d].CopyTo(_x.Row(b));
        _velocity(t, _x, _v);
        double sq = Math.Sqrt(typeof(T) == typeof(float) ? 1.1920929e-7 : 2.220446049250313e-16);
        Array.Clear(_div);
        switch (Estimator)
        {
            case DivergenceEstimator.Provided:
                _divergence!(t, _x, _div);
                break;
            case DivergenceEstimator.FiniteDifference:
                for (int i = 0; i < d; i++)
                {
                    _x.Span.CopyTo(_xp.Span);
                    for (int b = 0; b < _batch; b++)
                    {
                        var row = _xp.Row(b);
                        double xi = double.CreateTruncating(row[i]);
                        double delta = sq * (1 + Math.Abs(xi));
                        T xpT = T.CreateTruncating(xi + delta);
                        row[i] = xpT; // the step actually taken is recovered below from the rounded value
                    }
                    _velocity(t, _xp, _vp);
                    for (int b = 0; b < _batch; b++)
                    {
                        double delta = double.CreateTruncating(_xp.Row(b)[i]) - double.CreateTruncating(_x.Row(b)[i]);
                        _div[b] += (double.CreateTruncating(_vp.Row(b)[i]) - double.CreateTruncating(_v.Row(b)[i])) / delta;
                    }
                }
                break;
            default:
                for (int b = 0; b < _batch; b++)
                {
                    var xr = _x.Row(b); var pr = _xp.Row(b);
                    double n2 = 0;
                    for (int i = 0; i < d; i++) { double v = double.CreateTruncating(xr[i]); n2 += v * v; }
                    double delta = sq * (1 + Math.Sqrt(n2 / d));
                    var z = _z.AsSpan(b * d, d);
                    for (int i = 0; i < d; i++) pr[i] = T.CreateTruncating(double.CreateTruncating(xr[i]) + delta * double.CreateTruncating(z[i]));
                    _div[b] = delta;
                }
                _velocity(t, _xp, _vp);
                for (int b = 0; b < _batch; b++)
                {
                    double delta = _div[b], acc = 0;
                    var z = _z.AsSpan(b * d, d);
                    var vp = _vp.Row(b); var v = _v.Row(b);
                    for (int i = 0; i < d; i++) acc += double.CreateTruncating(z[i]) * (double.CreateTruncating(vp[i]) - double.CreateTruncating(v[i]));
                    _div[b] = acc / delta;
                }
                break;
        }
        for (int b = 0; b < _batch; b++)
        {
            var outRow = dydt.Row(b);
            _v.Row(b).CopyTo(outRow);
            outRow[d] = T.CreateTruncating(_div[b]);
        }
    }

    private sealed class Scratch(int batch, int d)
    {
        public readonly BatchTensor<T> X = BatchTensor<T>.Allocate(batch, d), V = BatchTensor<T>.Allocate(batch, d),
            XP = BatchTensor<T>.Allocate(batch, d), VP = BatchTensor<T>.Allocate(batch, d);
        public readonly double[] Div = new double[batch];
    }

    private static ulong Mix(ulong seed, ulong a, ulong b)
    {
        // SplitMix64 finaliser over a combined key.
        ulong z = seed * 0x9E3779B97F4A7C15UL ^ (a + 0x632BE59BD9B4E019UL) * 0xBF58476D1CE4E5B9UL ^ (b + 1) * 0x94D049BB133111EBUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
