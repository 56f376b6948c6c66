using GenerativePaths.Models;
using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>Euler and Heun with EDM churn against a plain float64 loop of Karras et al. 2022, Algorithm 2, on the VE path.</summary>
public class EulerChurnTests
{
    [Theory]
    [InlineData(false, 10.0, 0.05, 5.0, 1.003)]
    [InlineData(false, 80.0, 0.0, double.PositiveInfinity, 1.0)]
    [InlineData(true, 10.0, 0.05, 5.0, 1.003)]
    public void ChurnMatchesAlgorithm2(bool heun, double sChurn, double sTMin, double sTMax, double sNoise)
    {
        const ulong seed = 31;
        var sigmas = new[] { 8.0, 5.0, 3.0, 1.6, 0.9, 0.4, 0.1, 0.0 };
        int n = sigmas.Length - 1;
        var schedule = new StepSchedule(new VarianceExplodingPath(0, 100), sigmas.Select(s => new SchedulePoint(1, s, s)));
        using var x = Normals(3, 4, 9);
        for (int i = 0; i < x.Length; i++) x.Span[i] *= sigmas[0];
        var rows = x.ToRows();
        Sampler sampler = heun ? new HeunSampler(sChurn, sTMin, sTMax, sNoise) : new EulerSampler(sChurn, sTMin, sTMax, sNoise);
        SamplingLoop.Run(new GaussianMixtureModel<double>(Mix, Prediction.Data, ModelTimeMaps.VarianceExploding()), x, schedule, sampler, new PhiloxNoise(seed));

        var d = new double[4];
        var d2 = new double[4];
        var z = new double[4];
        for (int b = 0; b < rows.Length; b++)
        {
            var xb = rows[b];
            for (int i = 0; i < n; i++)
            {
                double s = sigmas[i];
                double gamma = s >= sTMin && s <= sTMax ? Math.Min(sChurn / n, Math.Sqrt(2) - 1) : 0;
                double sHat = s * (1 + gamma);
                if (gamma > 0)
                {
                    PhiloxNoise.FillRow<double>(z, seed, (uint)b, (ulong)i);
                    for (int j = 0; j < 4; j++) xb[j] += z[j] * sNoise * Math.Sqrt(sHat * sHat - s * s);
                }
                Mix.PosteriorMean(xb, 1, sHat, d);
                var slope = xb.Select((v, j) => (v - d[j]) / sHat).ToArray();
                double h = sigmas[i + 1] - sHat;
                if (!heun || sigmas[i + 1] == 0)
                {
                    for (int j = 0; j < 4; j++) xb[j] += h * slope[j];
                    continue;
                }
                var x2 = xb.Select((v, j) => v + h * slope[j]).ToArray();
                Mix.PosteriorMean(x2, 1, sigmas[i + 1], d2);
                for (int j = 0; j < 4; j++) xb[j] += h * 0.5 * (slope[j] + (x2[j] - d2[j]) / sigmas[i + 1]);
            }
            for (int j = 0; j < 4; j++) Assert.Equal(xb[j], x.Row(b)[j], 9);
        }
    }
}
