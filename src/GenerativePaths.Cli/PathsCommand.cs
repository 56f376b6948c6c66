using System.CommandLine;
using System.Globalization;
using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Cli;

/// <summary>
/// <c>gpaths paths</c>: generation as path planning. Trajectories from the same start noise to a 2-D Gaussian mixture under DDPM
/// (stochastic steps), DDIM (each step moves toward the predicted end point) and rectified flow (Euler on the straight flow path),
/// on the exact model, in three panels with the mixture's components marked.
/// </summary>
internal static class PathsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var output = new Option<string>("--out") { Description = "The PNG to write.", DefaultValueFactory = _ => "paths.png" };
        var count = Options.Int("--count", "Trajectories per panel.", 48, min: 1, max: 2000);
        var steps = Options.Int("--steps", "Steps of each sampler.", 40, min: 1, max: 10_000);
        var seed = Options.Seed("--seed", "The noise seed.", 0);
        var command = new Command("paths", "Draw trajectories from the same noise to a 2-D Gaussian mixture under DDPM, DDIM and rectified flow (exact model).")
        {
            output, count, steps, seed,
        };
        command.SetAction(parse => Run(parse.GetValue(output)!, parse.GetValue(count), parse.GetValue(steps), parse.GetValue(seed), stdout));
        return command;
    }

    /// <summary>The mixture drawn by the command.</summary>
    public static GaussianMixture Mixture { get; } = GaussianMixture.Isotropic([0.4, 0.35, 0.25], [[-2.0, -1.0], [2.0, -1.5], [0.5, 2.2]], [0.35, 0.45, 0.3]);

    public static int Run(string output, int count, int steps, ulong seed, TextWriter stdout)
    {
        Options.CheckWritable(output, "--out");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var z = BatchTensor<double>.Allocate(count, 2);
        new PhiloxNoise(seed).Fill(z, Generation.StartNoiseStream);
        var vp = new TrigonometricPath();
        var flow = new RectifiedFlowPath();
        var panels = new List<Plots.PathPanel>
        {
            new($"DDPM (stochastic), {steps} steps", Trajectories(vp, Prediction.Velocity, new DdpmSampler(), z, steps, seed), ScottPlot.Color.FromHex("#d62728")),
            new($"DDIM (toward the predicted x0), {steps} steps", Trajectories(vp, Prediction.Velocity, new DdimSampler(), z, steps, seed), ScottPlot.Color.FromHex("#1f77b4")),
            new($"rectified flow (Euler), {steps} steps", Trajectories(flow, Prediction.FlowVelocity, new FlowMatchEulerSampler(), z, steps, seed), ScottPlot.Color.FromHex("#2ca02c")),
        };
        var components = Enumerable.Range(0, Mixture.ComponentCount).Select(k => (Mixture.Mean(k)[0], Mixture.Mean(k)[1], Mixture.Std(k)[0])).ToArray();
        Plots.PathPanels(output, panels, components, 4.0);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"paths: {count} trajectories per panel, {steps} steps each (DDPM, DDIM, rectified flow), {clock.Elapsed.TotalSeconds:F2} s -> {output}"));
        return Cli.ExitOk;
    }

    /// <summary>Runs one sampler from <c>x = sigma_0 z</c> and records each sample's points (the start and after every step).</summary>
    private static List<(double X, double Y)[]> Trajectories(NoisePath path, Prediction prediction, Sampler sampler, BatchTensor<double> z, int steps, ulong seed)
    {
        var model = new GaussianMixtureModel<double>(Mixture, prediction, ModelTimeMaps.Path(path));
        var schedule = new StepSchedule(path, Enumerable.Range(0, steps + 1).Select(i => path.TimeMax + (path.TimeMin - path.TimeMax) * i / steps)
            .Select(t => new SchedulePoint(Math.Max(0, path.Alpha(t)), path.Sigma(t), path.ModelTime(t))));
        using var x = z.Clone();
        var s0 = schedule[0].Sigma;
        for (int i = 0; i < x.Span.Length; i++) x.Span[i] *= s0;
        var points = Enumerable.Range(0, z.BatchSize).Select(_ => new List<(double, double)>(steps + 1)).ToArray();
        for (int b = 0; b < z.BatchSize; b++) points[b].Add((x.Row(b)[0], x.Row(b)[1]));
        SamplingLoop.Run(model, x, schedule, sampler, new PhiloxNoise(seed), new SamplingOptions<double>
        {
            OnStep = (_, _, xs, _) =>
            {
                for (int b = 0; b < xs.BatchSize; b++) points[b].Add((xs.Row(b)[0], xs.Row(b)[1]));
            },
        });
        return points.Select(p => p.ToArray()).ToList();
    }
}
