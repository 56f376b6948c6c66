using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GenerativePaths.Tensors;

/// <summary>
/// The width adapter of the kernel driver: the few vector operations the kernels use, for one vector type
/// (<see cref="Vector128{T}"/>, <see cref="Vector256{T}"/> or <see cref="Vector512{T}"/>), as static members a generic
/// kernel can call. Every operation is the vector type's own (element-wise IEEE arithmetic, no fused multiply-add), so a
/// kernel written once over this interface gives the same bits at every width.
/// </summary>
/// <typeparam name="TVec">The vector type.</typeparam>
/// <typeparam name="T">The element type (<see cref="float"/> or <see cref="double"/>).</typeparam>
internal unsafe interface ISimdWidth<TVec, T> where T : unmanaged where TVec : unmanaged
{
    /// <summary>Elements per vector.</summary>
    static abstract int Count { get; }
    /// <summary>Bytes per vector (the alignment of a non-temporal store).</summary>
    static abstract int Bytes { get; }
    static abstract TVec Zero { get; }
    static abstract TVec Create(T value);
    static abstract TVec Load(T* p);
    static abstract void Store(TVec v, T* p);
    static abstract void StoreAlignedNonTemporal(TVec v, T* p);
    static abstract TVec Add(TVec a, TVec b);
    static abstract TVec Subtract(TVec a, TVec b);
    static abstract TVec Multiply(TVec a, TVec b);
    static abstract TVec Divide(TVec a, TVec b);
    static abstract TVec Abs(TVec a);
    static abstract TVec Max(TVec a, TVec b);
    /// <summary>True when every lane equals zero (+0 or -0).</summary>
    static abstract bool AllZero(TVec a);
    static abstract T Element(TVec v, int index);
    /// <summary><see cref="Count"/> floats at <paramref name="p"/> converted exactly to the element type (used with <c>T = double</c>).</summary>
    static abstract TVec LoadWidened(float* p);
}

/// <summary>The 128-bit width adapter.</summary>
internal readonly unsafe struct Simd128<T> : ISimdWidth<Vector128<T>, T> where T : unmanaged
{
    public static int Count => Vector128<T>.Count;
    public static int Bytes => 16;
    public static Vector128<T> Zero => Vector128<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Create(T value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Load(T* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<T> v, T* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreAlignedNonTemporal(Vector128<T> v, T* p) => v.StoreAlignedNonTemporal(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Add(Vector128<T> a, Vector128<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Subtract(Vector128<T> a, Vector128<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Multiply(Vector128<T> a, Vector128<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Divide(Vector128<T> a, Vector128<T> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Abs(Vector128<T> a) => Vector128.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Max(Vector128<T> a, Vector128<T> b) => Vector128.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(Vector128<T> a) => Vector128.EqualsAll(a, Vector128<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Element(Vector128<T> v, int index) => v.GetElement(index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> LoadWidened(float* p) => Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<double>(p)).AsSingle()).As<double, T>();
}

/// <summary>The 256-bit width adapter.</summary>
internal readonly unsafe struct Simd256<T> : ISimdWidth<Vector256<T>, T> where T : unmanaged
{
    public static int Count => Vector256<T>.Count;
    public static int Bytes => 32;
    public static Vector256<T> Zero => Vector256<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Create(T value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Load(T* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<T> v, T* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreAlignedNonTemporal(Vector256<T> v, T* p) => v.StoreAlignedNonTemporal(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Subtract(Vector256<T> a, Vector256<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Multiply(Vector256<T> a, Vector256<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Divide(Vector256<T> a, Vector256<T> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Abs(Vector256<T> a) => Vector256.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Max(Vector256<T> a, Vector256<T> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(Vector256<T> a) => Vector256.EqualsAll(a, Vector256<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Element(Vector256<T> v, int index) => v.GetElement(index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> LoadWidened(float* p)
        => (Avx.IsSupported ? Avx.ConvertToVector256Double(Vector128.Load(p)) : Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe())).As<double, T>();
}

/// <summary>The 512-bit width adapter.</summary>
internal readonly unsafe struct Simd512<T> : ISimdWidth<Vector512<T>, T> where T : unmanaged
{
    public static int Count => Vector512<T>.Count;
    public static int Bytes => 64;
    public static Vector512<T> Zero => Vector512<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Create(T value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Load(T* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<T> v, T* p) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreAlignedNonTemporal(Vector512<T> v, T* p) => v.StoreAlignedNonTemporal(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Subtract(Vector512<T> a, Vector512<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Multiply(Vector512<T> a, Vector512<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Divide(Vector512<T> a, Vector512<T> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Abs(Vector512<T> a) => Vector512.Abs(a);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Max(Vector512<T> a, Vector512<T> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(Vector512<T> a) => Vector512.EqualsAll(a, Vector512<T>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Element(Vector512<T> v, int index) => v.GetElement(index);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> LoadWidened(float* p)
        => (Avx512F.IsSupported ? Avx512F.ConvertToVector512Double(Vector256.Load(p)) : Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe())).As<double, T>();
}

/// <summary>Which element types the tensor core supports, and the vector width the kernels use for one.</summary>
internal static class SimdElement
{
    /// <summary>True for <see cref="float"/> and <see cref="double"/>, the element types of <see cref="BatchTensor{T}"/> and the kernels.</summary>
    public static bool IsSupported<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double);

    /// <summary>The vector width in bytes the kernels use for <typeparamref name="T"/> now (0: scalar).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Bytes<T>() => IsSupported<T>() ? SimdWidth.Bytes : 0;

    /// <summary>Throws <see cref="NotSupportedException"/> naming the type when <typeparamref name="T"/> is not supported.</summary>
    public static void ThrowIfUnsupported<T>(string what)
    {
        if (!IsSupported<T>())
            throw new NotSupportedException($"{what} supports the element types float and double, not {typeof(T).Name}; "
                + $"convert {typeof(T).Name} data to float (e.g. with TensorPrimitives.ConvertToSingle) first.");
    }
}
