using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Noise;

/// <summary>
/// Reproducible standard-normal noise from <see cref="Philox"/>: the value for
/// (seed, sample id, stream, element) is a pure function of those four.
/// </summary>
/// <remarks>
/// <para>Element <c>e</c> of sample <c>s</c> in stream <c>k</c> comes from block <c>j = e / 4</c>:
/// <c>(x0, x1, x2, x3) = Philox(counter = (j, s, lo(k), hi(k)), key = (lo(seed_s), hi(seed_s)))</c>.
/// Each pair of words gives two normals by the Box–Muller transform,
/// <c>u = (x + 1/2) 2^-32</c>, <c>r = sqrt(-2 ln u_a)</c>, <c>z = (r cos 2 pi u_b, r sin 2 pi u_b)</c>,
/// computed in double; float destinations receive the double value rounded.</para>
/// <para><c>seed_s</c> is the single seed, or with per-sample seeds <c>seeds[s]</c>.</para>
/// </remarks>
public sealed class PhiloxNoise : NoiseSource
{
    private readonly ulong _seed;
    private readonly ulong[]? _seeds;

    /// <summary>One seed for every sample.</summary>
    public PhiloxNoise(ulong seed) => _seed = seed;

    /// <summary>A seed per sample: sample id <c>s</c> uses <c>seeds[s]</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="seeds"/> is empty.</exception>
    public PhiloxNoise(ReadOnlySpan<ulong> seeds)
    {
        if (seeds.IsEmpty) throw new ArgumentException("At least one per-sample seed is required.", nameof(seeds));
        _seeds = seeds.ToArray();
    }

    /// <inheritdoc/>
    public override void Fill<T>(BatchTensor<T> destination, long stream, ReadOnlySpan<long> sampleIds)
    {
        CheckArguments(destination, sampleIds);
        for (int b = 0; b < destination.BatchSize; b++)
        {
            long id = sampleIds[b];
            if (id > uint.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(sampleIds), id, $"Sample id at row {b} exceeds {uint.MaxValue}.");
            ulong seed = _seed;
            if (_seeds is not null)
            {
                if (id >= _seeds.Length)
                    throw new ArgumentOutOfRangeException(nameof(sampleIds), id, $"Sample id at row {b} has no seed: {_seeds.Length} per-sample seeds were given.");
                seed = _seeds[id];
            }
            FillRow(destination.Row(b), seed, (uint)id, (ulong)stream);
        }
    }

    /// <summary>Fills one sample's elements with its normals.</summary>
    public static void FillRow<T>(Span<T> row, ulong seed, uint sampleId, ulong stream) where T : unmanaged, IFloatingPointIeee754<T>
    {
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32), s0 = (uint)stream, s1 = (uint)(stream >> 32);
        for (int e = 0; e < row.Length; e += 4)
        {
            var (x0, x1, x2, x3) = Philox.Generate((uint)(e >> 2), sampleId, s0, s1, k0, k1);
            var (z0, z1) = BoxMuller(x0, x1);
            var (z2, z3) = BoxMuller(x2, x3);
            row[e] = T.CreateTruncating(z0);
            if (e + 1 < row.Length) row[e + 1] = T.CreateTruncating(z1);
            if (e + 2 < row.Length) row[e + 2] = T.CreateTruncating(z2);
            if (e + 3 < row.Length) row[e + 3] = T.CreateTruncating(z3);
        }
    }

    private static (double, double) BoxMuller(uint a, uint b)
    {
        const double Scale = 1.0 / 4294967296.0;
        double u1 = (a + 0.5) * Scale, u2 = (b + 0.5) * Scale;
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        var (sin, cos) = Math.SinCos(2.0 * Math.PI * u2);
        return (r * cos, r * sin);
    }
}
