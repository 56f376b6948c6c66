using BenchmarkDotNet.Attributes;
using GenerativePaths.Tensors;

namespace GenerativePaths.Benchmarks;

/// <summary>
/// The two-output estimate kernel of the multistep samplers (<c>e = ce x + cp p</c>, <c>x = a x + b e + c q</c>) at each vector
/// width the driver can run (<see cref="Width"/> bytes; 0 = the widest accelerated), against a copy of the same bytes.
/// </summary>
public class EstimateKernelBenchmarks
{
    /// <summary>Elements.</summary>
    [Params(4096, 65536)]
    public int N { get; set; }

    /// <summary>Forced vector width in bytes (0 = automatic).</summary>
    [Params(0, 32)]
    public int Width { get; set; }

    private double[] _x = null!, _e = null!, _p = null!, _q = null!, _copy = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        double[] R() => Enumerable.Range(0, N).Select(_ => rng.NextDouble()).ToArray();
        _x = R(); _e = R(); _p = R(); _q = R(); _copy = new double[N];
        SimdWidth.Forced = Width;
    }

    [GlobalCleanup]
    public void Cleanup() => SimdWidth.Forced = 0;

    /// <summary>Baseline: copy x (N doubles).</summary>
    [Benchmark(Baseline = true)]
    public void Copy() => _x.AsSpan().CopyTo(_copy);

    /// <summary>The kernel with the previous estimate term (5 transfers).</summary>
    [Benchmark]
    public bool Estimate() => TensorKernels.CombineWithEstimateAllFinite<double>(_x, _e, _p, _q, 0.9, 0.1, 0.999, 0.5, -0.5, true);
}
