using System.CommandLine;
using System.Diagnostics;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Cli;

/// <summary>
/// <c>gpaths demo</c>: samples a 2-D Gaussian mixture with the library's samplers on its exact analytic model and compares
/// each result with the exact mixture (moments) and with the exact probability-flow endpoint (a fine Heun solve).
/// </summary>
internal static class DemoCommand
{
    public static Command Create(TextWriter stdout)
    {
        var samples = Options.Int("--samples", "Samples per run (at least 2).", 2000, min: 2, max: 10_000_000);
        var command = new Command("demo", "Sample a 2-D Gaussian mixture with the library's samplers on its exact analytic model and compare with the exact answer.")
        {
            samples,
        };
        command.SetAction(parse => Run(parse.GetValue(samples), stdout));
        return command;
    }

    public static int Run(int samples, TextWriter w)
    {
        if (samples < 2) throw new CommandLineException($"--samples must be at least 2 (got {samples}).");
        var clock = Stopwatch.StartNew();
        var mixture = GaussianMixture.Isotropic([0.5, 0.3, 0.2], [[-2.0, 0.0], [1.5, 1.5], [1.0, -2.0]], [0.3, 0.5, 0.2]);
        var (mean, variance) = Moments(mixture);
        w.WriteLine("GenerativePaths demo: sampling a 2-D Gaussian mixture with its exact denoiser");
        w.WriteLine($"  components: 3, exact mean ({mean[0]:F3}, {mean[1]:F3}), exact variance ({variance[0]:F3}, {variance[1]:F3}); {samples} samples per run");
        w.WriteLine("  endpoint error: RMS distance to the exact probability-flow endpoint of the same noise (Heun, 400 steps); '-' for stochastic samplers");
        w.WriteLine($"  (sampling noise of the moments with {samples} samples is about {2 / Math.Sqrt(samples):F3})");
        w.WriteLine();
        w.WriteLine($"{"sampler",-22} {"path",-15} {"steps",5} {"NFE",5} {"|mean err|",11} {"|var err|",10} {"endpoint err",13}");

        using var z = BatchTensor<double>.Allocate(samples, 2);
        new PhiloxNoise(2024).Fill(z, 0);
        var paths = new (string Name, NoisePath Path, Prediction Prediction)[]
        {
            ("VP trig (v)", new TrigonometricPath(), Prediction.Velocity),
            ("rectified flow", new RectifiedFlowPath(), Prediction.FlowVelocity),
        };
        foreach (var (pathName, path, prediction) in paths)
        {
            var model = new GaussianMixtureModel<double>(mixture, prediction, ModelTimeMaps.Path(path));
            using var exact = Sample(model, z, Schedule(path, 400), new HeunSampler(), null, out _);
            foreach (int steps in new[] { 10, 25 })
            {
                var schedule = Schedule(path, steps);
                foreach (var (name, sampler, stochastic) in Samplers())
                {
                    using var x = Sample(model, z, schedule, sampler, new PhiloxNoise(7), out var stats);
                    var (m, v) = SampleMoments(x);
                    double meanErr = Math.Sqrt(Sq(m[0] - mean[0]) + Sq(m[1] - mean[1]));
                    double varErr = Math.Sqrt(Sq(v[0] - variance[0]) + Sq(v[1] - variance[1]));
                    string endpoint = stochastic ? "-" : Rms(x, exact).ToString("E2");
                    w.WriteLine($"{name,-22} {pathName,-15} {steps,5} {stats.ModelEvaluations,5} {meanErr,11:F4} {varErr,10:F4} {endpoint,13}");
                }
            }
        }
        w.WriteLine();
        w.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F1} s. DDIM (eta 0), Euler and flow Euler are one update rule in path coordinates, and so are");
        w.WriteLine("DDPM, Euler ancestral and DDIM (eta 1): identical rows are expected. Deterministic samplers approach the probability-flow");
        w.WriteLine("endpoint as steps grow (Heun fastest per step); stochastic samplers land elsewhere, with the right distribution.");
        return 0;
    }

    private static (string, Sampler, bool)[] Samplers() =>
    [
        ("ddim (eta 0)", new DdimSampler(), false),
        ("euler", new EulerSampler(), false),
        ("heun", new HeunSampler(), false),
        ("dpm++ 2m", new DpmSolverPlusPlus2MSampler(), false),
        ("flow euler", new FlowMatchEulerSampler(), false),
        ("ddpm (fixed_small)", new DdpmSampler(), true),
        ("euler ancestral", new EulerAncestralSampler(), true),
        ("ddim (eta 1)", new DdimSampler(1.0), true),
    ];

    private static StepSchedule Schedule(NoisePath path, int steps)
        => new(path, Enumerable.Range(0, steps + 1).Select(i => 1.0 - (double)i / steps).Select(t => new SchedulePoint(Math.Max(0, path.Alpha(t)), path.Sigma(t), path.ModelTime(t))));

    private static BatchTensor<double> Sample(IGenerativeModel<double> model, BatchTensor<double> z, StepSchedule schedule, Sampler sampler, NoiseSource? noise, out SamplingStatistics stats)
    {
        var x = z.Clone(); // sigma = 1 at t = 1 on both paths: x = z
        stats = SamplingLoop.Run(model, x, schedule, sampler, noise).Statistics;
        return x;
    }

    private static (double[] Mean, double[] Variance) Moments(GaussianMixture g)
    {
        var mean = new double[2];
        var second = new double[2];
        for (int k = 0; k < g.ComponentCount; k++)
        {
            var mu = g.Mean(k);
            var s = g.Std(k);
            for (int d = 0; d < 2; d++) { mean[d] += g.Weight(k) * mu[d]; second[d] += g.Weight(k) * (s[d] * s[d] + mu[d] * mu[d]); }
        }
        return (mean, [second[0] - mean[0] * mean[0], second[1] - mean[1] * mean[1]]);
    }

    private static (double[] Mean, double[] Variance) SampleMoments(BatchTensor<double> x)
    {
        var mean = new double[2];
        var variance = new double[2];
        for (int b = 0; b < x.BatchSize; b++) for (int d = 0; d < 2; d++) mean[d] += x.Row(b)[d] / x.BatchSize;
        for (int b = 0; b < x.BatchSize; b++) for (int d = 0; d < 2; d++) variance[d] += Sq(x.Row(b)[d] - mean[d]) / (x.BatchSize - 1);
        return (mean, variance);
    }

    private static double Rms(BatchTensor<double> a, BatchTensor<double> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += Sq(a.Span[i] - b.Span[i]);
        return Math.Sqrt(s / a.BatchSize);
    }

    private static double Sq(double v) => v * v;
}
