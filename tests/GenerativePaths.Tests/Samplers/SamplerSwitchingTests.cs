using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>
/// Switching samplers part-way through a run: the second sampler must not read the first one's history (it restarts at first order),
/// so the switched run equals the oracle, a fresh state of the second sampler started from the switched state on the rest of the schedule.
/// </summary>
public class SamplerSwitchingTests
{
    private static Sampler Make(string name) => name switch
    {
        "lms" => new LmsSampler(),
        "lms2" => new LmsSampler(2),
        "unipc" => new UniPcSampler(),
        "unipc3" => new UniPcSampler(3),
        "dpmpp_2m" => new DpmSolverPlusPlus2MSampler(lowerOrderFinal: false),
        "dpmpp_2m_sde0" => new DpmSolverPlusPlus2MSdeSampler(eta: 0),
        "dpmpp_3m_sde0" => new DpmSolverPlusPlus3MSdeSampler(eta: 0),
        "euler" => new EulerSampler(),
        _ => throw new ArgumentException(name),
    };

    // A VP cosine path with an epsilon model: the samplers' histories (slopes, denoised estimates, UniPC's corrector states) all differ.
    private static readonly TestCosinePath Path = new();
    private static readonly StepSchedule Plan = Schedule(Path, [.. Linspace(0.97, 0.0, 25).SkipLast(1), 0.0]);

    private static GaussianMixtureModel<double> Model() => new(Mix, Prediction.Epsilon, ModelTimeMaps.Path(Path));

    /// <summary>Runs <paramref name="segments"/> (sampler, steps) one after another on one state.</summary>
    private static BatchTensor<double> Switched(params (Sampler Sampler, int Steps)[] segments)
    {
        var x = Normals(3, 4, 17);
        var state = new SamplerState<double>(Model(), Plan, x);
        int i = 0;
        foreach (var (sampler, steps) in segments)
            for (int k = 0; k < steps; k++, i++) { state.BeginStep(i); sampler.Step(state, i); }
        Assert.Equal(Plan.StepCount, i);
        return x;
    }

    /// <summary>The oracle: every segment but the last as in the switched run, then a fresh state of the last sampler
    /// from that x on the remaining schedule.</summary>
    private static BatchTensor<double> FreshStart((Sampler Sampler, int Steps)[] segments)
    {
        var x = Normals(3, 4, 17);
        int done = segments[..^1].Sum(s => s.Steps);
        // The head exactly as the switched run takes it, stopping at the switch.
        var state = new SamplerState<double>(Model(), Plan, x);
        int i = 0;
        foreach (var (sampler, steps) in segments[..^1])
            for (int k = 0; k < steps; k++, i++) { state.BeginStep(i); sampler.Step(state, i); }
        var rest = Plan.StartingAt(done);
        var y = x.Clone();
        SamplingLoop.Run(Model(), y, rest, segments[^1].Sampler);
        x.Dispose();
        return y;
    }

    [Theory]
    [InlineData("lms", "unipc", 8)]
    [InlineData("dpmpp_2m", "lms", 8)]
    [InlineData("unipc", "dpmpp_2m", 8)]
    [InlineData("unipc3", "lms", 5)]
    [InlineData("lms", "dpmpp_3m_sde0", 9)]
    [InlineData("dpmpp_3m_sde0", "unipc3", 9)]
    [InlineData("dpmpp_2m", "dpmpp_2m_sde0", 6)]
    [InlineData("dpmpp_2m_sde0", "dpmpp_3m_sde0", 6)]
    [InlineData("euler", "lms", 3)]
    public void SwitchingMidRunEqualsAFreshStartOfTheSecondSampler(string first, string second, int switchAt)
    {
        var segments = new[] { (Make(first), switchAt), (Make(second), Plan.StepCount - switchAt) };
        using var switched = Switched(segments);
        using var fresh = FreshStart(segments);
        double diff = 0;
        for (int i = 0; i < switched.Length; i++) diff = Math.Max(diff, Math.Abs(switched.Span[i] - fresh.Span[i]));
        Assert.True(diff <= 1e-12, $"{first} -> {second} at step {switchAt}: the switched run differs from a fresh start by {diff:E3}");
    }

    [Theory]
    [InlineData("lms", "unipc", "lms")]
    [InlineData("unipc3", "lms", "unipc3")]
    [InlineData("dpmpp_3m_sde0", "lms2", "dpmpp_3m_sde0")]
    public void SwitchingBackDoesNotReachIntoTheSamplersOwnOlderEntries(string a, string b, string c)
    {
        // a for 6 steps, b for 2, then a again: when it comes back, the sampler's own entries of steps 0-5 are older than b's,
        // and the ring slots of steps 6-7 hold b's quantities; it must restart at first order and then use only its new entries.
        var segments = new[] { (Make(a), 6), (Make(b), 2), (Make(c), Plan.StepCount - 8) };
        using var switched = Switched(segments);
        using var fresh = FreshStart(segments);
        double diff = 0;
        for (int i = 0; i < switched.Length; i++) diff = Math.Max(diff, Math.Abs(switched.Span[i] - fresh.Span[i]));
        Assert.True(diff <= 1e-12, $"{a} -> {b} -> {c}: the switched run differs from a fresh start by {diff:E3}");
    }

    [Fact]
    public void ContinuingWithTheSameSamplerKeepsItsHistory()
    {
        // Not a switch: a second instance with the same name and options continues the first one's history, exactly as one instance does.
        using var one = Switched((new LmsSampler(), Plan.StepCount));
        using var two = Switched((new LmsSampler(), 8), (new LmsSampler(), Plan.StepCount - 8));
        Assert.Equal(one.Span.ToArray(), two.Span.ToArray());
        // ... and that run differs from a restart at step 8, so the comparisons above can fail.
        using var restarted = FreshStart([(new LmsSampler(), 8), (new LmsSampler(), Plan.StepCount - 8)]);
        double diff = 0;
        for (int i = 0; i < one.Length; i++) diff = Math.Max(diff, Math.Abs(one.Span[i] - restarted.Span[i]));
        Assert.True(diff > 1e-8, $"restarting LMS at step 8 changed nothing ({diff:E3}): the switching tests would not see a reused history");
    }

    [Fact]
    public void HistoryTagNamesWriterQuantityStepAndCount()
    {
        using var x = Normals(2, 4, 3);
        var state = new SamplerState<double>(Model(), Plan, x);
        Assert.Null(state.HistoryTag);
        var lms = state.History("lms", "slope", 4);
        lms.Record(0);
        lms.Record(1);
        Assert.Equal(new HistoryTag("lms", "slope", 1, 2), state.HistoryTag);
        Assert.Equal(2, lms.Available(2));
        Assert.Equal(0, lms.Available(3));                                   // a jump: the entry is for another step
        Assert.Equal(0, state.History("unipc", "slope", 4).Available(2));   // another writer
        Assert.Equal(0, state.History("lms", "denoised", 4).Available(2));  // another quantity
        state.History("unipc", "denoised", 4).Record(2);
        Assert.Equal(new HistoryTag("unipc", "denoised", 2, 1), state.HistoryTag);
        Assert.Equal(1, state.History("unipc", "denoised", 4).Available(3));
        state.Reset();
        Assert.Null(state.HistoryTag);
        Assert.Equal(0, lms.Available(2));
    }
}
