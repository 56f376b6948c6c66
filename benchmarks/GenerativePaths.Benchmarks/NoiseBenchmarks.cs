using BenchmarkDotNet.Attributes;
using GenerativePaths.Noise;
using GenerativePaths.Tensors;
using MathNet.Numerics.Distributions;

namespace GenerativePaths.Benchmarks;

/// <summary>Standard normals for one SDXL-sized latent batch: Philox4x32-10 (counter-based) against MathNet's sequential normal sampler.</summary>
[MemoryDiagnoser]
public class NoiseBenchmarks
{
    private const int Batch = 4, Row = 16_384;
    private BatchTensor<float> _t = null!;
    private readonly PhiloxNoise _noise = new(42);
    private readonly double[] _buffer = new double[Batch * Row];
    private readonly Random _rng = new(42);

    [GlobalSetup]
    public void Setup() => _t = BatchTensor<float>.Allocate(Batch, Row);

    [Benchmark(Baseline = true)]
    public void MathNetNormalSamples() => Normal.Samples(_rng, _buffer, 0, 1);

    [Benchmark]
    public void PhiloxOneThread()
    {
        TensorCore.ParallelThreshold = int.MaxValue;
        _noise.Fill(_t, 7);
    }

    [Benchmark]
    public void PhiloxAllCores()
    {
        TensorCore.ParallelThreshold = 1024;
        _noise.Fill(_t, 7);
    }
}
