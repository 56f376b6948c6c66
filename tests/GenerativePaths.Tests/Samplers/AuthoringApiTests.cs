using GenerativePaths.Models;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>
/// The sampler-authoring API of <see cref="SamplerState{T}"/>: <c>Denoise</c> and <c>Set</c> (guards, fused checks, the two-output
/// pass), named buffers, tagged history rings and per-row coefficients (rows at different schedule points in one call).
/// </summary>
public class AuthoringApiTests
{
    private static StepSchedule CosineSchedule(int n) => Schedule(new TestCosinePath(), Linspace(0.95, 0.05, n + 1));

    private static GaussianMixtureModel<double> EpsilonModel() => new(Mix, Prediction.Epsilon, ModelTimeMaps.Path(new TestCosinePath()));

    [Fact]
    public void AnEstimateWhoseInputWasOverwrittenIsRefused()
    {
        using var x = Normals(3, 4, 1);
        var state = new SamplerState<double>(EpsilonModel(), CosineSchedule(4), x);
        state.BeginStep(0);
        var d = state.Denoise(x, state.Schedule[0]);
        state.Set(x, state.Schedule[1].Alpha * d + state.Schedule[1].Sigma * d.Eps);
        var e = Assert.Throws<InvalidOperationException>(() => state.Set(state.Buffer("x0"), d));
        Assert.Contains("overwritten", e.Message);
        // Stored before the overwrite, it stays usable.
        state.BeginStep(1);
        var d1 = state.Denoise(x, state.Schedule[1]);
        var x0 = state.Buffer("x0");
        state.Set(x0, d1);
        state.Set(x, 0.5 * x + 0.5 * x0);
        Assert.Throws<InvalidOperationException>(() => state.Set(x0, d1.Eps));
    }

    [Fact]
    public void AnEstimateOfAnEarlierStepIsRefusedOnceItsOutputBufferIsReused()
    {
        using var x = Normals(2, 4, 2);
        using var copy = Normals(2, 4, 2);
        var state = new SamplerState<double>(EpsilonModel(), CosineSchedule(4), x);
        state.BeginStep(0);
        var old = state.Denoise(copy, state.Schedule[0]);
        state.BeginStep(1);
        state.Denoise(x, state.Schedule[1]);                  // writes the same first output buffer
        Assert.Throws<InvalidOperationException>(() => state.Set(state.Buffer("y"), old));
    }

    [Fact]
    public void EachEvaluationOfAStepHasItsOwnOutput()
    {
        using var x = Normals(2, 4, 3);
        var state = new SamplerState<double>(EpsilonModel(), CosineSchedule(4), x);
        state.BeginStep(0);
        var outputs = Enumerable.Range(0, 5).Select(_ => state.Denoise(x, state.Schedule[0]).Output).ToArray();
        Assert.Equal(5, outputs.Distinct().Count());
        Assert.Same(state.ModelOutput, outputs[0]);
        Assert.Same(state.SecondOutput, outputs[1]);
        Assert.Same(state.Buffer("a"), state.Buffer("a"));
        Assert.NotSame(state.Buffer("a"), state.Buffer("b"));
    }

    private sealed class NaNModel : IGenerativeModel<double>
    {
        public Prediction Prediction => Prediction.Epsilon;
        public void Evaluate(BatchTensor<double> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<double> output)
        {
            output.Span.Clear();
            output.Row(output.BatchSize - 1)[1] = double.NaN;
        }
    }

    [Fact]
    public void ANonFiniteModelOutputIsBlamedOnTheModelByTheFusedCheck()
    {
        using var x = Normals(3, 4, 4);
        var state = new SamplerState<double>(new NaNModel(), CosineSchedule(4), x);
        state.BeginStep(2);
        var d = state.Denoise(x, state.Schedule[2]);
        var e = Assert.Throws<NonFiniteModelOutputException>(() => state.Set(x, state.Schedule[3].Alpha * d + state.Schedule[3].Sigma * d.Eps));
        Assert.Equal(2, e.SampleIndex);
    }

    private sealed class IgnoresTheModel : Sampler
    {
        public override string Name => "ignores_the_model";

        public override void Step<T>(SamplerState<T> state, int index)
        {
            state.Denoise(state.X, state.Schedule[index]);   // evaluated, never read
            state.Set(state.X, 0.5 * state.X);
        }
    }

    [Fact]
    public void AModelOutputNoUpdateReadsIsCheckedAtTheEndOfItsStep()
    {
        using var x = Normals(3, 4, 9);
        var e = Assert.Throws<NonFiniteModelOutputException>(() => SamplingLoop.Run(new NaNModel(), x, CosineSchedule(4), new IgnoresTheModel()));
        Assert.Equal(0, e.StepIndex);
        Assert.Equal(2, e.SampleIndex);
    }

    [Fact]
    public void TheTwoOutputPassEqualsTwoPasses()
    {
        var schedule = CosineSchedule(6);
        using var x1 = Normals(4, 4, 5);
        using var x2 = Normals(4, 4, 5);
        using var prev = Normals(4, 4, 6);
        var s1 = new SamplerState<double>(EpsilonModel(), schedule, x1);
        var s2 = new SamplerState<double>(EpsilonModel(), schedule, x2);
        s1.BeginStep(1); s2.BeginStep(1);
        var d1 = s1.Denoise(x1, schedule[1]);
        var d2 = s2.Denoise(x2, schedule[1]);
        var e1 = s1.Buffer("e");
        var e2 = s2.Buffer("e");
        s1.Set(e1, d1, x1, 0.9 * x1 + 0.3 * e1 - 0.1 * prev);  // one pass
        s2.Set(e2, d2);
        s2.Set(x2, 0.9 * x2 + 0.3 * e2 - 0.1 * prev);         // two passes
        Assert.Equal(e2.Span.ToArray(), e1.Span.ToArray());
        Assert.Equal(x2.Span.ToArray(), x1.Span.ToArray());

        // The same with the noise estimate as the stored value (LMS, PLMS and DEIS keep slopes).
        s1.BeginStep(2); s2.BeginStep(2);
        d1 = s1.Denoise(x1, schedule[2]);
        d2 = s2.Denoise(x2, schedule[2]);
        s1.Set(e1, d1.Eps, x1, 1.1 * x1 - 0.2 * e1);
        s2.Set(e2, d2.Eps);
        s2.Set(x2, 1.1 * x2 - 0.2 * e2);
        Assert.Equal(e2.Span.ToArray(), e1.Span.ToArray());
        Assert.Equal(x2.Span.ToArray(), x1.Span.ToArray());
    }

    [Fact]
    public void HistoryRingsCountConsecutiveStepsPerWriterAndQuantity()
    {
        using var x = Normals(1, 4, 7);
        var state = new SamplerState<double>(EpsilonModel(), CosineSchedule(8), x);
        var ring = state.History("ab", "eps", 3);
        Assert.Same(ring, state.History("ab", "eps", 3));
        Assert.NotSame(ring, state.History("ab", "denoised", 3));
        Assert.NotSame(ring, state.History("other", "eps", 3));
        Assert.Throws<ArgumentException>(() => state.History("ab", "eps", 4));
        Assert.Equal(0, ring.Available(0));
        ring.Record(0); ring.Record(1); ring.Record(2); ring.Record(3);
        Assert.Equal(3, ring.Available(4));                   // capped at the capacity
        Assert.Equal(0, ring.Available(5));                   // step 4 was not recorded: a jump
        Assert.Same(ring[0], ring[3]);                        // slot = step mod capacity
        ring.Record(3);                                       // an entry rewritten keeps the count
        Assert.Equal(3, ring.Available(4));
        ring.Record(6);                                       // after a gap the count restarts
        Assert.Equal(1, ring.Available(7));
        Assert.Equal(new HistoryTag("ab", "eps", 6, 1), state.HistoryTag);
        state.Reset();
        Assert.Equal(0, ring.Available(7));
    }

    [Fact]
    public void RowsAtDifferentPointsAdvanceInOneCallAsEachWouldAlone()
    {
        // A DDIM step written once with per-row points and coefficients: row b sits at step k_b of the schedule.
        var schedule = CosineSchedule(7);
        var model = EpsilonModel();
        int[] steps = [0, 3, 6, 1, 5];
        using var x = Normals(steps.Length, 4, 8);
        var start = x.ToRows();
        var state = new SamplerState<double>(model, schedule, x);
        state.BeginStep(0);
        var from = steps.Select(k => schedule[k]).ToArray();
        var alpha = state.Coefficients("alpha_next");
        var sigma = state.Coefficients("sigma_next");
        for (int b = 0; b < steps.Length; b++) { alpha[b] = schedule[steps[b] + 1].Alpha; sigma[b] = schedule[steps[b] + 1].Sigma; }
        var d = state.Denoise(x, from);
        Assert.True(d.PerSample);
        state.Set(x, alpha * d + sigma * d.Eps);
        Assert.Equal(1, state.ModelEvaluations);

        // Each row alone, stepped by the library's Euler sampler (the same move) at its own index.
        for (int b = 0; b < steps.Length; b++)
        {
            using var row = BatchTensor<double>.FromRows([start[b]]);
            var alone = new SamplerState<double>(model, schedule, row);
            alone.BeginStep(steps[b]);
            new EulerSampler().Step(alone, steps[b]);
            Assert.Equal(row.Row(0).ToArray(), x.Row(b).ToArray());
        }
    }
}
