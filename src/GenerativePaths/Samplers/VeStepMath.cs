using GenerativePaths.Noise;
using GenerativePaths.Paths;
using GenerativePaths.Schedules;

namespace GenerativePaths.Samplers;

/// <summary>
/// Shared arithmetic of the samplers written in k-diffusion's variance-exploding coordinates (<c>s = sigma / alpha</c>,
/// <c>x_ve = x / alpha</c>): the ancestral split of a step, the path point at a given <c>s</c>, and the stream numbers of draws
/// within a step.
/// </summary>
internal static class VeStepMath
{
    /// <summary>k-diffusion's <c>get_ancestral_step</c>: <c>s_up = min(s', eta sqrt(s'^2 (s^2 - s'^2) / s^2))</c>,
    /// <c>s_down = sqrt(s'^2 - s_up^2)</c> (<c>(s', 0)</c> when <c>eta = 0</c>; <c>(0, 0)</c> at <c>s' = 0</c>).</summary>
    public static (double Down, double Up) Ancestral(double s, double sNext, double eta)
    {
        if (eta == 0 || sNext == 0) return (sNext, 0);
        if (double.IsPositiveInfinity(s)) { double u = Math.Min(sNext, eta * sNext); return (Math.Sqrt(Math.Max(0, sNext * sNext - u * u)), u); }
        // sqrt(s'^2 (s^2 - s'^2) / s^2) = s' sqrt(1 - (s'/s)^2), without squaring tiny or huge levels.
        double q = sNext / s;
        double up = Math.Min(sNext, eta * sNext * Math.Sqrt(Math.Max(0, 1 - q * q)));
        return (Math.Sqrt(Math.Max(0, sNext * sNext - up * up)), up);
    }

    /// <summary>The point of <paramref name="path"/> whose <c>sigma / alpha</c> is <paramref name="s"/> (<c>s &gt; 0</c>, finite):
    /// <c>t = path.TimeFromLogSnr(-log s)</c>, with the path's alpha, sigma and model time there.</summary>
    public static SchedulePoint PointAt(NoisePath path, double s)
    {
        double t = path.TimeFromLogSnr(-Math.Log(s));
        return new SchedulePoint(path.Alpha(t), path.Sigma(t), path.ModelTime(t));
    }

    /// <summary>The stream of the <paramref name="k"/>-th extra draw (k = 1, 2, ...) within step <paramref name="index"/>:
    /// <c>NoiseStreams.Start + k 2^32 + index</c>, clear of the step streams <c>0 .. Start - 1</c> and of the start stream.</summary>
    public static long SubstepStream(int index, int k) => NoiseStreams.Start + ((long)k << 32) + index;
}
