using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenerativePaths.Tensors;

/// <summary>
/// The lane operations the noise kernel is written in, over 32-bit integer lanes <typeparamref name="TU"/> and
/// single-precision lanes <typeparamref name="TF"/> of one width. Every operation is exact or correctly rounded
/// IEEE single precision (add, subtract, multiply, square root, int-to-float of values below 2^24), so the
/// scalar and every vector width give the same bits; no fused multiply-add and no hardware transcendental.
/// </summary>
internal interface INoiseLanes<TU, TF> where TU : struct where TF : struct
{
    static abstract int Count { get; }
    static abstract TU SplatU(uint value);
    /// <summary>Lane <c>i</c> holds <c>start + i</c>.</summary>
    static abstract TU Indices(uint start);
    static abstract TU AddU(TU a, TU b);
    static abstract TU SubU(TU a, TU b);
    static abstract TU XorU(TU a, TU b);
    static abstract TU AndU(TU a, TU b);
    static abstract TU ShiftRightU(TU a, byte count);
    static abstract TU ShiftLeftU(TU a, byte count);
    /// <summary>The 64-bit products <c>a * m</c> per lane, split into high and low words.</summary>
    static abstract void MulWide(TU a, uint m, out TU hi, out TU lo);
    /// <summary>Lanes read as signed 32-bit integers, converted to float (exact below 2^24 in magnitude).</summary>
    static abstract TF IntToFloat(TU a);
    static abstract TF AsFloat(TU a);
    static abstract TU AsBits(TF a);
    static abstract TF SplatF(float value);
    static abstract TF AddF(TF a, TF b);
    static abstract TF SubF(TF a, TF b);
    static abstract TF MulF(TF a, TF b);
    static abstract TF SqrtF(TF a);
    /// <summary>Bitwise select: where <paramref name="mask"/> bits are set, <paramref name="a"/>; elsewhere <paramref name="b"/>.</summary>
    static abstract TF Select(TU mask, TF a, TF b);
    static abstract void Store(TF value, ref float destination, int offset);
}

/// <summary>One lane: plain <see cref="uint"/> and <see cref="float"/> arithmetic.</summary>
internal readonly struct ScalarLanes : INoiseLanes<uint, float>
{
    public static int Count => 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint SplatU(uint value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint Indices(uint start) => start;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint AddU(uint a, uint b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint SubU(uint a, uint b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint XorU(uint a, uint b) => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint AndU(uint a, uint b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint ShiftRightU(uint a, byte count) => a >> count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint ShiftLeftU(uint a, byte count) => a << count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MulWide(uint a, uint m, out uint hi, out uint lo)
    {
        ulong p = (ulong)a * m;
        hi = (uint)(p >> 32);
        lo = (uint)p;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float IntToFloat(uint a) => (int)a;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float AsFloat(uint a) => BitConverter.UInt32BitsToSingle(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint AsBits(float a) => BitConverter.SingleToUInt32Bits(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float SplatF(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float AddF(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float SubF(float a, float b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MulF(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float SqrtF(float a) => MathF.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Select(uint mask, float a, float b) => AsFloat((AsBits(a) & mask) | (AsBits(b) & ~mask));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float value, ref float destination, int offset) => Unsafe.Add(ref destination, offset) = value;
}

/// <summary>Four lanes; the widening multiply uses <c>pmuludq</c> where SSE2 is available.</summary>
internal readonly struct Lanes128 : INoiseLanes<Vector128<uint>, Vector128<float>>
{
    public static int Count => Vector128<uint>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<uint> SplatU(uint value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<uint> Indices(uint start) => Vector128.Create(start) + Vector128<uint>.Indices;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<uint> AddU(Vector128<uint> a, Vector128<uint> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<uint> SubU(Vector128<uint> a, Vector128<uint> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<uint> XorU(Vector128<uint> a, Vector128<uint> b) => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<uint> AndU(Vector128<uint> a, Vector128<uint> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<uint> ShiftRightU(Vector128<uint> a, byte count) => Vector128.ShiftRightLogical(a, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<uint> ShiftLeftU(Vector128<uint> a, byte count) => Vector128.ShiftLeft(a, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MulWide(Vector128<uint> a, uint m, out Vector128<uint> hi, out Vector128<uint> lo)
    {
        Vector128<ulong> even, odd;
        if (Sse2.IsSupported)
        {
            var mv = Vector128.Create(m);
            even = Sse2.Multiply(a, mv);
            odd = Sse2.Multiply(Vector128.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), mv);
        }
        else
        {
            var mv = Vector128.Create((ulong)m);
            var w = a.AsUInt64();
            even = (w & Vector128.Create(0xFFFF_FFFFUL)) * mv;
            odd = Vector128.ShiftRightLogical(w, 32) * mv;
        }
        // Even lanes from the even products, odd lanes from the odd ones (one bitwise select each).
        var high = Vector128.Create(0xFFFF_FFFF_0000_0000UL);
        lo = Vector128.ConditionalSelect(high, Vector128.ShiftLeft(odd, 32), even).AsUInt32();
        hi = Vector128.ConditionalSelect(high, odd, Vector128.ShiftRightLogical(even, 32)).AsUInt32();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> IntToFloat(Vector128<uint> a) => Vector128.ConvertToSingle(a.AsInt32());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> AsFloat(Vector128<uint> a) => a.AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<uint> AsBits(Vector128<float> a) => a.AsUInt32();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> SplatF(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> AddF(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> SubF(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MulF(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> SqrtF(Vector128<float> a) => Vector128.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Select(Vector128<uint> mask, Vector128<float> a, Vector128<float> b) => Vector128.ConditionalSelect(mask.AsSingle(), a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination, int offset) => value.StoreUnsafe(ref destination, (nuint)offset);
}

/// <summary>Eight lanes; the widening multiply uses AVX2 <c>vpmuludq</c> where available.</summary>
internal readonly struct Lanes256 : INoiseLanes<Vector256<uint>, Vector256<float>>
{
    public static int Count => Vector256<uint>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> SplatU(uint value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> Indices(uint start) => Vector256.Create(start) + Vector256<uint>.Indices;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> AddU(Vector256<uint> a, Vector256<uint> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> SubU(Vector256<uint> a, Vector256<uint> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> XorU(Vector256<uint> a, Vector256<uint> b) => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> AndU(Vector256<uint> a, Vector256<uint> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> ShiftRightU(Vector256<uint> a, byte count) => Vector256.ShiftRightLogical(a, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> ShiftLeftU(Vector256<uint> a, byte count) => Vector256.ShiftLeft(a, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MulWide(Vector256<uint> a, uint m, out Vector256<uint> hi, out Vector256<uint> lo)
    {
        Vector256<ulong> even, odd;
        if (Avx2.IsSupported)
        {
            var mv = Vector256.Create(m);
            even = Avx2.Multiply(a, mv);
            odd = Avx2.Multiply(Vector256.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), mv);
        }
        else
        {
            var mv = Vector256.Create((ulong)m);
            var w = a.AsUInt64();
            even = (w & Vector256.Create(0xFFFF_FFFFUL)) * mv;
            odd = Vector256.ShiftRightLogical(w, 32) * mv;
        }
        // Even lanes from the even products, odd lanes from the odd ones (one bitwise select each).
        var high = Vector256.Create(0xFFFF_FFFF_0000_0000UL);
        lo = Vector256.ConditionalSelect(high, Vector256.ShiftLeft(odd, 32), even).AsUInt32();
        hi = Vector256.ConditionalSelect(high, odd, Vector256.ShiftRightLogical(even, 32)).AsUInt32();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> IntToFloat(Vector256<uint> a) => Vector256.ConvertToSingle(a.AsInt32());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> AsFloat(Vector256<uint> a) => a.AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> AsBits(Vector256<float> a) => a.AsUInt32();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> SplatF(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> AddF(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> SubF(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MulF(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> SqrtF(Vector256<float> a) => Vector256.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Select(Vector256<uint> mask, Vector256<float> a, Vector256<float> b) => Vector256.ConditionalSelect(mask.AsSingle(), a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination, int offset) => value.StoreUnsafe(ref destination, (nuint)offset);
}

/// <summary>Sixteen lanes; the widening multiply uses AVX-512 <c>vpmuludq</c> where available.</summary>
internal readonly struct Lanes512 : INoiseLanes<Vector512<uint>, Vector512<float>>
{
    public static int Count => Vector512<uint>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> SplatU(uint value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> Indices(uint start) => Vector512.Create(start) + Vector512<uint>.Indices;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> AddU(Vector512<uint> a, Vector512<uint> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> SubU(Vector512<uint> a, Vector512<uint> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> XorU(Vector512<uint> a, Vector512<uint> b) => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> AndU(Vector512<uint> a, Vector512<uint> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> ShiftRightU(Vector512<uint> a, byte count) => Vector512.ShiftRightLogical(a, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> ShiftLeftU(Vector512<uint> a, byte count) => Vector512.ShiftLeft(a, count);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MulWide(Vector512<uint> a, uint m, out Vector512<uint> hi, out Vector512<uint> lo)
    {
        Vector512<ulong> even, odd;
        if (Avx512F.IsSupported)
        {
            var mv = Vector512.Create(m);
            even = Avx512F.Multiply(a, mv);
            odd = Avx512F.Multiply(Vector512.ShiftRightLogical(a.AsUInt64(), 32).AsUInt32(), mv);
        }
        else
        {
            var mv = Vector512.Create((ulong)m);
            var w = a.AsUInt64();
            even = (w & Vector512.Create(0xFFFF_FFFFUL)) * mv;
            odd = Vector512.ShiftRightLogical(w, 32) * mv;
        }
        // Even lanes from the even products, odd lanes from the odd ones (one bitwise select each).
        var high = Vector512.Create(0xFFFF_FFFF_0000_0000UL);
        lo = Vector512.ConditionalSelect(high, Vector512.ShiftLeft(odd, 32), even).AsUInt32();
        hi = Vector512.ConditionalSelect(high, odd, Vector512.ShiftRightLogical(even, 32)).AsUInt32();
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> IntToFloat(Vector512<uint> a) => Vector512.ConvertToSingle(a.AsInt32());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> AsFloat(Vector512<uint> a) => a.AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> AsBits(Vector512<float> a) => a.AsUInt32();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> SplatF(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> AddF(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> SubF(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MulF(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> SqrtF(Vector512<float> a) => Vector512.Sqrt(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Select(Vector512<uint> mask, Vector512<float> a, Vector512<float> b) => Vector512.ConditionalSelect(mask.AsSingle(), a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination, int offset) => value.StoreUnsafe(ref destination, (nuint)offset);
}

/// <summary>
/// The 64-bit-lane operations of the Philox rounds that use <c>vpmuludq</c> (<see cref="PhiloxNormals"/>): 32-bit words
/// <typeparamref name="TU"/> widened to two vectors of 64-bit lanes <typeparamref name="TL"/> and narrowed back (truncating).
/// </summary>
internal interface IWideLanes<TU, TL> where TU : struct where TL : struct
{
    static abstract TL WidenLower(TU a);
    static abstract TL WidenUpper(TU a);
    static abstract TU Narrow(TL lower, TL upper);
    static abstract TL Splat(uint value);
    static abstract TU SplatU(uint value);
    /// <summary>The 64-bit products of the low 32 bits of each lane of <paramref name="a"/> with <paramref name="m"/>'s (<c>vpmuludq</c>).</summary>
    static abstract TL MultiplyLow(TL a, TU m);
    /// <summary>Each lane's high 32 bits, moved to the low word.</summary>
    static abstract TL High(TL a);
    static abstract TL Xor(TL a, TL b);
}

/// <summary>The AVX-512 <see cref="IWideLanes{TU, TL}"/> (used only where <see cref="Avx512F.IsSupported"/>).</summary>
internal readonly struct Wide512 : IWideLanes<Vector512<uint>, Vector512<ulong>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<ulong> WidenLower(Vector512<uint> a) => Vector512.WidenLower(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<ulong> WidenUpper(Vector512<uint> a) => Vector512.WidenUpper(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> Narrow(Vector512<ulong> lower, Vector512<ulong> upper) => Vector512.Narrow(lower, upper);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<ulong> Splat(uint value) => Vector512.Create((ulong)value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<uint> SplatU(uint value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<ulong> MultiplyLow(Vector512<ulong> a, Vector512<uint> m) => Avx512F.Multiply(a.AsUInt32(), m);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<ulong> High(Vector512<ulong> a) => Vector512.ShiftRightLogical(a, 32);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<ulong> Xor(Vector512<ulong> a, Vector512<ulong> b) => a ^ b;
}

/// <summary>The AVX2 <see cref="IWideLanes{TU, TL}"/> (used only where <see cref="Avx2.IsSupported"/>).</summary>
internal readonly struct Wide256 : IWideLanes<Vector256<uint>, Vector256<ulong>>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<ulong> WidenLower(Vector256<uint> a) => Vector256.WidenLower(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<ulong> WidenUpper(Vector256<uint> a) => Vector256.WidenUpper(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> Narrow(Vector256<ulong> lower, Vector256<ulong> upper) => Vector256.Narrow(lower, upper);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<ulong> Splat(uint value) => Vector256.Create((ulong)value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<uint> SplatU(uint value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<ulong> MultiplyLow(Vector256<ulong> a, Vector256<uint> m) => Avx2.Multiply(a.AsUInt32(), m);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<ulong> High(Vector256<ulong> a) => Vector256.ShiftRightLogical(a, 32);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<ulong> Xor(Vector256<ulong> a, Vector256<ulong> b) => a ^ b;
}
