using BenchmarkDotNet.Attributes;
using GenerativePaths.Noise;
using GenerativePaths.Tensors;

namespace GenerativePaths.Benchmarks;

/// <summary>
/// Standard normals for one SDXL-sized latent batch (4 x 16,384 float32 = 65,536 values): the vectorised Philox4x32-10
/// generator at each width, against a plain write of the same bytes (the memory limit) and the previous scalar
/// generator (double-precision Box–Muller with <see cref="Math.Log(double)"/> and <see cref="Math.SinCos(double)"/>)
/// as the baseline. Divide the mean by 65,536 for the time per value.
/// </summary>
[MemoryDiagnoser]
public class NoiseBenchmarks
{
    private const int Batch = 4, Row = 16_384;
    private BatchTensor<float> _t = null!;
    private readonly PhiloxNoise _noise = new(42);

    [GlobalSetup]
    public void Setup()
    {
        _t = BatchTensor<float>.Allocate(Batch, Row);
        TensorCoreSettings.ParallelThreshold = int.MaxValue;
    }

    [Benchmark(Baseline = true)]
    public void OldScalarGenerator()
    {
        for (int b = 0; b < Batch; b++) OldFillRow(_t.Row(b), 42, (uint)b, 7);
    }

    [Benchmark]
    public void PlainWriteOfTheSameBytes() => _t.Span.Fill(1f);

    [Benchmark]
    public void PhiloxOneThread() => _noise.Fill(_t, 7);

    [Benchmark]
    public void PhiloxScalarWidth() => FillAt(NoiseWidth.Scalar);

    [Benchmark]
    public void PhiloxVector128() => FillAt(NoiseWidth.Vector128);

    [Benchmark]
    public void PhiloxVector256() => FillAt(NoiseWidth.Vector256);

    [Benchmark]
    public void PhiloxVector512() => FillAt(NoiseWidth.Vector512);

    [Benchmark]
    public void PhiloxAllCores()
    {
        TensorCoreSettings.ParallelThreshold = 1024;
        _noise.Fill(_t, 7);
        TensorCoreSettings.ParallelThreshold = int.MaxValue;
    }

    private void FillAt(NoiseWidth width)
    {
        for (int b = 0; b < Batch; b++) PhiloxNormals.Fill(_t.Row(b), 0, (uint)b, 42, 7, width);
    }

    /// <summary>The generator this library shipped before: one Philox block of four words at a time, Box–Muller in double.</summary>
    private static void OldFillRow(Span<float> destination, ulong seed, uint sampleId, ulong stream)
    {
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32), s0 = (uint)stream, s1 = (uint)(stream >> 32);
        for (int o = 0, block = 0; o + 4 <= destination.Length; o += 4, block++)
        {
            var (x0, x1, x2, x3) = Philox.Generate((uint)block, sampleId, s0, s1, k0, k1);
            OldBoxMuller(x0, x1, out double z0, out double z1);
            OldBoxMuller(x2, x3, out double z2, out double z3);
            destination[o] = (float)z0;
            destination[o + 1] = (float)z1;
            destination[o + 2] = (float)z2;
            destination[o + 3] = (float)z3;
        }
    }

    private static void OldBoxMuller(uint a, uint b, out double z0, out double z1)
    {
        const double Scale = 1.0 / 4294967296.0;
        double u1 = (a + 0.5) * Scale, u2 = (b + 0.5) * Scale;
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        var (sin, cos) = Math.SinCos(2.0 * Math.PI * u2);
        z0 = r * cos;
        z1 = r * sin;
    }
}
