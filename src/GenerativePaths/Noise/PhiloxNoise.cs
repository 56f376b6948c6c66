using System.Numerics;
using System.Runtime.InteropServices;
using GenerativePaths.Tensors;

namespace GenerativePaths.Noise;

/// <summary>
/// Reproducible standard-normal noise from <see cref="Philox"/>: the value for
/// (seed, sample id, stream, element) is a pure function of those four.
/// </summary>
/// <remarks>
/// <para>Element <c>e</c> of sample <c>s</c> in stream <c>k</c> comes from block <c>j = e / 4</c>:
/// <c>(x0, x1, x2, x3) = Philox(counter = (j, s, lo(k), hi(k)), key = (lo(seed_s), hi(seed_s)))</c>.
/// Each pair of words gives two normals by the Box–Muller transform (Box and Muller, 1958),
/// <c>u = (x + 1/2) 2^-32</c>, <c>r = sqrt(-2 ln u_a)</c>, <c>z = (r cos 2 pi u_b, r sin 2 pi u_b)</c>,
/// computed in double; float destinations receive the double value rounded. Element <c>e</c> is
/// <c>z</c> number <c>e mod 4</c> of its block, in the order <c>(x0,x1) -> z0, z1</c>, <c>(x2,x3) -> z2, z3</c>.</para>
/// <para><c>seed_s</c> is the single seed, or with per-sample seeds <c>seeds[s]</c>.</para>
/// <para>Large requests (at least <see cref="TensorCore.ParallelThreshold"/> elements) are split across
/// cores; since every value is a pure function of its coordinates, the result is the same.</para>
/// <para>The generator is scalar: the Philox rounds are cheap next to the logarithm and sine/cosine of
/// the Box–Muller transform, and vectorising those would need one portable implementation shared by
/// the scalar and vector paths to keep the values identical on every instruction set.</para>
/// </remarks>
public sealed class PhiloxNoise : NoiseSource
{
    private const int Chunk = 16384;
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
    /// <exception cref="ArgumentOutOfRangeException">A sample id exceeds <see cref="uint.MaxValue"/>, or has no per-sample seed.</exception>
    public override unsafe void Fill<T>(BatchTensor<T> destination, long stream, ReadOnlySpan<long> sampleIds)
    {
        CheckArguments(destination, sampleIds);
        for (int b = 0; b < sampleIds.Length; b++)
        {
            long id = sampleIds[b];
            if (id > uint.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(sampleIds), id, $"Sample id at row {b} exceeds {uint.MaxValue}.");
            if (_seeds is not null && id >= _seeds.Length)
                throw new ArgumentOutOfRangeException(nameof(sampleIds), id, $"Sample id at row {b} has no seed: {_seeds.Length} per-sample seeds were given.");
        }
        int row = destination.RowLength, batch = destination.BatchSize;
        if (destination.Length == 0) return;
        int chunksPerRow = (row + Chunk - 1) / Chunk;
        long units = (long)batch * chunksPerRow;
        int degree = units > int.MaxValue ? 1 : TensorCore.DegreeFor(destination.Length, (int)units);
        if (degree <= 1)
        {
            for (int b = 0; b < batch; b++)
                FillRow(destination.Row(b), SeedOf(sampleIds[b]), (uint)sampleIds[b], (ulong)stream);
            return;
        }
        fixed (T* d = destination.Span) fixed (long* ids = sampleIds) fixed (ulong* seeds = _seeds)
        {
            var state = new FillState<T> { D = d, Ids = ids, Seeds = seeds, Seed = _seed, Stream = (ulong)stream, Row = row, ChunksPerRow = chunksPerRow };
            ParallelJob.Run(&FillChunk<T>, &state, (int)units, degree);
        }
    }

    private ulong SeedOf(long id) => _seeds is null ? _seed : _seeds[id];

    private unsafe struct FillState<T> where T : unmanaged
    {
        public T* D;
        public long* Ids;
        public ulong* Seeds;
        public ulong Seed, Stream;
        public int Row, ChunksPerRow;
    }

    private static unsafe void FillChunk<T>(void* state, int unit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref var s = ref *(FillState<T>*)state;
        int b = unit / s.ChunksPerRow, first = unit % s.ChunksPerRow * Chunk;
        long id = s.Ids[b];
        ulong seed = s.Seeds is null ? s.Seed : s.Seeds[id];
        var span = new Span<T>(s.D + (nint)b * s.Row + first, Math.Min(Chunk, s.Row - first));
        FillRange(span, first, seed, (uint)id, s.Stream);
    }

    /// <summary>Fills one sample's elements with its normals.</summary>
    /// <remarks>Element <c>e</c> of <paramref name="row"/> receives the value of element <c>e</c> of sample <paramref name="sampleId"/> in <paramref name="stream"/>.</remarks>
    public static void FillRow<T>(Span<T> row, ulong seed, uint sampleId, ulong stream) where T : unmanaged, IFloatingPointIeee754<T>
        => FillRange(row, 0, seed, sampleId, stream);

    /// <summary>Fills <paramref name="destination"/> with elements <c>first .. first + destination.Length - 1</c> of one sample's noise.</summary>
    /// <remarks>Any window of a sample's elements can be generated on its own, with the same values as <see cref="FillRow{T}"/> gives there.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="first"/> is negative.</exception>
    public static void FillRange<T>(Span<T> destination, int first, ulong seed, uint sampleId, ulong stream) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        if (typeof(T) == typeof(float))
        {
            PhiloxNormals.Fill(MemoryMarshal.Cast<T, float>(destination), first, sampleId, seed, stream);
            return;
        }
        const int Piece = 1024;
        Span<float> buffer = stackalloc float[Piece];
        for (int o = 0; o < destination.Length; o += Piece)
        {
            int len = Math.Min(Piece, destination.Length - o);
            var part = buffer[..len];
            PhiloxNormals.Fill(part, (long)first + o, sampleId, seed, stream);
            var d = destination.Slice(o, len);
            for (int i = 0; i < len; i++) d[i] = T.CreateTruncating(part[i]);
        }
    }
}
