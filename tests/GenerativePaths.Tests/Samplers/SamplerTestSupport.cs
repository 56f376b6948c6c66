using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Tests.Samplers;

/// <summary>The rectified-flow path, written here for the tests: alpha = 1 - t, sigma = t.</summary>
internal sealed class TestFlowPath : NoisePath
{
    public override double TimeMin => 0;
    public override double TimeMax => 1;
    public override double Alpha(double t) => 1 - t;
    public override double Sigma(double t) => t;
    public override double AlphaDerivative(double t) => -1;
    public override double SigmaDerivative(double t) => 1;
    public override double TimeFromLogSnr(double lambda) => 1 / (1 + Math.Exp(lambda));
}

/// <summary>A VP path with alpha = cos(pi t / 2), sigma = sin(pi t / 2), written here for the tests.</summary>
internal sealed class TestCosinePath : NoisePath
{
    public override double TimeMin => 0;
    public override double TimeMax => 1;
    public override double Alpha(double t) => Math.Cos(Math.PI * t / 2);
    public override double Sigma(double t) => Math.Sin(Math.PI * t / 2);
    public override double AlphaDerivative(double t) => -Math.PI / 2 * Math.Sin(Math.PI * t / 2);
    public override double SigmaDerivative(double t) => Math.PI / 2 * Math.Cos(Math.PI * t / 2);
    public override double TimeFromLogSnr(double lambda) => 2 / Math.PI * Math.Atan(Math.Exp(-lambda));
}

internal static class SamplerTestSupport
{
    public static readonly GaussianMixture Mix = GaussianMixture.Isotropic(
        [0.3, 0.5, 0.2],
        [[-1.5, 0.5, 1.0, 0.0], [1.0, -1.0, 0.5, 2.0], [0.0, 2.0, -1.5, -0.5]],
        [0.4, 0.6, 0.3]);

    public static StepSchedule Schedule(NoisePath path, IEnumerable<double> times)
        => new(path, times.Select(t => new SchedulePoint(path.Alpha(t), path.Sigma(t), t)));

    public static IEnumerable<double> Linspace(double a, double b, int n) => Enumerable.Range(0, n).Select(i => a + (b - a) * i / (n - 1));

    public static BatchTensor<double> Normals(int batch, int dim, ulong seed)
    {
        var t = BatchTensor<double>.Allocate(batch, dim);
        new GenerativePaths.Noise.PhiloxNoise(seed).Fill(t, 1000);
        return t;
    }

    public static Sampler[] AllSamplers() =>
    [
        new EulerSampler(), new HeunSampler(), new DdimSampler(), new DdimSampler(eta: 1.0), new DdpmSampler(),
        new DdpmSampler(DdpmVariance.FixedLarge), new EulerAncestralSampler(), new FlowMatchEulerSampler(),
        new FlowMatchEulerSampler(stochastic: true), new DpmSolverPlusPlus2MSampler(), new DpmSolverPlusPlus2MSampler(DpmSolverSecondOrder.Heun),
        new EulerSampler(sChurn: 2.0),
        // The k-diffusion samplers (adaptive with per-sample control: the shared controller couples the batch, see EverySampler).
        new DpmSolver2AncestralSampler(), new DpmSolverPlusPlus2SAncestralSampler(), new DpmSolverPlusPlusSdeSampler(), new DpmSolverPlusPlus2MSdeSampler(),
        new DpmSolverPlusPlus2MSdeSampler(0.5, secondOrder: DpmSolverSecondOrder.Heun), new DpmSolverPlusPlus3MSdeSampler(), new DpmSolverFastSampler(),
        new DpmSolverFastSampler(eta: 1.0), new DpmSolverAdaptiveSampler(control: AdaptiveStepControl.PerSample),
    ];
}
