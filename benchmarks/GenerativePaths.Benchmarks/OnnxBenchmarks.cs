using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using GenerativePaths.Models;
using GenerativePaths.OnnxRuntime;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GenerativePaths.Benchmarks;

/// <summary>
/// The ONNX adapter's overhead: <see cref="OnnxGenerativeModel{T}.Evaluate"/> against a raw <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue})"/>
/// on OrtValues over the same buffers (the baseline), on <c>models/digits-flow.onnx</c> at batch 1 and 64; and a 32-step Euler
/// generation (<see cref="Generate32Euler"/>; samples per second = Batch / time).
/// </summary>
/// <remarks>Without <c>models/digits-flow.onnx</c> the benchmark runs on the exact-mixture fixture <c>gmm-flow-n0</c> and says so.</remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class OnnxBenchmarks
{
    [Params(1, 64)]
    public int Batch { get; set; }

    private OnnxGenerativeModel<float> _model = null!;
    private InferenceSession _session = null!;
    private BatchTensor<float> _x = null!, _out = null!, _gen = null!;
    private double[] _times = [];
    private ModelCondition _condition;
    private StepSchedule _schedule = null!;
    private readonly Sampler _euler = new EulerSampler();
    private SamplerState<float> _state = null!;
    private RunOptions _runOptions = null!;
    private string[] _inNames = [], _outNames = [];
    private OrtValue[] _inValues = [], _outValues = [];
    private float[] _rawTime = [];
    private long[] _rawClass = [];

    private static string ModelPath()
    {
        string root = Repository.Root();
        string digits = Path.Combine(root, "models", "digits-flow.onnx");
        if (File.Exists(digits)) return digits;
        Console.WriteLine("// models/digits-flow.onnx not found: benchmarking the fixture gmm-flow-n0 instead");
        return Path.Combine(root, "tests", "GenerativePaths.Tests", "Fixtures", "onnx", "gmm-flow-n0.onnx");
    }

    [GlobalSetup]
    public void Setup()
    {
        string path = ModelPath();
        Console.WriteLine($"// model: {path}");
        _model = OnnxGenerativeModel<float>.Load(path, options: new OnnxModelOptions { IntraOpThreads = 1 });
        var card = _model.Card;
        int[] shape = card.SampleShape.ToArray();
        _x = BatchTensor<float>.Allocate(Batch, shape);
        _out = BatchTensor<float>.Allocate(Batch, shape);
        _gen = BatchTensor<float>.Allocate(Batch, shape);
        new Noise.PhiloxNoise(1).Fill(_x, 0);
        _schedule = _model.CreateSchedule(32);
        _times = Enumerable.Repeat(_schedule[3].ModelTime, Batch).ToArray();
        int[] labels = Enumerable.Range(0, Batch).Select(i => i % (card.Classes ?? 1)).ToArray();
        _condition = card.ClassInput is null ? ModelCondition.None : ModelCondition.FromClasses(labels);
        _state = new SamplerState<float>(_model, _schedule, _gen, condition: _condition);

        // The baseline: a raw session on OrtValues over the same x and output buffers, the time already encoded.
        using (var so = new SessionOptions { IntraOpNumThreads = 1 }) _session = new InferenceSession(path, so);
        _runOptions = new RunOptions();
        long[] dims = [Batch, .. shape.Select(d => (long)d)];
        var names = new List<string> { card.SampleInput!, card.TimeInput! };
        var values = new List<OrtValue> { OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _x.Memory, dims) };
        var timeType = _session.InputMetadata[card.TimeInput!].ElementDataType;
        if (timeType == TensorElementType.Int64)
        {
            var t = _times.Select(v => (long)Math.Round(card.NetworkTime(v))).ToArray();
            values.Add(OrtValue.CreateTensorValueFromMemory(t, [Batch]));
        }
        else
        {
            _rawTime = _times.Select(v => (float)card.NetworkTime(v)).ToArray();
            values.Add(OrtValue.CreateTensorValueFromMemory(_rawTime, [Batch]));
        }
        if (card.ClassInput is not null)
        {
            names.Add(card.ClassInput);
            _rawClass = labels.Select(l => (long)l).ToArray();
            values.Add(OrtValue.CreateTensorValueFromMemory(_rawClass, [Batch]));
        }
        _inNames = names.ToArray();
        _inValues = values.ToArray();
        _outNames = [card.Output];
        _outValues = [OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _out.Memory, dims)];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var v in _inValues) v.Dispose();
        foreach (var v in _outValues) v.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _model.Dispose();
        _x.Dispose(); _out.Dispose(); _gen.Dispose();
    }

    /// <summary>One network call through ONNX Runtime's own API on preallocated OrtValues (no card arithmetic).</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("call")]
    public void RawSessionRun() => _session.Run(_runOptions, _inNames, _inValues, _outNames, _outValues);

    /// <summary>One network call through the adapter: time encoding, bound buffers, output map.</summary>
    [Benchmark, BenchmarkCategory("call")]
    public void AdapterEvaluate() => _model.Evaluate(_x, _times, _condition, _out);

    /// <summary>A whole 32-step Euler generation of <see cref="Batch"/> samples from noise on the card's default plan.</summary>
    [Benchmark, BenchmarkCategory("generate")]
    public void Generate32Euler()
    {
        _x.Span.CopyTo(_gen.Span);
        SamplingLoop.Run(_state, _euler);
    }
}
