using System.Buffers;
using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Noise;

/// <summary>
/// A source of standard-normal noise for stochastic samplers. Samplers never draw noise themselves;
/// they ask the source for it, so a run can be reproduced, replayed or given the user's own noise.
/// </summary>
/// <remarks>
/// A request names the stream (for samplers: the step index, or any number the caller chooses) and,
/// for each row of the destination, the sample's identity in the user's full batch. A counter-based
/// source (<see cref="PhiloxNoise"/>) returns for (seed, sample, stream, element) a pure function of
/// those four, so the noise a sample receives does not depend on batch size, position, splitting or
/// thread count.
/// <para>Thread safety: per implementation. <see cref="PhiloxNoise"/> may serve any number of threads at once;
/// <see cref="ReplayNoise"/> may not, since each request advances its tape.</para>
/// </remarks>
public abstract class NoiseSource
{
    /// <summary>Fills <paramref name="destination"/> with standard normals.</summary>
    /// <param name="destination">The tensor to fill; row <c>b</c> receives the noise of sample <c>sampleIds[b]</c>.</param>
    /// <param name="stream">The stream index (for samplers: the step index).</param>
    /// <param name="sampleIds">One identity per row of <paramref name="destination"/>; every id is non-negative.</param>
    public abstract void Fill<T>(BatchTensor<T> destination, long stream, ReadOnlySpan<long> sampleIds)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Fills <paramref name="destination"/> with the noise of samples <c>0 .. BatchSize-1</c> for <paramref name="stream"/>.</summary>
    /// <remarks>Row <c>b</c> gets sample id <c>b</c>. The ids live on the stack (up to 256 rows) or in a pooled array, so the call does not allocate.</remarks>
    public void Fill<T>(BatchTensor<T> destination, long stream) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(destination);
        const int Small = 256;
        if (destination.BatchSize <= Small)
        {
            Span<long> ids = stackalloc long[destination.BatchSize];
            for (int i = 0; i < ids.Length; i++) ids[i] = i;
            Fill(destination, stream, ids);
        }
        else
        {
            long[] rented = ArrayPool<long>.Shared.Rent(destination.BatchSize);
            try
            {
                var ids = rented.AsSpan(0, destination.BatchSize);
                for (int i = 0; i < ids.Length; i++) ids[i] = i;
                Fill(destination, stream, ids);
            }
            finally
            {
                ArrayPool<long>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Checks the common arguments of <see cref="Fill{T}(BatchTensor{T}, long, ReadOnlySpan{long})"/>.</summary>
    protected static void CheckArguments<T>(BatchTensor<T> destination, ReadOnlySpan<long> sampleIds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (sampleIds.Length != destination.BatchSize)
            throw new ArgumentException($"Length mismatch: 'sampleIds' has {sampleIds.Length} entries, the destination has {destination.BatchSize} rows.", nameof(sampleIds));
        for (int i = 0; i < sampleIds.Length; i++)
            if (sampleIds[i] < 0)
                throw new ArgumentOutOfRangeException(nameof(sampleIds), sampleIds[i], $"Sample id at row {i} is negative.");
    }
}
