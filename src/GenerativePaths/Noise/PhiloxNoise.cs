using System.Numerics;
using System.Runtime.InteropServices;
using GenerativePaths.Tensors;

namespace GenerativePaths.Noise;

/// <summary>
/// Reproducible standard-normal noise from <see cref="Philox"/>: the value for
/// (seed, sample id, stream, element) is a pure function of those four.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> Elements come in groups of 64. Element <c>e</c> of sample <c>s</c> in stream <c>k</c> lies in
/// group <c>g = e / 64</c> at <c>r = e mod 64</c>; it takes word <c>w = r / 16</c> of the Philox counter
/// <c>j = 16 g + r mod 16</c>: <c>(x0, x1, x2, x3) = Philox(counter = (j, s, lo(k), hi(k)), key = (lo(seed_s), hi(seed_s)))</c>
/// (Salmon et al., SC 2011). Words <c>(x0, x1)</c> give the values of <c>w = 0, 1</c> and <c>(x2, x3)</c> those of <c>w = 2, 3</c>.</para>
/// <para><b>Transform.</b> From a pair <c>(a, b)</c>, the Box–Muller transform (Box and Muller, 1958) in IEEE single
/// precision: <c>u = (floor(a / 2^8) + 1) 2^-24</c> in <c>(0, 1]</c>, <c>r = sqrt(-2 ln u)</c>, the angle
/// <c>2 pi floor(b / 2^8) 2^-24</c>, and the values <c>(r cos, r sin)</c>. <c>ln</c>, <c>sin</c> and <c>cos</c> are
/// fixed polynomials with an exact integer range reduction, evaluated with separate (unfused) multiplies and adds
/// in one order on every instruction set, so the value is the same float everywhere (AVX-512, AVX2, SSE/NEON, or
/// no SIMD). Against the exact functions the logarithm's relative error is below 2.5e-7 on <c>(0, 1]</c> and the
/// sine and cosine are within 1.5e-7 (both tested over every argument the noise uses), so each value is within
/// about 1e-6 (relative) of the exact Box–Muller normal of those 24-bit uniforms. The magnitude never exceeds
/// <c>sqrt(48 ln 2) = 5.77</c>. Double destinations receive the float value exactly.</para>
/// <para><c>seed_s</c> is the single seed, or with per-sample seeds <c>seeds[s]</c>.</para>
/// <para>For which streams to use for the start noise and for each step see <see cref="NoiseStreams"/>.</para>
/// <para>Large requests (at least <see cref="TensorCoreSettings.ParallelThreshold"/> elements) are split across
/// cores; since every value is a pure function of its coordinates, the result is the same.</para>
/// <para>Thread safety: an instance is immutable; any number of threads may call <see cref="Fill{T}(BatchTensor{T}, long, ReadOnlySpan{long})"/> at once.</para>
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
        int degree = units > int.MaxValue ? 1 : TensorCoreSettings.DegreeFor(destination.Length, (int)units);
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
