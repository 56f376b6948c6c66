using BenchmarkDotNet.Attributes;
using GenerativePaths.Models;
using GenerativePaths.OnnxRuntime;
using GenerativePaths.ParallelInTime;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Benchmarks;

/// <summary>
/// Wall time of parallel-in-time sampling against the sequential run (the baseline) on <c>models/digits-flow.onnx</c>: 100 guided
/// Euler steps (guidance 2) of <see cref="Batch"/> samples, Picard and Anderson with window 32 at tolerance 0.1, and Picard at
/// tolerance 0 (exact), with ONNX Runtime on one intra-op thread (the other core stays free for nothing else: this measures the
/// cost per row of batching the window on a CPU).
/// </summary>
[MemoryDiagnoser]
public class ParallelInTimeBenchmarks
{
    [Params(10, 100)]
    public int Batch { get; set; }

    private OnnxGenerativeModel<float> _model = null!;
    private ClassifierFreeGuidance<float> _guided = null!;
    private StepSchedule _schedule = null!;
    private BatchTensor<float> _start = null!, _x = null!;
    private ModelCondition _condition;
    private readonly Sampler _euler = new EulerSampler();

    [GlobalSetup]
    public void Setup()
    {
        string path = Path.Combine(Repository.Root(), "models", "digits-flow.onnx");
        _model = OnnxGenerativeModel<float>.Load(path, options: new OnnxModelOptions { IntraOpThreads = 1 });
        _guided = new ClassifierFreeGuidance<float>(_model, 2.0, ModelCondition.FromClasses(10));
        _schedule = _model.CreateSchedule(100);
        _start = BatchTensor<float>.Allocate(Batch, 64);
        _x = BatchTensor<float>.Allocate(Batch, 64);
        new Noise.PhiloxNoise(0).Fill(_start, 1_000_000_000);
        var span = _start.Span;
        for (int i = 0; i < span.Length; i++) span[i] *= (float)_schedule[0].Sigma;
        _condition = ModelCondition.FromClasses(Enumerable.Range(0, Batch).Select(i => i % 10).ToArray());
        Console.WriteLine($"// uptime: {ParallelInTimeReport.Uptime()}");
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark(Baseline = true)]
    public void Sequential()
    {
        _start.CopyTo(_x);
        SamplingLoop.Run(_guided, _x, _schedule, _euler, new SamplingOptions<float> { Condition = _condition });
    }

    [Benchmark]
    public int PicardTol01() => Parallel(ParallelAcceleration.Picard, 0.1);

    [Benchmark]
    public int AndersonTol01() => Parallel(ParallelAcceleration.Anderson, 0.1);

    [Benchmark]
    public int PicardExact() => Parallel(ParallelAcceleration.Picard, 0);

    private int Parallel(ParallelAcceleration acceleration, double tol)
    {
        _start.CopyTo(_x);
        return ParallelSampling.Run(_guided, _x, _schedule, _euler, new ParallelSamplingOptions<float>
        {
            Window = 32, Tolerance = tol, Acceleration = acceleration, Condition = _condition,
        }).Statistics.Rounds;
    }
}
