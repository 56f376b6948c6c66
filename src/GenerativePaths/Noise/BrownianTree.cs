using System.Buffers;
using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Noise;

/// <summary>
/// A per-sample Brownian motion <c>W(t)</c> on <c>[TMin, TMax]</c> that can be queried at any time, in any order,
/// from any thread: a virtual Brownian tree (Li, Wong, Chen and Duvenaud, "Scalable gradients for stochastic
/// differential equations", AISTATS 2020) over a dyadic grid, drawn from the counter-based <see cref="PhiloxNoise"/>
/// streams, so nothing is cached and nothing depends on the batch layout.
/// </summary>
/// <remarks>
/// <para>This is the noise that torchsde's <c>BrownianTree</c> / <c>BrownianInterval</c> and k-diffusion's
/// <c>BrownianTreeNoiseSampler</c> give stochastic samplers (DPM-Solver++ SDE and others): increments over
/// nearby intervals are correlated as a Brownian path's are, so the result converges as the step count grows
/// and adaptive or repeated queries stay consistent. Unlike those, it keeps no cache and no per-instance state.</para>
/// <para><b>Definition.</b> With <c>N = 2^Depth</c> and <c>h = (TMax - TMin) / N</c>, a time <c>t</c> is resolved to
/// the grid index <c>k(t) = round((t - TMin) / h)</c>. <c>W(grid 0) = 0</c>;
/// <c>W(grid N) = sqrt(N h) Z_0</c>; the tree node with heap index <c>n</c> (the root <c>n = 1</c> spans
/// <c>[0, N]</c>, node <c>n</c> spanning <c>[a, b]</c> has children <c>2n</c> on <c>[a, m]</c> and <c>2n + 1</c> on
/// <c>[m, b]</c>, <c>m = (a + b) / 2</c>) sets the midpoint by the Brownian bridge
/// <c>W(m) = (W(a) + W(b)) / 2 + sqrt((b - a) h / 4) Z_n</c>. <c>Z_n</c> is element <c>i</c> of the
/// <see cref="PhiloxNoise"/> noise of (seed, sample, stream <c>NoiseStreams.BrownianFirst + n</c>). A query
/// descends from the root to its grid point: at most <c>Depth</c> rows of normals per time.
/// Arithmetic is in double.</para>
/// <para><b>Properties.</b> At grid points it is exactly a Brownian motion: increments over disjoint intervals are
/// independent normals with variance <c>|k(t1) - k(t0)| h</c>, which is <c>|t1 - t0|</c> to within <c>h</c>
/// (<c>TMax - TMin</c> times <c>2^-Depth</c>). <c>Increment(s, u) + Increment(u, t) = Increment(s, t)</c> up to
/// the rounding of the destination type, since all three are differences of the same values of <c>W</c>.</para>
/// <para>Thread safety: an instance is immutable; any number of threads may query it at once.</para>
/// </remarks>
public sealed class BrownianTree
{
    private readonly ulong _seed;
    private readonly ulong[]? _seeds;
    private readonly long _n;
    private readonly double _h;

    /// <summary>A Brownian tree with one seed for every sample.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="tMin">The start of the time range (for samplers: the smallest noise level queried).</param>
    /// <param name="tMax">The end of the time range (for samplers: the largest noise level).</param>
    /// <param name="depth">Tree depth, 1 to 52: the grid has <c>2^depth</c> cells. Default 24.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or not finite, or the depth is outside 1..52.</exception>
    public BrownianTree(ulong seed, double tMin, double tMax, int depth = 24)
    {
        if (!double.IsFinite(tMin) || !double.IsFinite(tMax) || !(tMax > tMin))
            throw new ArgumentOutOfRangeException(nameof(tMax), tMax, $"The time range must be finite with tMax > tMin; got [{tMin}, {tMax}].");
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(depth, 52);
        _seed = seed;
        TMin = tMin;
        TMax = tMax;
        Depth = depth;
        _n = 1L << depth;
        _h = (tMax - tMin) / _n;
    }

    /// <summary>A Brownian tree with a seed per sample: sample id <c>s</c> uses <c>seeds[s]</c> (as k-diffusion's per-item seeds).</summary>
    /// <exception cref="ArgumentException"><paramref name="seeds"/> is empty.</exception>
    public BrownianTree(ReadOnlySpan<ulong> seeds, double tMin, double tMax, int depth = 24) : this(0, tMin, tMax, depth)
    {
        if (seeds.IsEmpty) throw new ArgumentException("At least one per-sample seed is required.", nameof(seeds));
        _seeds = seeds.ToArray();
    }

    /// <summary>The start of the time range.</summary>
    public double TMin { get; }

    /// <summary>The end of the time range.</summary>
    public double TMax { get; }

    /// <summary>The tree depth: the grid has <c>2^Depth</c> cells.</summary>
    public int Depth { get; }

    /// <summary>The grid time that <paramref name="t"/> resolves to: <c>TMin + k(t) h</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> is outside <c>[TMin, TMax]</c> or NaN.</exception>
    public double GridTime(double t) => TMin + GridIndex(t, nameof(t)) * _h;

    /// <summary>Writes <c>W(t1) - W(t0)</c> for each row's sample.</summary>
    /// <param name="t0">The start of the interval (either order; a reversed interval gives the negated increment).</param>
    /// <param name="t1">The end of the interval.</param>
    /// <param name="destination">Row <c>b</c> receives the increment of sample <c>sampleIds[b]</c>, element by element.</param>
    /// <param name="sampleIds">One non-negative id (at most <see cref="uint.MaxValue"/>) per row.</param>
    /// <exception cref="ArgumentOutOfRangeException">A time is outside the range, or an id is out of range.</exception>
    public void Increment<T>(double t0, double t1, BatchTensor<T> destination, ReadOnlySpan<long> sampleIds)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Write(t0, t1, destination, sampleIds, normalized: false);

    /// <summary>Writes the standard-normal form <c>(W(t1) - W(t0)) / sqrt(|GridTime(t1) - GridTime(t0)|)</c>, what k-diffusion's noise sampler returns.</summary>
    /// <remarks>Where both times resolve to the same grid point the increment is zero and so is the result.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A time is outside the range, or an id is out of range.</exception>
    public void NormalizedIncrement<T>(double t0, double t1, BatchTensor<T> destination, ReadOnlySpan<long> sampleIds)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Write(t0, t1, destination, sampleIds, normalized: true);

    /// <summary>Writes <c>W(t)</c> (with <c>W(TMin) = 0</c>) for each row's sample.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The time is outside the range, or an id is out of range.</exception>
    public void Value<T>(double t, BatchTensor<T> destination, ReadOnlySpan<long> sampleIds)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Write(TMin, t, destination, sampleIds, normalized: false);

    private long GridIndex(double t, string name)
    {
        if (!(t >= TMin && t <= TMax))
            throw new ArgumentOutOfRangeException(name, t, $"Time {t} is outside the Brownian tree's range [{TMin}, {TMax}].");
        return Math.Clamp((long)Math.Round((t - TMin) / _h), 0, _n);
    }

    private void Write<T>(double t0, double t1, BatchTensor<T> destination, ReadOnlySpan<long> sampleIds, bool normalized)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(destination);
        long k0 = GridIndex(t0, nameof(t0)), k1 = GridIndex(t1, nameof(t1));
        if (sampleIds.Length != destination.BatchSize)
            throw new ArgumentException($"Length mismatch: 'sampleIds' has {sampleIds.Length} entries, the destination has {destination.BatchSize} rows.", nameof(sampleIds));
        for (int b = 0; b < sampleIds.Length; b++)
        {
            long id = sampleIds[b];
            if (id < 0 || id > uint.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(sampleIds), id, $"Sample id at row {b} is outside 0..{uint.MaxValue}.");
            if (_seeds is not null && id >= _seeds.Length)
                throw new ArgumentOutOfRangeException(nameof(sampleIds), id, $"Sample id at row {b} has no seed: {_seeds.Length} per-sample seeds were given.");
        }
        int row = destination.RowLength;
        double scale = normalized ? (k0 == k1 ? 0 : 1 / Math.Sqrt(Math.Abs(k1 - k0) * _h)) : 1;
        double[] rented = ArrayPool<double>.Shared.Rent(5 * row);
        float[] normals = ArrayPool<float>.Shared.Rent(row);
        try
        {
            var w0 = rented.AsSpan(0, row);
            var w1 = rented.AsSpan(row, row);
            var scratch = rented.AsSpan(2 * row, 3 * row);
            var z = normals.AsSpan(0, row);
            for (int b = 0; b < sampleIds.Length; b++)
            {
                uint id = (uint)sampleIds[b];
                ulong seed = _seeds is null ? _seed : _seeds[id];
                var d = destination.Row(b);
                if (k0 == k1) { d.Clear(); continue; }
                ValueAt(k0, w0, id, seed, z, scratch);
                ValueAt(k1, w1, id, seed, z, scratch);
                for (int i = 0; i < row; i++) d[i] = T.CreateTruncating((w1[i] - w0[i]) * scale);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(normals);
            ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>Writes <c>W</c> at grid index <paramref name="k"/> into <paramref name="w"/> by descending the tree.</summary>
    private void ValueAt(long k, Span<double> w, uint id, ulong seed, Span<float> z, Span<double> scratch)
    {
        int row = w.Length;
        if (k == 0) { w.Clear(); return; }
        Span<double> wa = scratch[..row], wb = scratch.Slice(row, row), wm = scratch.Slice(2 * row, row);
        // W at the right end: sqrt(N h) Z_0.
        Normals(0, id, seed, z);
        double top = Math.Sqrt(_n * _h);
        if (k == _n)
        {
            for (int i = 0; i < row; i++) w[i] = top * z[i];
            return;
        }
        wa.Clear();
        for (int i = 0; i < row; i++) wb[i] = top * z[i];
        long a = 0, b = _n, node = 1;
        while (true)
        {
            long m = a + (b - a) / 2;
            Normals(node, id, seed, z);
            double sd = Math.Sqrt((b - a) * _h / 4);
            for (int i = 0; i < row; i++) wm[i] = 0.5 * (wa[i] + wb[i]) + sd * z[i];
            if (k == m) { wm.CopyTo(w); return; }
            Span<double> spare;
            if (k < m) { b = m; spare = wb; wb = wm; wm = spare; node = 2 * node; }
            else { a = m; spare = wa; wa = wm; wm = spare; node = 2 * node + 1; }
        }
    }

    private static void Normals(long node, uint id, ulong seed, Span<float> z)
        => PhiloxNormals.Fill(z, 0, id, seed, (ulong)(NoiseStreams.BrownianFirst + node));
}

/// <summary>
/// A noise source that can be asked for the noise of an interval <c>(from, to)</c> of noise levels (in the variance-exploding
/// coordinate <c>sigma / alpha</c>), as k-diffusion's <c>noise_sampler(sigma, sigma_next)</c> is. Stochastic samplers ask through
/// <see cref="Samplers.SamplerState{T}.DrawNoise(long, double, double, BatchTensor{T})"/>; a source without this interface is asked
/// by stream alone.
/// </summary>
/// <remarks>Thread safety: per implementation (<see cref="BrownianNoise"/> is thread safe, <see cref="ReplayNoise"/> is not).</remarks>
public interface IIntervalNoiseSource
{
    /// <summary>Fills <paramref name="destination"/> with standard normals for the interval <c>(from, to)</c>; <paramref name="stream"/>
    /// is the stream a plain request would name (the step index), for sources that need it.</summary>
    /// <param name="destination">The tensor to fill; row <c>b</c> receives the noise of sample <c>sampleIds[b]</c>.</param>
    /// <param name="from">The interval's start (<c>sigma / alpha</c> of the step's start).</param>
    /// <param name="to">The interval's end.</param>
    /// <param name="stream">The plain stream of the request.</param>
    /// <param name="sampleIds">One non-negative identity per row.</param>
    void FillInterval<T>(BatchTensor<T> destination, double from, double to, long stream, ReadOnlySpan<long> sampleIds)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>
/// The noise of a per-sample Brownian path: the request for the interval <c>(from, to)</c> returns
/// <c>(W(to) - W(from)) / sqrt(|to - from|)</c> of a <see cref="BrownianTree"/>, a standard normal per element, correlated across
/// requests exactly as a Brownian path's increments are (k-diffusion's <c>BrownianTreeNoiseSampler</c>). The default noise of the SDE
/// samplers (DPM++ SDE, 2M SDE, 3M SDE): refining the steps on the same seed refines the same path, so the run converges strongly.
/// </summary>
/// <remarks>
/// <para>Queries outside <c>[TMin, TMax]</c> are clamped into it. A request whose interval resolves to one grid point of the tree
/// (a zero-length interval, or both ends clamped to the same end) and a request without an interval
/// (<see cref="Fill{T}(BatchTensor{T}, long, ReadOnlySpan{long})"/>) are answered with independent normals: the
/// <see cref="PhiloxNoise"/> values of the same seed for the request's stream.</para>
/// <para>Thread safety: an instance is immutable; any number of threads may use it at once.</para>
/// </remarks>
public sealed class BrownianNoise : NoiseSource, IIntervalNoiseSource
{
    private readonly PhiloxNoise _fallback;

    /// <summary>Brownian noise with one seed for every sample on the noise range <c>[sigmaMin, sigmaMax]</c>.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="sigmaMin">The smallest noise level queried (for a schedule: its smallest nonzero <c>sigma / alpha</c>).</param>
    /// <param name="sigmaMax">The largest noise level queried.</param>
    /// <param name="depth">The tree depth (grid of <c>2^depth</c> cells), 1 to 52.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or not finite, or the depth is outside 1..52.</exception>
    public BrownianNoise(ulong seed, double sigmaMin, double sigmaMax, int depth = 24)
    {
        Tree = new BrownianTree(seed, sigmaMin, sigmaMax, depth);
        _fallback = new PhiloxNoise(seed);
    }

    /// <summary>Brownian noise from an existing tree (and its seed for the fallback normals).</summary>
    /// <param name="tree">The Brownian tree.</param>
    /// <param name="seed">The seed of the independent normals of degenerate or interval-less requests.</param>
    public BrownianNoise(BrownianTree tree, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(tree);
        Tree = tree;
        _fallback = new PhiloxNoise(seed);
    }

    /// <summary>Brownian noise whose range is the noise range of <paramref name="schedule"/>: its smallest nonzero and its largest
    /// finite <c>sigma / alpha</c> (as k-diffusion's samplers build their noise sampler from <c>sigmas</c>).</summary>
    /// <exception cref="ArgumentException">The schedule has fewer than two distinct finite nonzero noise levels.</exception>
    public static BrownianNoise ForSchedule(ulong seed, Schedules.StepSchedule schedule, int depth = 24)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        double min = double.PositiveInfinity, max = 0;
        foreach (var p in schedule.Points)
        {
            if (!(p.Sigma > 0) || !(p.Alpha > 0)) continue;
            double s = p.Sigma / p.Alpha;
            if (!double.IsFinite(s)) continue;
            min = Math.Min(min, s);
            max = Math.Max(max, s);
        }
        if (!(max > min)) throw new ArgumentException("The schedule has no range of noise levels for a Brownian tree (fewer than two distinct finite nonzero sigma / alpha).", nameof(schedule));
        return new BrownianNoise(seed, min, max, depth);
    }

    /// <summary>The tree that holds the path.</summary>
    public BrownianTree Tree { get; }

    /// <inheritdoc/>
    public override void Fill<T>(BatchTensor<T> destination, long stream, ReadOnlySpan<long> sampleIds)
        => _fallback.Fill(destination, stream, sampleIds);

    /// <inheritdoc/>
    public void FillInterval<T>(BatchTensor<T> destination, double from, double to, long stream, ReadOnlySpan<long> sampleIds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(destination);
        double a = Clamp(from), b = Clamp(to);
        if (Tree.GridTime(a) == Tree.GridTime(b)) { _fallback.Fill(destination, stream, sampleIds); return; }
        Tree.NormalizedIncrement(a, b, destination, sampleIds);
    }

    private double Clamp(double t) => double.IsNaN(t) ? throw new ArgumentOutOfRangeException(nameof(t), t, "A noise interval end is NaN.") : Math.Clamp(t, Tree.TMin, Tree.TMax);
}
