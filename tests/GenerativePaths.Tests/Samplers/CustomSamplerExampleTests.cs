using System.Text.RegularExpressions;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

// The custom samplers of docs/sampler-guide.md ("Writing your own sampler"), verbatim between the guide markers and built from the
// public API only; TheGuideShowsTheseSamplersVerbatim keeps the page and this file in step.

// guide: begin MidpointDpmSolver
public sealed class MidpointDpmSolver : Sampler
{
    public override string Name => "dpmpp_2s";

    public override void Step<T>(SamplerState<T> state, int index)
    {
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        var x = state.X;
        var d = state.Denoise(x, from);                       // x0hat at the current point, kept as a formula
        if (to.Sigma == 0)
        {
            state.Set(x, to.Alpha * d);                       // last step: x' = alpha' x0hat
            return;
        }
        // The midpoint in log-SNR, looked up on the schedule's path.
        var path = state.Schedule.Path;
        double t = path.TimeFromLogSnr(0.5 * (from.LogSnr + to.LogSnr));
        var mid = new SchedulePoint(path.Alpha(t), path.Sigma(t), path.ModelTime(t));
        // DDIM to the midpoint: x_mid = alpha_m x0hat + sigma_m epshat.
        var xMid = state.Buffer("midpoint");
        state.Set(xMid, mid.Alpha * d + mid.Sigma * d.Eps);
        // The full step with the midpoint's estimate: x' = (sigma'/sigma) x + (alpha' - sigma' alpha / sigma) x0_mid.
        var dMid = state.Denoise(xMid, mid);
        state.Set(x, (to.Sigma / from.Sigma) * x + (to.Alpha - to.Sigma * from.Alpha / from.Sigma) * dMid);
    }
}
// guide: end

// guide: begin AdamsBashforth2
public sealed class AdamsBashforth2 : Sampler
{
    public override string Name => "ab2";

    public override void Step<T>(SamplerState<T> state, int index)
    {
        var from = state.Schedule[index];
        var to = state.Schedule[index + 1];
        var x = state.X;
        // The slope of the probability-flow ODE in s = sigma / alpha, x_ve = x / alpha is epshat; keep it as this step's entry.
        var d = state.Denoise(x, from);
        var slopes = state.History(Name, "eps", capacity: 2);
        bool hasPrevious = slopes.Available(index) > 0;      // false on the first step, after a jump or another sampler
        state.Set(slopes[index], d.Eps);
        slopes.Record(index);
        double h = to.SigmaOverAlpha - from.SigmaOverAlpha;
        if (!hasPrevious)
        {
            state.Set(x, (to.Alpha / from.Alpha) * x + to.Alpha * h * slopes[index]);   // Euler
            return;
        }
        // x_ve' = x_ve + integral of the line through the last two slopes: w0 eps_i + w1 eps_{i-1}.
        double hPrev = from.SigmaOverAlpha - state.Schedule[index - 1].SigmaOverAlpha;
        double w0 = h * (1 + h / (2 * hPrev)), w1 = -h * h / (2 * hPrev);
        state.Set(x, (to.Alpha / from.Alpha) * x + to.Alpha * w0 * slopes[index] + to.Alpha * w1 * slopes[index - 1]);
    }
}
// guide: end

public class CustomSamplerExampleTests
{
    // VE path from sigma 5 to 0.2, against Heun with many steps as the reference (itself second order).
    private const double S0 = 5.0, S1 = 0.2;

    private static double[][] Solve(Sampler sampler, int n, double end = S1)
    {
        using var init = Normals(3, 4, 77);
        var start = init.ToRows().Select(r => r.Select(v => v * S0).ToArray()).ToArray();
        // Geometric from S0 to S1; with end = 0 the last of the n steps goes from S1 to 0.
        int geometric = end == 0 ? n - 1 : n;
        var sigmas = Enumerable.Range(0, geometric + 1).Select(i => S0 * Math.Pow(S1 / S0, (double)i / geometric)).ToList();
        if (end == 0) sigmas.Add(0);
        var schedule = new StepSchedule(new VarianceExplodingPath(0, S0), sigmas.Select(s => new SchedulePoint(1, s, s)));
        using var x = BatchTensor<double>.FromRows(start);
        SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding()), x, schedule, sampler);
        return x.ToRows();
    }

    private static double MaxDiff(double[][] a, double[][] b) => a.Zip(b, (u, v) => u.Zip(v, (p, q) => Math.Abs(p - q)).Max()).Max();

    [Fact]
    public void TheGuideMidpointSolverIsSecondOrder()
    {
        var reference = Solve(new HeunSampler(), 3000);
        double Error(int n) => MaxDiff(Solve(new MidpointDpmSolver(), n), reference);
        Assert.InRange(Math.Log2(Error(20) / Error(40)), 1.8, 2.3);
    }

    [Fact]
    public void TheGuideMultistepSamplerIsSecondOrder()
    {
        var reference = Solve(new HeunSampler(), 3000);
        double Error(int n) => MaxDiff(Solve(new AdamsBashforth2(), n), reference);
        Assert.InRange(Math.Log2(Error(40) / Error(80)), 1.8, 2.3);
    }

    [Fact]
    public void TheGuideMultistepSamplerIsTheLibrarysSecondOrderLms()
    {
        // LMS of order 2 integrates the line through the last two slopes exactly (its weights come from the Lagrange basis), after
        // the same first-order start: an independent implementation of the same method.
        Assert.True(MaxDiff(Solve(new AdamsBashforth2(), 12), Solve(new LmsSampler(order: 2), 12)) < 1e-12);
        Assert.True(MaxDiff(Solve(new AdamsBashforth2(), 9, end: 0), Solve(new LmsSampler(order: 2), 9, end: 0)) < 1e-12);
    }

    [Fact]
    public void TheGuideMultistepSamplerRestartsAfterAnotherSampler()
    {
        // Switching to it mid-run equals a fresh run of it from the switched state on the rest of the schedule.
        var schedule = new StepSchedule(new VarianceExplodingPath(0, S0), Enumerable.Range(0, 11).Select(i => S0 * Math.Pow(S1 / S0, i / 10.0)).Select(s => new SchedulePoint(1, s, s)));
        var model = new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding());
        using var x = Normals(3, 4, 5);
        var state = new SamplerState<double>(model, schedule, x);
        Sampler ab2 = new AdamsBashforth2(), lms = new LmsSampler();
        for (int i = 0; i < 10; i++) { state.BeginStep(i); (i is >= 3 and < 5 ? lms : ab2).Step(state, i); }
        // Fresh: the state after step 4 run by AB2 from step 5 on a state that has no history.
        using var y = Normals(3, 4, 5);
        var first = new SamplerState<double>(model, schedule, y);
        for (int i = 0; i < 5; i++) { first.BeginStep(i); (i is >= 3 ? lms : ab2).Step(first, i); }
        var rest = new StepSchedule(schedule.Path, Enumerable.Range(5, 6).Select(i => schedule[i]));
        var fresh = new SamplerState<double>(model, rest, y);
        for (int i = 0; i < 5; i++) { fresh.BeginStep(i); ab2.Step(fresh, i); }
        Assert.Equal(y.Span.ToArray(), x.Span.ToArray());
    }

    [Fact]
    public void TheGuideShowsTheseSamplersVerbatim()
    {
        string page = File.ReadAllText(Path.Combine(ReferenceCases.RepositoryRoot, "docs", "sampler-guide.md"));
        string self = File.ReadAllText(Path.Combine(ReferenceCases.RepositoryRoot, "tests", "GenerativePaths.Tests", "Samplers", "CustomSamplerExampleTests.cs"));
        static string Norm(string s) => Regex.Replace(s, @"\s+", " ").Trim();
        var blocks = Regex.Matches(page, "```csharp\n(public sealed class (?:MidpointDpmSolver|AdamsBashforth2).*?)```", RegexOptions.Singleline);
        var sources = Regex.Matches(self, @"// guide: begin \w+\n(.*?)// guide: end", RegexOptions.Singleline);
        Assert.Equal(2, sources.Count);
        Assert.Equal(sources.Count, blocks.Count);
        for (int i = 0; i < sources.Count; i++)
            Assert.True(Norm(blocks[i].Groups[1].Value) == Norm(sources[i].Groups[1].Value), $"custom sampler {i + 1} of docs/sampler-guide.md differs from its test");
    }
}

public class QuickStartExampleTests
{
    [Fact]
    public void QuickStartRuns()
    {
        // The quick start of docs/sampler-guide.md, verbatim but for the console output.
        var config = GenerativePaths.Configs.DiffusersSchedulerConfig.Parse("""
            {"_class_name": "DDIMScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085,
             "beta_end": 0.012, "steps_offset": 1, "set_alpha_to_one": false}
            """);
        var schedule = config.CreateSchedule(25);
        var mixture = GaussianMixture.Isotropic([0.5, 0.5], [[-2.0, 0.0], [2.0, 1.0]], [0.3, 0.5]);
        var model = new GaussianMixtureModel<float>(mixture, config.Prediction, ModelTimeMaps.DiscreteVariancePreserving(config.AlphasCumprod));
        using var x = BatchTensor<float>.Allocate(16, 2);
        new GenerativePaths.Noise.PhiloxNoise(seed: 1).Fill(x, stream: GenerativePaths.Noise.NoiseStreams.Start);
        var steps = new List<int>();
        var result = SamplingLoop.Run(model, x, schedule, new DpmSolverPlusPlus2MSampler(), noise: null,
            new SamplingOptions<float> { OnStep = (i, t, xi, x0hat) => steps.Add(i) });
        Assert.Equal(25, result.Statistics.ModelEvaluations);
        Assert.Equal(Enumerable.Range(0, 25), steps);
        // Every sample lands near one of the two modes (within a few component standard deviations).
        for (int b = 0; b < 16; b++)
        {
            var r = x.Row(b);
            double d0 = Math.Sqrt((r[0] + 2) * (r[0] + 2) + r[1] * r[1]), d1 = Math.Sqrt((r[0] - 2) * (r[0] - 2) + (r[1] - 1) * (r[1] - 1));
            Assert.True(Math.Min(d0 / 0.3, d1 / 0.5) < 5, $"sample {b} = ({r[0]}, {r[1]}) is far from both modes");
        }
    }
}
