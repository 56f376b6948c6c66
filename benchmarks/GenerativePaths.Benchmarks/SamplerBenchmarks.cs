using BenchmarkDotNet.Attributes;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Benchmarks;

/// <summary>
/// 50-step runs of the core samplers with a model that costs nothing, so only the sampler is timed, on float32 latents,
/// against a memory-copy baseline measured in the same run (<see cref="CopyTensor50"/>: 50 copies of one latent, i.e.
/// 100 tensor-sized transfers). A step that must move <c>k</c> tensors (reads + writes) has the traffic limit
/// <c>k / 100</c> of the baseline; see docs/performance.md.
/// </summary>
[MemoryDiagnoser]
public class SamplerBenchmarks
{
    /// <summary>Returns its (fixed) output buffer as an x0 prediction: each run ends at that x0, so repeated runs stay bounded.</summary>
    private sealed class FreeModel : IGenerativeModel<float>
    {
        public Prediction Prediction => Prediction.Data;
        public void Evaluate(BatchTensor<float> x, ReadOnlySpan<double> modelTime, in GenerativePaths.Models.ModelCondition condition, BatchTensor<float> output) { }
    }

    /// <summary>Latent shape: batch x channels x height x width.</summary>
    [Params("1x4x64x64", "1x4x128x128", "8x4x128x128")]
    public string Shape { get; set; } = "1x4x64x64";

    private BatchTensor<float> _x = null!, _copy = null!;
    private SamplerState<float> _state = null!;
    private readonly Sampler _ddim = new DdimSampler(), _euler = new EulerSampler(), _heun = new HeunSampler(), _dpm = new DpmSolverPlusPlus2MSampler();

    [GlobalSetup]
    public void Setup()
    {
        var dims = Shape.Split('x').Select(int.Parse).ToArray();
        _x = BatchTensor<float>.Allocate(dims[0], dims[1..]);
        _copy = BatchTensor<float>.AllocateLike(_x);
        new Noise.PhiloxNoise(1).Fill(_x, 0);
        // A VP-like schedule of 50 steps ending at the clean point (alpha = cos, sigma = sin of a uniform grid).
        var points = Enumerable.Range(0, 51).Select(i => 0.98 * (50 - i) / 50).Select(t => new SchedulePoint(Math.Cos(Math.PI * t / 2), Math.Sin(Math.PI * t / 2), t));
        var schedule = new StepSchedule(new VarianceExplodingPath(0, 1e3), points);
        _state = new SamplerState<float>(new FreeModel(), schedule, _x);
        new Noise.PhiloxNoise(2).Fill(_state.ModelOutput, 0);
        new Noise.PhiloxNoise(3).Fill(_state.SecondOutput, 0);
        foreach (var s in new[] { _ddim, _euler, _heun, _dpm }) SamplingLoop.Run(_state, s); // allocate scratch and history once
        new Noise.PhiloxNoise(1).Fill(_x, 0);
    }

    /// <summary>The memory-bandwidth baseline: 50 copies of one latent tensor.</summary>
    [Benchmark(Baseline = true)]
    public void CopyTensor50()
    {
        for (int i = 0; i < 50; i++) _x.Span.CopyTo(_copy.Span);
    }

    /// <summary>DDIM (eta = 0), 50 steps.</summary>
    [Benchmark]
    public void Ddim50() => SamplingLoop.Run(_state, _ddim);

    /// <summary>Euler, 50 steps.</summary>
    [Benchmark]
    public void Euler50() => SamplingLoop.Run(_state, _euler);

    /// <summary>Heun, 50 steps (99 model evaluations).</summary>
    [Benchmark]
    public void Heun50() => SamplingLoop.Run(_state, _heun);

    /// <summary>DPM-Solver++(2M), 50 steps.</summary>
    [Benchmark]
    public void DpmPlusPlus2M50() => SamplingLoop.Run(_state, _dpm);
}
