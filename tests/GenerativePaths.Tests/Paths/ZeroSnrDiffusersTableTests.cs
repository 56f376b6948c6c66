using GenerativePaths.Configs;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Paths;

/// <summary>
/// diffusers replaces the zero terminal <c>alphas_cumprod</c> of a rescaled (zero-terminal-SNR) table by <c>2^-24</c>; with
/// <c>linear</c> betas that is larger than entry 998, and the path must accept the table as diffusers uses it.
/// </summary>
public class ZeroSnrDiffusersTableTests
{
    [Theory]
    [InlineData("DPMSolverMultistepScheduler")]
    [InlineData("UniPCMultistepScheduler")]
    [InlineData("EulerDiscreteScheduler")]
    public void RescaledLinearBetasImportAndSample(string className)
    {
        var config = DiffusersSchedulerConfig.Parse($$"""
            {"_class_name": "{{className}}", "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02,
             "rescale_betas_zero_snr": true, "timestep_spacing": "trailing", "prediction_type": "v_prediction"}
            """);
        var ac = config.AlphasCumprod;
        Assert.Equal(Math.Pow(2, -24), ac[^1]);
        Assert.True(ac[^2] < ac[^1], "the premise: with linear betas entry 998 is below 2^-24");
        var schedule = config.CreateSchedule(10);
        // The first point is timestep 999 with abar = 2^-24 exactly: sigma/alpha = sqrt((1 - 2^-24) 2^24), to the float32
        // rounding of diffusers' sigma table.
        double exact = Math.Sqrt((1 - Math.Pow(2, -24)) * Math.Pow(2, 24));
        Assert.True(Math.Abs(schedule[0].SigmaOverAlpha - exact) <= exact * Math.Pow(2, -23), $"first sigma {schedule[0].SigmaOverAlpha}, expected {exact}");
        Assert.Equal(999.0, schedule[0].ModelTime, 9);

        var mixture = GaussianMixture.Isotropic([0.5, 0.5], [[-1.0, 0.5], [1.0, -0.5]], [0.3, 0.4]);
        var model = new GaussianMixtureModel<double>(mixture, Prediction.Velocity, ModelTimeMaps.DiscreteVariancePreserving(ac));
        using var x = BatchTensor<double>.Allocate(3, 2);
        new GenerativePaths.Noise.PhiloxNoise(3).Fill(x, 0);
        Sampler sampler = className switch
        {
            "DPMSolverMultistepScheduler" => new DpmSolverPlusPlus2MSampler(),
            "UniPCMultistepScheduler" => new UniPcSampler(),
            _ => new EulerSampler(),
        };
        SamplingLoop.Run(model, x, schedule, sampler);
        Assert.True(TensorReductions.IsFinite<double>(x.Span));
    }

    [Fact]
    public void ANonMonotoneTableIsUsedAsGivenAndInvertedByFirstPassage()
    {
        // abar: decreasing, then the last entry rises above its predecessor (as diffusers' 2^-24 does).
        double[] ac = [0.9, 0.5, 0.1, 1e-8, 1e-6];
        var path = new DiscreteVpPath(ac);
        static double Lambda(double a) => 0.5 * Math.Log(a / (1 - a));
        for (int t = 0; t < ac.Length; t++) Assert.Equal(Lambda(ac[t]), path.LogSnr(t), 12);
        // Between 3 and 4 the log-SNR rises; interpolation is linear there as everywhere.
        Assert.Equal(0.5 * (Lambda(1e-8) + Lambda(1e-6)), path.LogSnr(3.5), 12);
        // First passage: a level reached first on [1, 2] is found there, not on the rising last segment.
        double level = 0.5 * (Lambda(0.5) + Lambda(0.1));
        Assert.Equal(1.5, path.TimeFromLogSnr(level), 12);
        // The log-SNR of the last entry (between lambda_2 and lambda_3) is first reached on [2, 3].
        double t4 = path.TimeFromLogSnr(Lambda(1e-6));
        Assert.InRange(t4, 2.0, 3.0);
        Assert.Equal(Lambda(1e-6), path.LogSnr(t4), 10);
        // Below every value: clipped to the last timestep; above the first: 0.
        Assert.Equal(4.0, path.TimeFromLogSnr(Lambda(1e-9)));
        Assert.Equal(0.0, path.TimeFromLogSnr(Lambda(0.95)));
    }

    [Fact]
    public void BadValuesAreStillRejectedWithTheirIndex()
    {
        var e = Assert.Throws<ArgumentException>(() => new DiscreteVpPath([0.9, 0.0, 0.5]));
        Assert.Contains("alphas_cumprod[1]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new DiscreteVpPath([0.9, double.NaN]));
        Assert.Contains("alphas_cumprod[1]", e.Message);
    }
}
