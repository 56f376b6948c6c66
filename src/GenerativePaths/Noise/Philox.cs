using System.Runtime.CompilerServices;

namespace GenerativePaths.Noise;

/// <summary>
/// The Philox4x32-10 counter-based bijection (Salmon, Moraes, Dror and Shaw, "Parallel random numbers:
/// as easy as 1, 2, 3", SC 2011), the generator family cuRAND and JAX use.
/// </summary>
/// <remarks>
/// <para>Ten rounds of <c>(c0, c1, c2, c3) -> (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0))</c>
/// with <c>M0 = 0xD2511F53</c>, <c>M1 = 0xCD9E8D57</c>, the key bumped by the Weyl constants
/// <c>(0x9E3779B9, 0xBB67AE85)</c> between rounds. <see cref="PhiloxNoise"/> runs the same rounds on 4, 8 or 16
/// counters at once.</para>
/// <para>Thread safety: a pure function; any thread may call it.</para>
/// </remarks>
public static class Philox
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>Computes Philox4x32-10 of a 128-bit counter under a 64-bit key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (uint, uint, uint, uint) Generate(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int r = 0; r < 10; r++)
        {
            if (r > 0) { k0 += W0; k1 += W1; }
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n1 = (uint)p1;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            uint n3 = (uint)p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        }
        return (c0, c1, c2, c3);
    }
}
