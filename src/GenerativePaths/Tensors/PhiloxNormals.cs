using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenerativePaths.Tensors;

/// <summary>The instruction width a noise kernel runs at; <see cref="Best"/> picks the widest the machine accelerates.</summary>
internal enum NoiseWidth { Best, Scalar, Vector128, Vector256, Vector512 }

/// <summary>
/// The kernel behind <see cref="Noise.PhiloxNoise"/>: Philox4x32-10 and the Box–Muller transform in single precision,
/// written once over <see cref="INoiseLanes{TU, TF}"/> and run at one lane or 4, 8 or 16 lanes with the same
/// operations in the same order, so every width gives the same bits. The exact definition is in the remarks of
/// <see cref="Noise.PhiloxNoise"/>.
/// </summary>
internal static class PhiloxNormals
{
    /// <summary>Elements per group: 16 Philox counters times 4 words.</summary>
    public const int Group = 64;
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    // log(1 + f) = f - f^2/2 + f^3 P(f) on sqrt(1/2) - 1 <= f < sqrt(2) - 1 (the classical single-precision
    // minimax coefficients of Moshier's Cephes logf); ln 2 split as Ln2Hi + Ln2Lo with Ln2Hi exact in 9 bits.
    private const float L8 = 7.0376836292E-2f, L7 = -1.1514610310E-1f, L6 = 1.1676998740E-1f, L5 = -1.2420140846E-1f,
        L4 = 1.4249322787E-1f, L3 = -1.6668057665E-1f, L2 = 2.0000714765E-1f, L1 = -2.4999993993E-1f, L0 = 3.3333331174E-1f;
    private const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440E-4f;
    // sin x = x + x^3 S(x^2), cos x = 1 - x^2/2 + x^4 C(x^2) on |x| <= pi/4 (Cephes sinf/cosf coefficients).
    private const float S2 = -1.9515295891E-4f, S1 = 8.3321608736E-3f, S0 = -1.6666654611E-1f;
    private const float C2 = 2.443315711809948E-5f, C1 = -1.388731625493765E-3f, C0 = 4.166664568298827E-2f;
    private const float HalfPi = 1.57079632679489661923f;

    /// <summary>The width <see cref="NoiseWidth.Best"/> resolves to on this machine.</summary>
    public static NoiseWidth BestWidth =>
        Vector512.IsHardwareAccelerated ? NoiseWidth.Vector512
        : Vector256.IsHardwareAccelerated ? NoiseWidth.Vector256
        : Vector128.IsHardwareAccelerated ? NoiseWidth.Vector128
        : NoiseWidth.Scalar;

    /// <summary>
    /// Writes elements <c>first .. first + destination.Length - 1</c> of one sample's noise at the given width.
    /// Any width gives the same values; the vector widths run without hardware support too (slowly), which the
    /// tests use to compare them on every machine.
    /// </summary>
    public static void Fill(Span<float> destination, long first, uint sampleId, ulong seed, ulong stream, NoiseWidth width = NoiseWidth.Best)
    {
        if (width == NoiseWidth.Best) width = BestWidth;
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32), s0 = (uint)stream, s1 = (uint)(stream >> 32);
        int n = destination.Length, o = 0;
        if (n == 0) return;
        Span<float> buffer = stackalloc float[Group];
        long group = first / Group;
        int offset = (int)(first % Group);
        if (offset != 0 || n < Group)
        {
            Groups(buffer, (uint)group, sampleId, s0, s1, k0, k1, width);
            int take = Math.Min(Group - offset, n);
            buffer.Slice(offset, take).CopyTo(destination);
            o = take;
            group++;
        }
        int full = (n - o) / Group;
        if (full > 0)
        {
            Groups(destination.Slice(o, full * Group), (uint)group, sampleId, s0, s1, k0, k1, width);
            o += full * Group;
            group += full;
        }
        if (o < n)
        {
            Groups(buffer, (uint)group, sampleId, s0, s1, k0, k1, width);
            buffer[..(n - o)].CopyTo(destination[o..]);
        }
    }

    /// <summary>Fills whole groups (<paramref name="destination"/> a multiple of <see cref="Group"/> long) starting at group <paramref name="group"/>.</summary>
    private static void Groups(Span<float> destination, uint group, uint id, uint s0, uint s1, uint k0, uint k1, NoiseWidth width)
    {
        switch (width)
        {
            case NoiseWidth.Vector512: Groups<Lanes512, Vector512<uint>, Vector512<float>>(destination, group, id, s0, s1, k0, k1); break;
            case NoiseWidth.Vector256: Groups<Lanes256, Vector256<uint>, Vector256<float>>(destination, group, id, s0, s1, k0, k1); break;
            case NoiseWidth.Vector128: Groups<Lanes128, Vector128<uint>, Vector128<float>>(destination, group, id, s0, s1, k0, k1); break;
            default: Groups<ScalarLanes, uint, float>(destination, group, id, s0, s1, k0, k1); break;
        }
    }

    private static void Groups<TL, TU, TF>(Span<float> destination, uint group, uint id, uint s0, uint s1, uint k0, uint k1)
        where TL : INoiseLanes<TU, TF> where TU : struct where TF : struct
    {
        ref float d = ref MemoryMarshal.GetReference(destination);
        int groups = destination.Length / Group;
        TU vid = TL.SplatU(id), vs0 = TL.SplatU(s0), vs1 = TL.SplatU(s1);
        for (int g = 0; g < groups; g++, group++)
        {
            ref float gd = ref Unsafe.Add(ref d, g * Group);
            for (int lane = 0; lane < 16; lane += TL.Count)
            {
                TU c0 = TL.Indices(group * 16 + (uint)lane), c1 = vid, c2 = vs0, c3 = vs1;
                // Words 1-3 of the counter are the same in every lane (sample id, stream), which the 64-bit-lane rounds take as scalars.
                if (typeof(TL) == typeof(Lanes512) && Avx512F.IsSupported)
                    WideRounds<Wide512, Vector512<uint>, Vector512<ulong>>(ref Unsafe.As<TU, Vector512<uint>>(ref c0), out Unsafe.As<TU, Vector512<uint>>(ref c1),
                        out Unsafe.As<TU, Vector512<uint>>(ref c2), out Unsafe.As<TU, Vector512<uint>>(ref c3), id, s0, s1, k0, k1);
                else if (typeof(TL) == typeof(Lanes256) && Avx2.IsSupported)
                    WideRounds<Wide256, Vector256<uint>, Vector256<ulong>>(ref Unsafe.As<TU, Vector256<uint>>(ref c0), out Unsafe.As<TU, Vector256<uint>>(ref c1),
                        out Unsafe.As<TU, Vector256<uint>>(ref c2), out Unsafe.As<TU, Vector256<uint>>(ref c3), id, s0, s1, k0, k1);
                else
                    Rounds<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, k0, k1);
                BoxMuller<TL, TU, TF>(c0, c1, out TF z0, out TF z1);
                BoxMuller<TL, TU, TF>(c2, c3, out TF z2, out TF z3);
                TL.Store(z0, ref gd, lane);
                TL.Store(z1, ref gd, 16 + lane);
                TL.Store(z2, ref gd, 32 + lane);
                TL.Store(z3, ref gd, 48 + lane);
            }
        }
    }

    /// <summary>The ten Philox4x32 rounds of <see cref="Noise.Philox.Generate"/>, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rounds<TL, TU, TF>(ref TU c0, ref TU c1, ref TU c2, ref TU c3, uint k0, uint k1)
        where TL : INoiseLanes<TU, TF> where TU : struct where TF : struct
    {
        // Unrolled: the key of round r is (k0 + r W0, k1 + r W1), modulo 2^32.
        Round<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, k0, k1);
        Round<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, unchecked(k0 + W0), unchecked(k1 + W1));
        Round<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, unchecked(k0 + 2 * W0), unchecked(k1 + 2 * W1));
        Round<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, unchecked(k0 + 3 * W0), unchecked(k1 + 3 * W1));
        Round<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, unchecked(k0 + 4 * W0), unchecked(k1 + 4 * W1));
        Round<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, unchecked(k0 + 5 * W0), unchecked(k1 + 5 * W1));
        Round<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, unchecked(k0 + 6 * W0), unchecked(k1 + 6 * W1));
        Round<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, unchecked(k0 + 7 * W0), unchecked(k1 + 7 * W1));
        Round<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, unchecked(k0 + 8 * W0), unchecked(k1 + 8 * W1));
        Round<TL, TU, TF>(ref c0, ref c1, ref c2, ref c3, unchecked(k0 + 9 * W0), unchecked(k1 + 9 * W1));
    }

    /// <summary>
    /// <see cref="Rounds{TL, TU, TF}"/> with <c>vpmuludq</c> (AVX-512 or AVX2, <typeparamref name="TW"/>), the same words: each word of
    /// the counters is held as two halves in 64-bit lanes, so the multiply (which reads the low 32 bits of each lane) leaves the whole
    /// product in its lane, the low word <c>lo</c> and the high word <c>hi</c>, with no shuffle. The lanes' high words carry leftovers
    /// between rounds, which no operation moves into a low word (xor is bitwise, the multiply reads low words only, and the shift takes
    /// <c>hi</c> from a fresh product); the last step keeps the low words. Words 1-3 of the counter come in as
    /// <paramref name="w1"/>..<paramref name="w3"/> (the same in every lane); the four output words replace <paramref name="c0"/> and
    /// fill <paramref name="c1"/>..<paramref name="c3"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WideRounds<TW, TU, TL64>(ref TU c0, out TU c1, out TU c2, out TU c3, uint w1, uint w2, uint w3, uint k0, uint k1)
        where TW : IWideLanes<TU, TL64> where TU : struct where TL64 : struct
    {
        TL64 a0 = TW.WidenLower(c0), a1 = TW.Splat(w1), a2 = TW.Splat(w2), a3 = TW.Splat(w3);
        TL64 b0 = TW.WidenUpper(c0), b1 = a1, b2 = a2, b3 = a3;
        TU m0 = TW.SplatU(M0), m1 = TW.SplatU(M1);
        for (uint r = 0; r < 10; r++)
        {
            TL64 kk0 = TW.Splat(unchecked(k0 + r * W0)), kk1 = TW.Splat(unchecked(k1 + r * W1));
            TL64 pa0 = TW.MultiplyLow(a0, m0), pa1 = TW.MultiplyLow(a2, m1);
            TL64 pb0 = TW.MultiplyLow(b0, m0), pb1 = TW.MultiplyLow(b2, m1);
            a0 = TW.Xor(TW.Xor(TW.High(pa1), a1), kk0);
            a2 = TW.Xor(TW.Xor(TW.High(pa0), a3), kk1);
            b0 = TW.Xor(TW.Xor(TW.High(pb1), b1), kk0);
            b2 = TW.Xor(TW.Xor(TW.High(pb0), b3), kk1);
            a1 = pa1; a3 = pa0; b1 = pb1; b3 = pb0;
        }
        c0 = TW.Narrow(a0, b0); c1 = TW.Narrow(a1, b1); c2 = TW.Narrow(a2, b2); c3 = TW.Narrow(a3, b3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round<TL, TU, TF>(ref TU c0, ref TU c1, ref TU c2, ref TU c3, uint k0, uint k1)
        where TL : INoiseLanes<TU, TF> where TU : struct where TF : struct
    {
        TL.MulWide(c0, M0, out TU hi0, out TU lo0);
        TL.MulWide(c2, M1, out TU hi1, out TU lo1);
        TU n0 = TL.XorU(TL.XorU(hi1, c1), TL.SplatU(k0));
        TU n2 = TL.XorU(TL.XorU(hi0, c3), TL.SplatU(k1));
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    }

    /// <summary>
    /// Two normals from two words: <c>u = (floor(a / 2^8) + 1) 2^-24</c>, <c>r = sqrt(-2 ln u)</c>, the angle
    /// <c>2 pi floor(b / 2^8) 2^-24</c>; returns <c>(r cos, r sin)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void BoxMuller<TL, TU, TF>(TU a, TU b, out TF z0, out TF z1)
        where TL : INoiseLanes<TU, TF> where TU : struct where TF : struct
    {
        TF u = TL.MulF(TL.IntToFloat(TL.AddU(TL.ShiftRightU(a, 8), TL.SplatU(1))), TL.SplatF(1f / 16777216f));
        TF r = TL.SqrtF(TL.MulF(TL.SplatF(-2f), Log<TL, TU, TF>(u)));
        SinCosTurn<TL, TU, TF>(TL.ShiftRightU(b, 8), out TF sin, out TF cos);
        z0 = TL.MulF(r, cos);
        z1 = TL.MulF(r, sin);
    }

    /// <summary>Natural logarithm of a positive normal float <paramref name="x"/> (the noise uses <c>0 &lt; x &lt;= 1</c>).</summary>
    /// <remarks>
    /// <c>x = 2^e m</c> with <c>sqrt(1/2) &lt;= m &lt; sqrt 2</c> (found with integer arithmetic on the bits),
    /// <c>f = m - 1</c> (exact), <c>ln x = f - f^2/2 + f^3 P(f) + e ln 2</c>, evaluated as
    /// <c>((f^3 P(f) + e Ln2Lo) - f^2/2 + f) + e Ln2Hi</c>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TF Log<TL, TU, TF>(TF x) where TL : INoiseLanes<TU, TF> where TU : struct where TF : struct
    {
        // Adding 1 - sqrt(1/2) in the bit pattern moves the exponent step to m = sqrt(1/2).
        TU bits = TL.AddU(TL.AsBits(x), TL.SplatU(0x3F80_0000u - 0x3F35_04F3u));
        TF e = TL.IntToFloat(TL.SubU(TL.ShiftRightU(bits, 23), TL.SplatU(127)));
        TF m = TL.AsFloat(TL.AddU(TL.AndU(bits, TL.SplatU(0x007F_FFFFu)), TL.SplatU(0x3F35_04F3u)));
        TF f = TL.SubF(m, TL.SplatF(1f));
        TF z = TL.MulF(f, f);
        TF p = TL.SplatF(L8);
        p = TL.AddF(TL.MulF(p, f), TL.SplatF(L7));
        p = TL.AddF(TL.MulF(p, f), TL.SplatF(L6));
        p = TL.AddF(TL.MulF(p, f), TL.SplatF(L5));
        p = TL.AddF(TL.MulF(p, f), TL.SplatF(L4));
        p = TL.AddF(TL.MulF(p, f), TL.SplatF(L3));
        p = TL.AddF(TL.MulF(p, f), TL.SplatF(L2));
        p = TL.AddF(TL.MulF(p, f), TL.SplatF(L1));
        p = TL.AddF(TL.MulF(p, f), TL.SplatF(L0));
        TF y = TL.MulF(TL.MulF(p, f), z);
        y = TL.AddF(y, TL.MulF(e, TL.SplatF(Ln2Lo)));
        y = TL.SubF(y, TL.MulF(TL.SplatF(0.5f), z));
        TF result = TL.AddF(f, y);
        return TL.AddF(result, TL.MulF(e, TL.SplatF(Ln2Hi)));
    }

    /// <summary>Sine and cosine of <c>2 pi k 2^-24</c> for integer lanes <c>0 &lt;= k &lt; 2^24</c>.</summary>
    /// <remarks>
    /// The quadrant comes from the integer exactly: <c>j = floor((k + 2^21) / 2^22)</c>, <c>t = (k - j 2^22) 2^-22</c>
    /// in <c>[-1/2, 1/2)</c> (exact), <c>x = t (pi/2)</c> rounded to float, and the angle is <c>j pi/2 + x</c>:
    /// sine and cosine of <c>x</c> from their polynomials, swapped and negated by <c>j mod 4</c>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCosTurn<TL, TU, TF>(TU k, out TF sin, out TF cos) where TL : INoiseLanes<TU, TF> where TU : struct where TF : struct
    {
        TU j = TL.ShiftRightU(TL.AddU(k, TL.SplatU(1u << 21)), 22);
        TF t = TL.MulF(TL.IntToFloat(TL.SubU(k, TL.ShiftLeftU(j, 22))), TL.SplatF(1f / 4194304f));
        TF x = TL.MulF(t, TL.SplatF(HalfPi));
        TF z = TL.MulF(x, x);
        TF s = TL.AddF(TL.MulF(TL.SplatF(S2), z), TL.SplatF(S1));
        s = TL.AddF(TL.MulF(s, z), TL.SplatF(S0));
        s = TL.AddF(TL.MulF(TL.MulF(s, z), x), x);
        TF c = TL.AddF(TL.MulF(TL.SplatF(C2), z), TL.SplatF(C1));
        c = TL.AddF(TL.MulF(c, z), TL.SplatF(C0));
        c = TL.AddF(TL.SubF(TL.MulF(TL.MulF(c, z), z), TL.MulF(TL.SplatF(0.5f), z)), TL.SplatF(1f));
        // Odd quadrants swap sine and cosine; sin is negated in quadrants 2 and 3, cos in quadrants 1 and 2.
        TU swap = TL.SubU(TL.SplatU(0), TL.AndU(j, TL.SplatU(1)));
        TF sq = TL.Select(swap, c, s), cq = TL.Select(swap, s, c);
        sin = TL.AsFloat(TL.XorU(TL.AsBits(sq), TL.ShiftLeftU(TL.AndU(j, TL.SplatU(2)), 30)));
        cos = TL.AsFloat(TL.XorU(TL.AsBits(cq), TL.ShiftLeftU(TL.AndU(TL.AddU(j, TL.SplatU(1)), TL.SplatU(2)), 30)));
    }

    /// <summary>The scalar <see cref="Log{TL, TU, TF}"/>, for tests of its accuracy.</summary>
    public static float Log(float x) => Log<ScalarLanes, uint, float>(x);

    /// <summary>The scalar <see cref="SinCosTurn{TL, TU, TF}"/>, for tests of its accuracy.</summary>
    public static (float Sin, float Cos) SinCosTurn(uint k)
    {
        SinCosTurn<ScalarLanes, uint, float>(k, out float s, out float c);
        return (s, c);
    }
}
