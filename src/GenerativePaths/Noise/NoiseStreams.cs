namespace GenerativePaths.Noise;

/// <summary>
/// The documented stream numbers of a sampling run, so that the start noise and the noise of each step come
/// from separate streams of one <see cref="PhiloxNoise"/> seed.
/// </summary>
/// <remarks>
/// <para>A stochastic sampler draws stream <c>i</c> at step <c>i</c> (<see cref="Step"/>), so the start noise
/// must not come from a small stream number: with <c>new PhiloxNoise(42)</c> filling the start state from stream 0,
/// the first step's noise would equal the start noise. Fill the start state from <see cref="Start"/>
/// (<c>10^9</c>, the value the <c>gpaths</c> tool uses), far beyond any step index:</para>
/// <code>
/// var noise = new PhiloxNoise(42);
/// noise.Fill(x, NoiseStreams.Start);            // the start noise z
/// SamplingLoop.Run(model, x, schedule, sampler, noise);   // step i draws stream NoiseStreams.Step(i) = i
/// </code>
/// <para>Streams from <see cref="BrownianFirst"/> (<c>2^62</c>) on are reserved for <see cref="BrownianTree"/>.</para>
/// <para>Thread safety: constants and a pure function.</para>
/// </remarks>
public static class NoiseStreams
{
    /// <summary>The stream of the start noise: <c>1,000,000,000</c>.</summary>
    public const long Start = 1_000_000_000;

    /// <summary>The first stream <see cref="BrownianTree"/> uses: <c>2^62</c>; streams <c>2^62 + n</c> hold its tree nodes.</summary>
    public const long BrownianFirst = 1L << 62;

    /// <summary>The stream a stochastic sampler draws at step <paramref name="index"/>: the index itself.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative or not below <see cref="Start"/>.</exception>
    public static long Step(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Start);
        return index;
    }
}
