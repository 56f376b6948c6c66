using System.Diagnostics;
using System.Numerics;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using GenerativePaths.Tests.Samplers;
using Xunit;
using Xunit.Abstractions;

namespace GenerativePaths.Tests.Fuzz;

/// <summary>
/// Random combinations of sampler x schedule x path x prediction x steps (1-60) x precision x batch (1-9), including custom lists
/// with repeated points and early zeros, under a fixed seed. Every run ends with a finite sample or a named library exception,
/// and a re-run with the same noise seed is bit-identical.
/// </summary>
/// <remarks>
/// Named exceptions: <see cref="NonFiniteModelOutputException"/>, <see cref="NonFiniteStateException"/>, and
/// <see cref="ArgumentException"/> or <see cref="InvalidOperationException"/> (exactly those types or their library subclasses) with a
/// non-empty message. Never allowed: NullReference, IndexOutOfRange, InvalidCast, DivideByZero, Overflow, any other type, or a silent NaN.
/// </remarks>
public class SamplerFuzzTests(ITestOutputHelper output)
{
    private const int Combinations = 10_000;
    private const int Seed = 20261201;

    private static readonly GaussianMixture Mix = GaussianMixture.Isotropic([0.4, 0.6], [[-1.0, 0.5], [1.2, -0.8]], [0.3, 0.5]);

    private static readonly Prediction[] Predictions = [Prediction.Epsilon, Prediction.Data, Prediction.Velocity, Prediction.FlowVelocity, Prediction.Score];

    private static readonly NoisePath[] Paths = BuildPaths();

    private static NoisePath[] BuildPaths()
    {
        var zsnr = BetaSchedules.RescaleZeroTerminalSnr(BetaSchedules.ScaledLinear(1000));
        return
        [
            new LinearVpPath(), new CosineVpPath(), new TrigonometricPath(), new RectifiedFlowPath(),
            new DiscreteVpPath(BetaSchedules.AlphasCumprod(BetaSchedules.Linear(1000))),
            new DiscreteVpPath(BetaSchedules.AlphasCumprod(BetaSchedules.SquaredCosCapV2(100))),
            new DiscreteVpPath(BetaSchedules.AlphasCumprod(zsnr)),
        ];
    }

    private sealed record Outcome(string Kind, string Detail);

    [Fact]
    public void RandomCombinationsEndFiniteOrWithANamedException()
    {
        var rng = new Random(Seed);
        Sampler[] samplers = [.. SamplerReliabilityTests.EverySampler(), .. DiffusersSchedulerSamplerTests.NewSamplers()];
        var tally = new Dictionary<string, int>();
        var failures = new List<string>();
        var examples = new Dictionary<string, List<string>>();
        var sw = Stopwatch.StartNew();
        for (int c = 0; c < Combinations; c++)
        {
            int k = rng.Next(samplers.Length);
            var prediction = Predictions[rng.Next(Predictions.Length)];
            int steps = rng.Next(1, 61), batch = rng.Next(1, 10);
            bool useFloat = rng.Next(2) == 0;
            ulong noiseSeed = (ulong)rng.NextInt64();
            string what;
            StepSchedule schedule;
            try { schedule = RandomSchedule(rng, steps, out what); }
            catch (ArgumentException e) when (e.Message.Length > 0) { Count(tally, "schedule rejected: ArgumentException"); continue; }
            string label = $"#{c} {samplers[k].Name}/{k} {prediction} {what} steps={schedule.StepCount} B={batch} {(useFloat ? "float" : "double")}";
            var first = useFloat ? Run<float>(samplers[k], schedule, prediction, batch, noiseSeed) : Run<double>(samplers[k], schedule, prediction, batch, noiseSeed);
            Count(tally, first.Kind);
            if (first.Kind != "finite" && examples.GetValueOrDefault(first.Kind) is not { Count: >= 3 })
                (examples.TryGetValue(first.Kind, out var l) ? l : examples[first.Kind] = []).Add($"{label}: {first.Detail}");
            if (first.Kind.StartsWith("BAD", StringComparison.Ordinal)) { failures.Add($"{label}: {first.Kind} {first.Detail}"); continue; }
            var again = useFloat ? Run<float>(samplers[k], schedule, prediction, batch, noiseSeed) : Run<double>(samplers[k], schedule, prediction, batch, noiseSeed);
            if (again != first) failures.Add($"{label}: not reproducible ({first.Kind} then {again.Kind})");
        }
        sw.Stop();
        output.WriteLine($"{Combinations} combinations in {sw.Elapsed.TotalSeconds:F1} s");
        foreach (var (kind, n) in tally.OrderByDescending(p => p.Value)) output.WriteLine($"{n,6}  {kind}");
        foreach (var (kind, list) in examples)
            foreach (var e in list) output.WriteLine($"  e.g. {kind}: {e}");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        // Its time is reported above, not asserted: a timer in a test fails on a loaded machine (.ci/run's total is the bound).
    }

    private static void Count(Dictionary<string, int> tally, string kind) => tally[kind] = tally.GetValueOrDefault(kind) + 1;

    private static Outcome Run<T>(Sampler sampler, StepSchedule schedule, Prediction prediction, int batch, ulong noiseSeed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = new GaussianMixtureModel<T>(Mix, prediction, ModelTimeMaps.Path(schedule.Path));
        var x = BatchTensor<T>.Allocate(batch, Mix.Dimension);
        new PhiloxNoise(noiseSeed).Fill(x, 1_000_000);
        var start = schedule[0];
        var span = x.Span;
        for (int i = 0; i < span.Length; i++) span[i] *= T.CreateTruncating(start.Sigma);
        try
        {
            SamplingLoop.Run(model, x, schedule, sampler, new PhiloxNoise(noiseSeed));
        }
        catch (Exception e)
        {
            string kind = e switch
            {
                NonFiniteModelOutputException => "NonFiniteModelOutputException",
                NonFiniteStateException => "NonFiniteStateException",
                NullReferenceException or IndexOutOfRangeException or InvalidCastException or DivideByZeroException or OverflowException => "BAD " + e.GetType().Name,
                ArgumentException or InvalidOperationException when e.Message.Length > 0 => e.GetType().Name,
                _ => "BAD " + e.GetType().Name,
            };
            return new Outcome(kind, e.Message);
        }
        for (int i = 0; i < span.Length; i++)
            if (!T.IsFinite(span[i])) return new Outcome("BAD silent non-finite sample", $"element {i} = {span[i]}");
        // The bits of the sample identify the run for the re-run comparison.
        var hash = new HashCode();
        for (int i = 0; i < span.Length; i++) hash.Add(span[i]);
        return new Outcome("finite", hash.ToHashCode().ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A custom list of <paramref name="n"/> non-increasing values from <paramref name="hi"/>, with repeats and early zeros.</summary>
    private static double[] CustomList(Random rng, int n, double hi, double lo, bool logScale)
    {
        var v = new double[n];
        double current = hi;
        bool zeros = false;
        int zeroFrom = rng.Next(4) == 0 ? rng.Next(1, n + 1) : n + 1;
        for (int i = 0; i < n; i++)
        {
            if (i >= zeroFrom) zeros = true;
            if (zeros) { v[i] = 0; continue; }
            if (i > 0 && rng.Next(5) != 0)
            {
                double f = rng.NextDouble();
                current = logScale ? Math.Exp(Math.Log(current) + f * (Math.Log(lo) - Math.Log(current)) / 3) : current - f * (current - lo) / 3;
            }
            v[i] = current;
        }
        return v;
    }

    private static StepSchedule RandomSchedule(Random rng, int steps, out string what)
    {
        double[] sMin = [1e-200, 1e-5, 0.002, 0.03, 0.5];
        double[] sMax = [0.8, 1.0, 14.6, 80.0, 1e4];
        switch (rng.Next(8))
        {
            case 0:
                {
                    double lo = sMin[rng.Next(sMin.Length)], hi = Math.Max(lo, sMax[rng.Next(sMax.Length)]);
                    what = $"karras({lo}, {hi})";
                    return StepSchedules.Karras(steps, lo, hi, rng.Next(2) == 0 ? 7.0 : 1.0 + 9 * rng.NextDouble());
                }
            case 1:
                {
                    double lo = sMin[rng.Next(1, sMin.Length)], hi = Math.Max(lo, sMax[rng.Next(sMax.Length)]);
                    what = $"exponential({lo}, {hi})";
                    return StepSchedules.Exponential(steps, lo, hi);
                }
            case 2:
                {
                    double lo = sMin[rng.Next(sMin.Length)], hi = Math.Max(lo, sMax[rng.Next(sMax.Length)]);
                    what = $"polyexponential({lo}, {hi})";
                    return StepSchedules.PolyExponential(steps, lo, hi, 0.5 + 2 * rng.NextDouble());
                }
            case 3:
                what = "vp";
                return StepSchedules.Vp(steps);
            case 4:
                {
                    double shift = new[] { 1.0, 3.0, 0.2, 0.01, 20.0 }[rng.Next(5)];
                    what = $"flow(shift {shift})";
                    return StepSchedules.Flow(steps, FlowTimeShift.Static(shift), modelTimeScale: 1.0, timeMin: rng.Next(3) == 0 ? 0.05 : 0.0);
                }
            case 5:
                {
                    var list = CustomList(rng, steps + 1, rng.Next(3) == 0 ? 1.0 : rng.NextDouble(), 0.0, logScale: false);
                    what = $"flow sigmas [{string.Join(", ", list.Take(6))}...]";
                    return StepSchedules.FromFlowSigmas(list, modelTimeScale: 1.0);
                }
            case 6:
                {
                    var path = Paths[rng.Next(Paths.Length)];
                    var list = CustomList(rng, steps + 1, sMax[rng.Next(sMax.Length)], 1e-3, logScale: true);
                    what = $"{path.GetType().Name} sigma/alpha list [{string.Join(", ", list.Take(6))}...]";
                    return StepSchedules.FromSigmaOverAlpha(path, list);
                }
            default:
                {
                    var path = (DiscreteVpPath)Paths[4 + rng.Next(3)];
                    double top = path.TimeMax;
                    var list = CustomList(rng, steps, top, 0, logScale: false).Select(Math.Floor).ToArray();
                    what = $"discrete timesteps (T = {top + 1}) [{string.Join(", ", list.Take(6))}...]";
                    return StepSchedules.FromTimesteps(path, list);
                }
        }
    }
}
