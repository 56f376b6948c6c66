using BenchmarkDotNet.Attributes;
using GenerativePaths.Tensors;
using MathNet.Numerics.LinearAlgebra;
using System.Numerics.Tensors;

namespace GenerativePaths.Benchmarks;

/// <summary>
/// The fused k-term linear combination <c>y = sum_j c_j x_j</c> over N floats against, in the same run:
/// a plain copy moving the same number of bytes ((k + 1) N floats: k reads and one write), a scalar loop,
/// the same update as a chain of <see cref="TensorPrimitives"/> calls, and MathNet's vector operations.
/// Every method here runs on one thread (<see cref="TensorCoreSettings.ParallelThreshold"/> is raised for the run);
/// <see cref="TensorParallelBenchmarks"/> measures the split across cores.
/// </summary>
[MemoryDiagnoser]
public class TensorBenchmarks
{
    [Params(16_384, 65_536, 524_288, 16_777_216)]
    public int N;

    [Params(2, 3, 6)]
    public int K;

    private BatchTensor<float>[] _x = [];
    private BatchTensor<float> _y = null!;
    private BatchTensor<float> _copySource = null!, _copyDestination = null!;
    private readonly float[] _c = [0.9f, 0.1f, -0.25f, 0.5f, 0.125f, -0.75f];
    private Vector<float>[] _mx = [];
    private Vector<float> _my = null!, _mtmp = null!;

    [GlobalSetup]
    public void Setup()
    {
        TensorCoreSettings.ParallelThreshold = int.MaxValue;
        var rng = new Random(1);
        _x = new BatchTensor<float>[6];
        for (int j = 0; j < 6; j++)
        {
            _x[j] = BatchTensor<float>.Allocate(1, N);
            var s = _x[j].Span;
            for (int i = 0; i < N; i++) s[i] = (float)rng.NextDouble();
        }
        _y = BatchTensor<float>.Allocate(1, N);
        // The copy moves as many bytes as the fused update: (K + 1) N floats, half read and half written.
        int copyLength = (K + 1) * N / 2;
        _copySource = BatchTensor<float>.Allocate(1, copyLength);
        _copyDestination = BatchTensor<float>.Allocate(1, copyLength);
        _mx = [.. _x.Select(t => Vector<float>.Build.DenseOfArray(t.Span.ToArray()))];
        _my = Vector<float>.Build.Dense(N);
        _mtmp = Vector<float>.Build.Dense(N);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in _x) t.Dispose();
        _y.Dispose(); _copySource.Dispose(); _copyDestination.Dispose();
    }

    /// <summary>The memory-traffic limit: a copy of the same number of bytes.</summary>
    [Benchmark(Baseline = true)]
    public void CopySameBytes() => _copySource.Span.CopyTo(_copyDestination.Span);

    [Benchmark]
    public void Fused()
    {
        Span<float> y = _y.Span;
        var x = _x;
        var c = _c;
        switch (K)
        {
            case 2: TensorKernels.LinearCombination(y, c[0], x[0].Span, c[1], x[1].Span); break;
            case 3: TensorKernels.LinearCombination(y, c[0], x[0].Span, c[1], x[1].Span, c[2], x[2].Span); break;
            default: TensorKernels.LinearCombination(y, c[0], x[0].Span, c[1], x[1].Span, c[2], x[2].Span, c[3], x[3].Span, c[4], x[4].Span, c[5], x[5].Span); break;
        }
    }

    [Benchmark]
    public void ScalarLoop()
    {
        Span<float> y = _y.Span;
        Span<float> x0 = _x[0].Span, x1 = _x[1].Span, x2 = _x[2].Span, x3 = _x[3].Span, x4 = _x[4].Span, x5 = _x[5].Span;
        float c0 = _c[0], c1 = _c[1], c2 = _c[2], c3 = _c[3], c4 = _c[4], c5 = _c[5];
        int n = y.Length;
        switch (K)
        {
            case 2: for (int i = 0; i < n; i++) y[i] = c0 * x0[i] + c1 * x1[i]; break;
            case 3: for (int i = 0; i < n; i++) y[i] = c0 * x0[i] + c1 * x1[i] + c2 * x2[i]; break;
            default: for (int i = 0; i < n; i++) y[i] = c0 * x0[i] + c1 * x1[i] + c2 * x2[i] + c3 * x3[i] + c4 * x4[i] + c5 * x5[i]; break;
        }
    }

    /// <summary>The same update as TensorPrimitives calls: one Multiply, then K - 1 MultiplyAdd passes.</summary>
    [Benchmark]
    public void TensorPrimitivesChain()
    {
        Span<float> y = _y.Span;
        TensorPrimitives.Multiply(_x[0].Span, _c[0], y);
        for (int j = 1; j < K; j++) TensorPrimitives.MultiplyAdd(_x[j].Span, _c[j], y, y);
    }

    /// <summary>MathNet vector operations into preallocated results: y = c0 x0, then tmp = c_j x_j, y += tmp.</summary>
    [Benchmark]
    public void MathNetVectors()
    {
        _mx[0].Multiply(_c[0], _my);
        for (int j = 1; j < K; j++)
        {
            _mx[j].Multiply(_c[j], _mtmp);
            _my.Add(_mtmp, _my);
        }
    }
}

/// <summary>The k = 3 fused update at 16,777,216 floats on one thread and split across cores, with the copy baseline.</summary>
[MemoryDiagnoser]
public class TensorParallelBenchmarks
{
    private const int N = 16_777_216;
    private BatchTensor<float> _x0 = null!, _x1 = null!, _x2 = null!, _y = null!, _src = null!, _dst = null!;

    [GlobalSetup]
    public void Setup()
    {
        _x0 = BatchTensor<float>.Allocate(1, N); _x1 = BatchTensor<float>.Allocate(1, N); _x2 = BatchTensor<float>.Allocate(1, N);
        _y = BatchTensor<float>.Allocate(1, N);
        _x0.Span.Fill(1); _x1.Span.Fill(2); _x2.Span.Fill(3);
        _src = BatchTensor<float>.Allocate(1, 2 * N);
        _dst = BatchTensor<float>.Allocate(1, 2 * N);
    }

    [Benchmark(Baseline = true)]
    public void CopySameBytes() => _src.Span.CopyTo(_dst.Span);

    [Benchmark]
    public void FusedOneThread()
    {
        TensorCoreSettings.ParallelThreshold = int.MaxValue;
        TensorKernels.LinearCombination(_y.Span, 0.5f, _x0.Span, 0.25f, _x1.Span, -1f, _x2.Span);
    }

    [Benchmark]
    public void FusedAllCores()
    {
        TensorCoreSettings.ParallelThreshold = 1 << 20;
        TensorKernels.LinearCombination(_y.Span, 0.5f, _x0.Span, 0.25f, _x1.Span, -1f, _x2.Span);
    }

    [Benchmark]
    public double ErrorNormOneThread()
    {
        TensorCoreSettings.ParallelThreshold = int.MaxValue;
        return TensorReductions.ErrorNorm<float>(_x0.Span, _x1.Span, _x2.Span, 1e-3, 1e-3);
    }

    [Benchmark]
    public double ErrorNormAllCores()
    {
        TensorCoreSettings.ParallelThreshold = 1 << 20;
        return TensorReductions.ErrorNorm<float>(_x0.Span, _x1.Span, _x2.Span, 1e-3, 1e-3);
    }
}

/// <summary>
/// The reductions and checked kernels on one thread over N elements, against a copy of N floats in the same run:
/// error norms (float and double, the ODE fused norm-and-finite-check), dot, max-abs, the finite checks, and the
/// combination that reports non-finite output. Each reads one to three inputs of N elements.
/// </summary>
[MemoryDiagnoser]
public class TensorReductionBenchmarks
{
    [Params(65_536, 4_194_304)]
    public int N;

    private BatchTensor<float> _e = null!, _a = null!, _b = null!, _y = null!, _src = null!, _dst = null!;
    private BatchTensor<double> _ed = null!, _ad = null!, _bd = null!;

    [GlobalSetup]
    public void Setup()
    {
        TensorCoreSettings.ParallelThreshold = int.MaxValue;
        var rng = new Random(2);
        BatchTensor<float> F() { var t = BatchTensor<float>.Allocate(1, N); foreach (ref float v in t.Span) v = (float)(rng.NextDouble() - 0.5); return t; }
        BatchTensor<double> D() { var t = BatchTensor<double>.Allocate(1, N); foreach (ref double v in t.Span) v = rng.NextDouble() - 0.5; return t; }
        _e = F(); _a = F(); _b = F(); _y = F(); _src = F(); _dst = F();
        _ed = D(); _ad = D(); _bd = D();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _e, _a, _b, _y, _src, _dst }) t.Dispose();
        _ed.Dispose(); _ad.Dispose(); _bd.Dispose();
    }

    /// <summary>A copy of N floats (N read, N written).</summary>
    [Benchmark(Baseline = true)]
    public void CopyN() => _src.Span.CopyTo(_dst.Span);

    [Benchmark]
    public double ErrorNormFloat() => TensorReductions.ErrorNorm<float>(_e.Span, _a.Span, _b.Span, 1e-3, 1e-3);

    [Benchmark]
    public double ErrorNormDouble() => TensorReductions.ErrorNorm<double>(_ed.Span, _ad.Span, _bd.Span, 1e-3, 1e-3);

    /// <summary>The ODE integrators' norm of a double state fused with the finite check of the new state.</summary>
    [Benchmark]
    public double OdeErrorNormDouble() => GenerativePaths.Ode.OdeNorms.ErrorNorm<double>(_ed.Span, _ad.Span, _bd.Span, 1e-3, default, 1e-3, out _);

    [Benchmark]
    public double DotFloat() => TensorReductions.Dot<float>(_a.Span, _b.Span);

    [Benchmark]
    public double MaxAbsFloat() => TensorReductions.MaxAbs<float>(_a.Span);

    [Benchmark]
    public bool IsFiniteFloat() => TensorReductions.IsFinite<float>(_a.Span);

    /// <summary>The samplers' check of a model output.</summary>
    [Benchmark]
    public bool AllFiniteFloat() => GenerativePaths.Samplers.FiniteCheck.AllFinite<float>(_a.Span);

    /// <summary>The k = 3 combination that also reports whether its output is finite.</summary>
    [Benchmark]
    public bool CombineAllFiniteFloat()
        => TensorKernels.CombineAllFinite(_y.Span, new TensorKernels.Terms<float>(3, 0.5f, _e.Span, 0.25f, _a.Span, -1f, _b.Span,
            0f, default, 0f, default, 0f, default));
}
