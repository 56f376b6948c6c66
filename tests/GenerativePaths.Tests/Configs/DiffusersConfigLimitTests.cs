using System.Diagnostics;
using GenerativePaths.Configs;
using Xunit;

namespace GenerativePaths.Tests.Configs;

/// <summary>Config limits: every error names the JSON field the user wrote and its bad value; flow shifts at the extremes give valid plans.</summary>
public class DiffusersConfigLimitTests
{
    [Theory]
    [InlineData("{\"_class_name\": \"DDIMScheduler\", \"num_train_timesteps\": 100000000}", "num_train_timesteps", "100000000")]
    [InlineData("{\"_class_name\": \"DDIMScheduler\", \"num_train_timesteps\": 2147483000}", "num_train_timesteps", "2147483000")]
    [InlineData("{\"_class_name\": \"EulerDiscreteScheduler\", \"num_train_timesteps\": 1000001}", "num_train_timesteps", "1000001")]
    [InlineData("{\"_class_name\": \"DDIMScheduler\", \"beta_end\": 1.5}", "beta_end", "1.5")]
    [InlineData("{\"_class_name\": \"DDIMScheduler\", \"beta_start\": -1}", "beta_start", "-1")]
    [InlineData("{\"_class_name\": \"EulerDiscreteScheduler\", \"beta_start\": 1e400}", "beta_start", "Infinity")]
    [InlineData("{\"_class_name\": \"DDIMScheduler\", \"beta_start\": 0.5, \"beta_end\": 0.1}", "beta_end", "0.1")]
    [InlineData("{\"_class_name\": 5}", "_class_name", "5")]
    [InlineData("{\"_class_name\": [\"DDIMScheduler\"]}", "_class_name", "[\"DDIMScheduler\"]")]
    [InlineData("{\"_class_name\": \"EulerDiscreteScheduler\", \"use_karras_sigmas\": true, \"sigma_min\": -1}", "sigma_min", "-1")]
    [InlineData("{\"_class_name\": \"EulerDiscreteScheduler\", \"use_karras_sigmas\": true, \"sigma_min\": 5, \"sigma_max\": 1}", "sigma_min", "5")]
    [InlineData("{\"_class_name\": \"DDIMScheduler\", \"steps_offset\": 5000}", "steps_offset", "5000")]
    [InlineData("{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"shift\": 1e400}", "shift", "Infinity")]
    [InlineData("{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"shift\": 0}", "shift", "0")]
    [InlineData("{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"use_dynamic_shifting\": true, \"max_shift\": 1e400}", "max_shift", "Infinity")]
    public void ParseErrorNamesTheFieldAndValue(string json, string field, string value)
    {
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<DiffusersConfigException>(() => DiffusersSchedulerConfig.Parse(json));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"took {sw.Elapsed}");
        Assert.Equal(field, e.Field);
        Assert.Contains(field, e.Message);
        Assert.Contains(value, e.Message);
        foreach (var leak in new[] { "(Parameter 's')", "lastTimestep", "(Parameter 'scale')", "stepsOffset", "has no _class_name" })
            Assert.DoesNotContain(leak, e.Message);
    }

    [Theory]
    [InlineData("{\"_class_name\": \"EulerDiscreteScheduler\", \"use_karras_sigmas\": true, \"sigma_min\": 1000}", "sigma_min", "1000")]
    [InlineData("{\"_class_name\": \"DPMSolverMultistepScheduler\", \"lambda_min_clipped\": 100}", "lambda_min_clipped", "100")]
    public void ScheduleErrorNamesTheFieldAndValue(string json, string field, string value)
    {
        var config = DiffusersSchedulerConfig.Parse(json);
        var e = Assert.Throws<DiffusersConfigException>(() => config.CreateSchedule(10));
        Assert.Equal(field, e.Field);
        Assert.Contains(field, e.Message);
        Assert.Contains(value, e.Message);
    }

    [Theory]
    [InlineData(0.01, null)]
    [InlineData(0.001, null)]
    [InlineData(1e-6, null)]
    [InlineData(1e-30, null)]
    [InlineData(1e30, null)]
    [InlineData(1.0, 0.1)]
    [InlineData(3.0, 0.02)]
    [InlineData(0.001, 0.1)]
    public void FlowShiftsAtTheExtremesGiveValidPlansForEveryStepCount(double shift, double? terminal)
    {
        string t = terminal is { } v ? $", \"shift_terminal\": {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "";
        var config = DiffusersSchedulerConfig.Parse($"{{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"shift\": {shift.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}{t}}}");
        foreach (int n in new[] { 1, 2, 3, 10, 50 })
        {
            var schedule = config.CreateSchedule(n); // the constructor rejects NaN, negative or increasing points
            Assert.Equal(n + 1, schedule.Count);
            Assert.All(schedule.Points, p => Assert.True(p.Sigma >= 0 && p.Sigma <= 1 && p.Alpha >= 0 && p.Alpha <= 1));
        }
    }

    [Fact]
    public void LargestAcceptedTrainingLengthParses()
    {
        var config = DiffusersSchedulerConfig.Parse($"{{\"_class_name\": \"DDIMScheduler\", \"num_train_timesteps\": {DiffusersSchedulerConfig.MaxTrainTimesteps}, \"beta_start\": 1e-7, \"beta_end\": 2e-5}}");
        config.CreateSchedule(20);
        Assert.Equal(DiffusersSchedulerConfig.MaxTrainTimesteps, config.NumTrainTimesteps);
    }
}
