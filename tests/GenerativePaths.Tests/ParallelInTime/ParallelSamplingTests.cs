using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.ParallelInTime;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using GenerativePaths.Tests.Samplers;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.ParallelInTime;

/// <summary>The oracle is the sequential <see cref="SamplingLoop"/> run with the same noise.</summary>
public class ParallelSamplingTests
{
    /// <summary>Every sampler of the library: the shared list the property tests use, plus the multistep and midpoint samplers.</summary>
    public static Sampler[] Samplers() =>
    [
        .. AllSamplers(),
        new LmsSampler(), new LmsSampler(order: 3), new UniPcSampler(), new UniPcSampler(solverOrder: 3), new DpmSolver2Sampler(), new DpmSolver2Sampler(sChurn: 1.0),
    ];

    public static TheoryData<int> SamplerIndices()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < Samplers().Length; i++) d.Add(i);
        return d;
    }

    private static (BatchTensor<double> Sample, SamplingStatistics Stats) Sequential(IGenerativeModel<double> model, BatchTensor<double> x0, StepSchedule schedule, Sampler sampler, ModelCondition condition = default)
    {
        var x = x0.Clone();
        var r = SamplingLoop.Run(model, x, schedule, sampler, new PhiloxNoise(5), new SamplingOptions<double> { Condition = condition });
        return (x, r.Statistics);
    }

    /// <summary>n points from <paramref name="top"/> down to exactly 0.</summary>
    private static IEnumerable<double> Down(double top, int n) => Enumerable.Range(0, n).Select(i => top * (n - 1 - i) / (n - 1));

    private static double MaxAbsDiff(BatchTensor<double> a, BatchTensor<double> b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a.Span[i] - b.Span[i]));
        return m;
    }

    [Theory]
    [MemberData(nameof(SamplerIndices))]
    public void ToleranceZeroReproducesTheSequentialRunForEverySampler(int k)
    {
        var sampler = Samplers()[k];
        var path = new TestCosinePath();
        var schedule = Schedule(path, Down(0.98, 21));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var x0 = Normals(5, 4, 17);
        var (expected, seq) = Sequential(model, x0, schedule, sampler);
        foreach (var acceleration in new[] { ParallelAcceleration.Picard, ParallelAcceleration.Anderson })
        foreach (int window in new[] { 1, 4, 32 })
        {
            var x = x0.Clone();
            var result = ParallelSampling.Run(model, x, schedule, sampler, new PhiloxNoise(5), new ParallelSamplingOptions<double> { Window = window, Acceleration = acceleration });
            Assert.True(MaxAbsDiff(expected, x) <= 1e-12, $"{sampler.Name} window {window} {acceleration}: differs by {MaxAbsDiff(expected, x)}");
            Assert.True(result.Statistics.Converged);
            Assert.Equal(seq.ModelEvaluations, result.Statistics.SequentialModelCalls);
            Assert.True(result.Statistics.Rounds <= seq.ModelEvaluations, $"{sampler.Name} window {window}: {result.Statistics.Rounds} rounds for {seq.ModelEvaluations} calls");
            // Window 1 is the sequential run, one call at a time; a call may still be settled without a round of its own when a sweep
            // reproduces its input bit for bit (an adaptive step retrying from the same state).
            if (window == 1) Assert.True(result.Statistics.Rounds >= seq.ModelEvaluations - seq.ModelEvaluations / 10);
            Assert.Equal(20, result.Statistics.RoundOfStep.Length);
            for (int i = 1; i < 20; i++) Assert.True(result.Statistics.RoundOfStep[i] >= result.Statistics.RoundOfStep[i - 1]);
            Assert.Equal(0, result.Statistics.LargestAcceptedError);
        }
    }

    /// <summary>Three paths and the prediction each is usually trained with: VP (epsilon), rectified flow (flow velocity), VE with Karras sigmas (x0).</summary>
    private static (string Name, StepSchedule Schedule, GaussianMixtureModel<double> Model) Problem(int which) => which switch
    {
        0 => ("vp", Schedule(new TestCosinePath(), Down(0.98, 16)), new GaussianMixtureModel<double>(Mix, Prediction.Velocity, ModelTimeMaps.Path(new TestCosinePath()))),
        1 => ("flow", Schedule(new TestFlowPath(), Down(1.0, 16)), new GaussianMixtureModel<double>(Mix, Prediction.FlowVelocity, ModelTimeMaps.Path(new TestFlowPath()))),
        _ => ("ve", StepSchedules.Karras(15, 0.02, 40), new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding())),
    };

    [Theory]
    [MemberData(nameof(SamplerIndices))]
    public void ToleranceZeroReproducesTheSequentialRunOnEveryPath(int k)
    {
        var sampler = Samplers()[k];
        for (int p = 0; p < 3; p++)
        {
            var (name, schedule, model) = Problem(p);
            using var x0 = Normals(4, 4, 29);
            for (int i = 0; i < x0.Length; i++) x0.Span[i] *= schedule[0].Sigma;
            var expected = x0.Clone();
            Exception? sequentialError = null;
            try { SamplingLoop.Run(model, expected, schedule, sampler, new PhiloxNoise(5)); }
            catch (Exception e) { sequentialError = e; }
            var x = x0.Clone();
            if (sequentialError is not null)
            {
                // A sampler that refuses a path refuses it in parallel too, with the same exception.
                var e = Record.Exception(() => ParallelSampling.Run(model, x, schedule, sampler, new PhiloxNoise(5), new ParallelSamplingOptions<double> { Window = 6 }));
                Assert.True(e is not null && e.GetType() == sequentialError.GetType(), $"{sampler.Name} on {name}: sequential threw {sequentialError.GetType().Name}, parallel {e?.GetType().Name ?? "nothing"}");
                continue;
            }
            var r = ParallelSampling.Run(model, x, schedule, sampler, new PhiloxNoise(5), new ParallelSamplingOptions<double> { Window = 6 });
            Assert.True(MaxAbsDiff(expected, x) <= 1e-12 * Math.Max(1, schedule[0].Sigma), $"{sampler.Name} on {name}: differs by {MaxAbsDiff(expected, x)}");
            Assert.True(r.Statistics.Converged);
        }
    }

    [Fact]
    public void ToleranceZeroIsBitIdenticalOnAVpScheduleWithAWideWindow()
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Down(0.99, 101));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Velocity, ModelTimeMaps.Path(path));
        using var x0 = Normals(8, 4, 3);
        var sampler = new DpmSolverPlusPlus2MSampler();
        var (expected, _) = Sequential(model, x0, schedule, sampler);
        var x = x0.Clone();
        ParallelSampling.Run(model, x, schedule, sampler, new PhiloxNoise(5), new ParallelSamplingOptions<double> { Window = 100 });
        Assert.Equal(expected.ToRows(), x.ToRows());
    }

    [Fact]
    public void FloatRunsAreBitIdenticalToTheSequentialFloatRun()
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Down(0.98, 31));
        var model = new GaussianMixtureModel<float>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var x0 = BatchTensor<float>.Allocate(6, 4);
        new PhiloxNoise(9).Fill(x0, 1000);
        var expected = x0.Clone();
        SamplingLoop.Run(model, expected, schedule, new EulerAncestralSampler(), new PhiloxNoise(5));
        var x = x0.Clone();
        ParallelSampling.Run(model, x, schedule, new EulerAncestralSampler(), new PhiloxNoise(5), new ParallelSamplingOptions<float> { Window = 8 });
        Assert.Equal(expected.ToRows(), x.ToRows());
    }

    [Fact]
    public void ClassifierFreeGuidanceAndClassConditionsAreReplicatedPerRow()
    {
        var path = new TestCosinePath();
        var classes = new[]
        {
            GaussianMixture.Isotropic([1.0], [[-1.5, 0.5, 1.0, 0.0]], [0.4]),
            GaussianMixture.Isotropic([1.0], [[1.0, -1.0, 0.5, 2.0]], [0.6]),
            GaussianMixture.Isotropic([1.0], [[0.0, 2.0, -1.5, -0.5]], [0.3]),
        };
        var inner = GaussianMixtureModel<double>.ClassConditional(classes, Mix, 3, Prediction.Epsilon, ModelTimeMaps.Path(path));
        var guided = new ClassifierFreeGuidance<double>(inner, 2.5, ModelCondition.FromClasses(3));
        var condition = ModelCondition.FromClasses(0, 1, 2, 1, 0);
        var schedule = Schedule(path, Down(0.98, 26));
        using var x0 = Normals(5, 4, 23);
        var (expected, seq) = Sequential(guided, x0, schedule, new DdimSampler(), condition);
        var x = x0.Clone();
        var r = ParallelSampling.Run(guided, x, schedule, new DdimSampler(), new PhiloxNoise(5), new ParallelSamplingOptions<double> { Window = 10, Condition = condition });
        Assert.True(MaxAbsDiff(expected, x) <= 1e-12, $"differs by {MaxAbsDiff(expected, x)}");
        Assert.True(r.Statistics.Rounds < seq.ModelEvaluations);
    }

    [Fact]
    public void SplittingTheBatchWithSampleIdsGivesTheSameRows()
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Down(0.98, 16));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var whole = Normals(6, 4, 31);
        var left = BatchTensor<double>.FromRows(whole.ToRows()[..2]);
        var right = BatchTensor<double>.FromRows(whole.ToRows()[2..]);
        var options = new ParallelSamplingOptions<double> { Window = 6, Tolerance = 1e-3 };
        ParallelSampling.Run(model, whole, schedule, new DdpmSampler(), new PhiloxNoise(5), options);
        // Each part alone, with its rows' global ids, draws the same noise; with tolerance 0 every row equals the sequential run.
        var exact = new ParallelSamplingOptions<double> { Window = 6 };
        var wholeExact = Normals(6, 4, 31);
        ParallelSampling.Run(model, wholeExact, schedule, new DdpmSampler(), new PhiloxNoise(5), exact);
        ParallelSampling.Run(model, left, schedule, new DdpmSampler(), new PhiloxNoise(5), new ParallelSamplingOptions<double> { Window = 6, SampleIds = new long[] { 0, 1 } });
        ParallelSampling.Run(model, right, schedule, new DdpmSampler(), new PhiloxNoise(5), new ParallelSamplingOptions<double> { Window = 6, SampleIds = new long[] { 2, 3, 4, 5 } });
        Assert.Equal(wholeExact.ToRows(), left.ToRows().Concat(right.ToRows()).ToArray());
    }

    [Theory]
    [InlineData(ParallelAcceleration.Picard)]
    [InlineData(ParallelAcceleration.Anderson)]
    public void APositiveToleranceStopsEarlierAtASmallDifference(ParallelAcceleration acceleration)
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Down(0.99, 101));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var x0 = Normals(16, 4, 41);
        var (expected, _) = Sequential(model, x0, schedule, new DdimSampler());
        var x = x0.Clone();
        var r = ParallelSampling.Run(model, x, schedule, new DdimSampler(), new PhiloxNoise(5),
            new ParallelSamplingOptions<double> { Window = 32, Tolerance = 1e-3, Acceleration = acceleration });
        Assert.True(r.Statistics.Converged);
        Assert.True(r.Statistics.Rounds < 40, $"{r.Statistics.Rounds} rounds");
        // The samples lie at scale ~1; a tolerance of 1e-3 relative to sigma keeps the sample within a few 1e-2.
        Assert.True(MaxAbsDiff(expected, x) < 0.05, $"differs by {MaxAbsDiff(expected, x)}");
        Assert.True(r.Statistics.LargestAcceptedError <= 1e-6);
    }

    [Fact]
    public void AndersonNeedsNoMoreRoundsThanPicardOnAFlowModel()
    {
        var path = new TestFlowPath();
        var schedule = Schedule(path, Down(1.0, 101));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.FlowVelocity, ModelTimeMaps.Path(path));
        using var x0 = Normals(16, 4, 43);
        int Rounds(ParallelAcceleration a)
        {
            var x = x0.Clone();
            return ParallelSampling.Run(model, x, schedule, new EulerSampler(), new PhiloxNoise(5),
                new ParallelSamplingOptions<double> { Window = 100, Tolerance = 1e-4, Acceleration = a }).Statistics.Rounds;
        }
        int picard = Rounds(ParallelAcceleration.Picard), anderson = Rounds(ParallelAcceleration.Anderson);
        Assert.True(anderson <= picard, $"Anderson {anderson} rounds, Picard {picard}");
    }

    /// <summary>A model that is finite only at the inputs (row bits and time) the sequential run asked it for: everywhere else NaN.</summary>
    private sealed class FiniteOnlyOnTheSequentialPath(IGenerativeModel<double> inner) : IGenerativeModel<double>
    {
        private readonly HashSet<string> _seen = [];
        public bool Recording { get; set; } = true;
        public Prediction Prediction => inner.Prediction;

        private static string Key(ReadOnlySpan<double> row, double t)
            => t.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + ":" + Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row));

        public void Evaluate(BatchTensor<double> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<double> output)
        {
            inner.Evaluate(x, modelTime, condition, output);
            for (int b = 0; b < x.BatchSize; b++)
            {
                string key = Key(x.Row(b), modelTime[b]);
                if (Recording) _seen.Add(key);
                else if (!_seen.Contains(key)) output.Row(b).Fill(double.NaN);
            }
        }
    }

    [Theory]
    [InlineData(ParallelAcceleration.Picard)]
    [InlineData(ParallelAcceleration.Anderson)]
    public void AModelThatIsNonFiniteAwayFromTheTrajectoryDoesNotStopAnExactRun(ParallelAcceleration acceleration)
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Down(0.98, 21));
        var model = new FiniteOnlyOnTheSequentialPath(new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path)));
        using var x0 = Normals(3, 4, 5);
        foreach (var sampler in new Sampler[] { new DdimSampler(), new HeunSampler(), new DpmSolverPlusPlus2MSampler(), new EulerAncestralSampler() })
        {
            model.Recording = true;
            var (expected, seq) = Sequential(model, x0, schedule, sampler);
            model.Recording = false;
            var x = x0.Clone();
            var r = ParallelSampling.Run(model, x, schedule, sampler, new PhiloxNoise(5), new ParallelSamplingOptions<double> { Window = 8, Acceleration = acceleration });
            Assert.Equal(expected.ToRows(), x.ToRows());
            Assert.True(r.Statistics.Rounds <= seq.ModelEvaluations);
        }
    }

    [Fact]
    public void MaxRoundsStopsTheRunAndSaysSo()
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Down(0.98, 41));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var x = Normals(4, 4, 1);
        var r = ParallelSampling.Run(model, x, schedule, new EulerSampler(), new ParallelSamplingOptions<double> { Window = 8, MaxRounds = 3 });
        Assert.False(r.Statistics.Converged);
        Assert.Equal(3, r.Statistics.Rounds);
        foreach (var v in x.Span) Assert.True(double.IsFinite(v));
    }

    [Fact]
    public void BadOptionsAndReplayTapesAreRefusedWithTheirName()
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Down(0.98, 5));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var x = Normals(2, 4, 1);
        Assert.Contains("Window", Assert.Throws<ArgumentException>(() => ParallelSampling.Run(model, x, schedule, new DdimSampler(), new ParallelSamplingOptions<double> { Window = 0 })).Message);
        Assert.Contains("Tolerance", Assert.Throws<ArgumentException>(() => ParallelSampling.Run(model, x, schedule, new DdimSampler(), new ParallelSamplingOptions<double> { Tolerance = double.NaN })).Message);
        Assert.Contains("AndersonMemory", Assert.Throws<ArgumentException>(() => ParallelSampling.Run(model, x, schedule, new DdimSampler(), new ParallelSamplingOptions<double> { AndersonMemory = 0 })).Message);
        Assert.Contains("MaxRounds", Assert.Throws<ArgumentException>(() => ParallelSampling.Run(model, x, schedule, new DdimSampler(), new ParallelSamplingOptions<double> { MaxRounds = -1 })).Message);
        Assert.Contains("sample ids", Assert.Throws<ArgumentException>(() => ParallelSampling.Run(model, x, schedule, new DdimSampler(), new ParallelSamplingOptions<double> { SampleIds = new long[] { 1 } })).Message);
        var tape = new ReplayNoise([new double[2][] { new double[4], new double[4] }]);
        Assert.Contains("counter-based", Assert.Throws<ArgumentException>(() => ParallelSampling.Run(model, x, schedule, new DdpmSampler(), tape)).Message);
    }

    [Fact]
    public void ANonFiniteInitialStateIsNamed()
    {
        var path = new TestCosinePath();
        var schedule = Schedule(path, Down(0.98, 5));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Epsilon, ModelTimeMaps.Path(path));
        using var x = Normals(2, 4, 1);
        x.Span[5] = double.NaN;
        Assert.Throws<NonFiniteStateException>(() => ParallelSampling.Run(model, x, schedule, new DdimSampler()));
    }
}
