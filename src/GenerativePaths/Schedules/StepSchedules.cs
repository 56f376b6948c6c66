using GenerativePaths.Paths;

namespace GenerativePaths.Schedules;

/// <summary>
/// Builders of <see cref="StepSchedule"/>s: k-diffusion sigma plans on the VE path, timestep plans on a discrete VP
/// path, flow-matching plans, and users' custom lists of timesteps or sigmas. Every plan ends at the clean point
/// (<c>alpha = 1</c>, <c>sigma = 0</c>, model time 0) unless stated otherwise.
/// </summary>
/// <remarks>Thread safety: stateless; every member may be called from several threads at once.</remarks>
public static class StepSchedules
{
    /// <summary>A k-diffusion VE schedule from sigmas (alpha = 1, model time = sigma), e.g. the output of <see cref="SigmaArrays"/>.</summary>
    /// <remarks>A final clean point is appended when the list does not end at 0.</remarks>
    /// <exception cref="ArgumentException">A non-finite, negative or increasing sigma; the message names the first bad index.</exception>
    public static StepSchedule FromVeSigmas(IReadOnlyList<double> sigmas)
    {
        ValidateDecreasing(sigmas, nameof(sigmas), "sigma", lowerBound: 0);
        var path = new VarianceExplodingPath(0.0, sigmas[0] > 0 ? sigmas[0] : 1.0);
        return FromSigmaOverAlpha(path, sigmas, s => s);
    }

    /// <summary>Karras et al. (2022) sigmas on the VE path (<see cref="SigmaArrays.Karras"/>).</summary>
    public static StepSchedule Karras(int steps, double sigmaMin, double sigmaMax, double rho = 7.0)
        => FromVeSigmas(SigmaArrays.Karras(steps, sigmaMin, sigmaMax, rho));

    /// <summary>Log-uniform sigmas on the VE path (<see cref="SigmaArrays.Exponential"/>).</summary>
    public static StepSchedule Exponential(int steps, double sigmaMin, double sigmaMax)
        => FromVeSigmas(SigmaArrays.Exponential(steps, sigmaMin, sigmaMax));

    /// <summary>Polyexponential sigmas on the VE path (<see cref="SigmaArrays.PolyExponential"/>).</summary>
    public static StepSchedule PolyExponential(int steps, double sigmaMin, double sigmaMax, double rho = 1.0)
        => FromVeSigmas(SigmaArrays.PolyExponential(steps, sigmaMin, sigmaMax, rho));

    /// <summary>The continuous-VP plan as VE sigmas (<see cref="SigmaArrays.Vp"/>).</summary>
    public static StepSchedule Vp(int steps, double betaD = 19.9, double betaMin = 0.1, double epsS = 1e-3)
        => FromVeSigmas(SigmaArrays.Vp(steps, betaD, betaMin, epsS));

    /// <summary>
    /// A schedule on any path from noise-to-signal ratios <c>s = sigma/alpha</c> (k-diffusion sigmas): each point is the
    /// path's point with that ratio (<see cref="NoisePath.CoefficientsAtSigmaOverAlpha"/>), called with
    /// <paramref name="modelTime"/>(s) (default: the path's model time at <c>TimeFromLogSnr(-log s)</c>).
    /// </summary>
    /// <remarks>A final clean point is appended when the list does not end at 0. The clean point's model time is 0.</remarks>
    /// <exception cref="ArgumentException">A non-finite, negative or increasing value; the message names the first bad index.</exception>
    public static StepSchedule FromSigmaOverAlpha(NoisePath path, IReadOnlyList<double> sigmas, Func<double, double>? modelTime = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ValidateDecreasing(sigmas, nameof(sigmas), "sigma", lowerBound: 0);
        modelTime ??= s => path.ModelTime(path.TimeFromLogSnr(-Math.Log(s)));
        var points = new List<SchedulePoint>(sigmas.Count + 1);
        foreach (double s in sigmas)
        {
            if (s == 0) { points.Add(new SchedulePoint(1.0, 0.0, 0.0)); continue; }
            var (a, sg) = path.CoefficientsAtSigmaOverAlpha(s);
            points.Add(new SchedulePoint(a, sg, modelTime(s)));
        }
        if (sigmas[^1] != 0) points.Add(new SchedulePoint(1.0, 0.0, 0.0));
        return new StepSchedule(path, points);
    }

    /// <summary>
    /// A schedule on a discrete VP path from a user's timesteps (noisiest first, possibly fractional): point <c>i</c> is
    /// <c>(alpha(t_i), sigma(t_i))</c> called with model time <c>t_i</c>, then the end point <c>(sqrt(a), sqrt(1 - a))</c>
    /// with <c>a = finalAlphaBar</c> (1: the clean point; DDIM with <c>set_alpha_to_one = false</c> uses <c>abar[0]</c>).
    /// </summary>
    /// <exception cref="ArgumentException">A timestep that is non-finite, outside <c>[0, T - 1]</c> or larger than its predecessor; the message names the first bad index.</exception>
    public static StepSchedule FromTimesteps(DiscreteVpPath path, IReadOnlyList<double> timesteps, double finalAlphaBar = 1.0)
    {
        ArgumentNullException.ThrowIfNull(path);
        ValidateDecreasing(timesteps, nameof(timesteps), "timestep", lowerBound: 0, upperBound: path.TimeMax);
        if (!(finalAlphaBar > 0 && finalAlphaBar <= 1)) throw new ArgumentOutOfRangeException(nameof(finalAlphaBar), finalAlphaBar, "Must lie in (0, 1].");
        var points = new List<SchedulePoint>(timesteps.Count + 1);
        foreach (double t in timesteps) points.Add(PointAtTimestep(path, t));
        points.Add(new SchedulePoint(Math.Sqrt(finalAlphaBar), Math.Sqrt(1 - finalAlphaBar), 0.0));
        return new StepSchedule(path, points);
    }

    /// <summary>The point of a discrete VP path at timestep <paramref name="t"/>; at an integer <c>t</c> exactly
    /// <c>(sqrt(abar[t]), sqrt(1 - abar[t]))</c>.</summary>
    public static SchedulePoint PointAtTimestep(DiscreteVpPath path, double t)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (t == Math.Floor(t) && t >= 0 && t <= path.TimeMax)
        {
            double a = path.AlphasCumprod[(int)t];
            return new SchedulePoint(Math.Sqrt(a), Math.Sqrt(1 - a), t);
        }
        return new SchedulePoint(path.Alpha(t), path.Sigma(t), t);
    }

    /// <summary>
    /// The flow-matching plan on the rectified-flow path: <paramref name="steps"/> flow times evenly spaced from 1 down to
    /// <paramref name="timeMin"/>, warped by <paramref name="shift"/>, then the clean point. Point <c>i</c> is
    /// <c>(1 - u_i, u_i)</c> called with <c>modelTimeScale * u_i</c>.
    /// </summary>
    public static StepSchedule Flow(int steps, FlowTimeShift? shift = null, double modelTimeScale = 1000.0, double timeMin = 0.0)
        => FromFlowSigmas(SigmaArrays.Flow(steps, shift, timeMin), modelTimeScale);

    /// <summary>A flow-matching schedule from a user's flow sigmas <c>u</c> in <c>[0, 1]</c> (noisiest first); a clean point is appended unless the list ends at 0.</summary>
    /// <exception cref="ArgumentException">A value that is non-finite, outside <c>[0, 1]</c> or larger than its predecessor; the message names the first bad index.</exception>
    public static StepSchedule FromFlowSigmas(IReadOnlyList<double> sigmas, double modelTimeScale = 1000.0)
    {
        ValidateDecreasing(sigmas, nameof(sigmas), "flow sigma", lowerBound: 0, upperBound: 1);
        var path = new RectifiedFlowPath(null, modelTimeScale);
        var points = new List<SchedulePoint>(sigmas.Count + 1);
        foreach (double u in sigmas) points.Add(new SchedulePoint(1 - u, u, u == 0 ? 0.0 : modelTimeScale * u));
        if (sigmas[^1] != 0) points.Add(new SchedulePoint(1.0, 0.0, 0.0));
        return new StepSchedule(path, points);
    }

    /// <summary>
    /// The first step index for image-to-image with the given <paramref name="strength"/> in <c>[0, 1]</c>, as diffusers'
    /// pipelines compute it: <c>N - min(floor(N strength), N)</c> for <c>N</c> steps. Strength 1 starts from pure noise
    /// (index 0); strength 0 skips every step (index N, the clean end).
    /// </summary>
    public static int StartIndexForStrength(int steps, double strength)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Must be non-negative.");
        if (!(strength >= 0 && strength <= 1)) throw new ArgumentOutOfRangeException(nameof(strength), strength, "Strength must lie in [0, 1].");
        int init = Math.Min((int)Math.Floor(steps * strength), steps);
        return Math.Max(steps - init, 0);
    }

    /// <summary>
    /// Checks a user's list: every value finite, within the bounds, and no value larger than the one before it.
    /// </summary>
    /// <exception cref="ArgumentException">The message names the first bad index and its value.</exception>
    public static void ValidateDecreasing(IReadOnlyList<double> values, string parameterName, string what = "value", double lowerBound = double.NegativeInfinity, double upperBound = double.PositiveInfinity)
    {
        ArgumentNullException.ThrowIfNull(values, parameterName);
        if (values.Count == 0) throw new ArgumentException($"The list of {what}s is empty.", parameterName);
        for (int i = 0; i < values.Count; i++)
        {
            double v = values[i];
            if (!double.IsFinite(v))
                throw new ArgumentException($"{Capital(what)} {i} is not finite ({v}).", parameterName);
            if (v < lowerBound || v > upperBound)
                throw new ArgumentException($"{Capital(what)} {i} = {v} lies outside [{lowerBound}, {upperBound}].", parameterName);
            if (i > 0 && v > values[i - 1])
                throw new ArgumentException($"{Capital(what)} {i} = {v} is larger than {what} {i - 1} = {values[i - 1]}; the list must go from noise to data (non-increasing).", parameterName);
        }
    }

    private static string Capital(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}
