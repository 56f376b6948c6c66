using System.Collections.Immutable;
using System.Numerics;
using GenerativePaths.Paths;
using GenerativePaths.Tensors;

namespace GenerativePaths.Schedules;

/// <summary>One point of a step schedule: the path's coefficients there and the time value the model is called with.</summary>
/// <param name="Alpha">Signal scale <c>alpha</c> at the point.</param>
/// <param name="Sigma">Noise scale <c>sigma</c> at the point (0 at a final clean point).</param>
/// <param name="ModelTime">The time value passed to the model at the point (a timestep, a sigma, a flow time).</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public readonly record struct SchedulePoint(double Alpha, double Sigma, double ModelTime)
{
    /// <summary>The noise-to-signal ratio <c>sigma / alpha</c>: the sigma of the equivalent variance-exploding path (k-diffusion's sigma).</summary>
    public double SigmaOverAlpha => Sigma / Alpha;

    /// <summary>Log-SNR <c>log(alpha / sigma)</c>; +infinity at a clean point, -infinity where alpha = 0.</summary>
    public double LogSnr => Math.Log(Alpha) - Math.Log(Sigma);
}

/// <summary>
/// The discrete plan of points a sampler visits, from the noisiest point to the cleanest, with the
/// path it was drawn from. Immutable; a driver advances through it by index, so repeated model times are harmless.
/// </summary>
/// <remarks>
/// <para>Step <c>i</c> goes from <c>Points[i]</c> to <c>Points[i + 1]</c>; there are <c>Points.Length - 1</c> steps.
/// The noise-to-signal ratio <c>sigma/alpha</c> never increases along the plan. The last point usually has
/// <c>sigma = 0</c> (the clean end); a schedule imported from a configuration may end at a small positive sigma.</para>
/// <para><see cref="Path"/> serves samplers that evaluate the model between listed points (e.g. midpoint methods):
/// the point at log-SNR <c>lambda</c> is <c>t = Path.TimeFromLogSnr(lambda)</c>, called with <c>Path.ModelTime(t)</c>.</para>
/// <para>Thread safety: immutable; one schedule may serve several threads and runs at once.</para>
/// </remarks>
public sealed class StepSchedule
{
    /// <summary>Builds a schedule from its points.</summary>
    /// <exception cref="ArgumentException">Fewer than two points, a non-finite or negative value, or a noise-to-signal ratio that increases; the message names the first bad index.</exception>
    public StepSchedule(NoisePath path, IEnumerable<SchedulePoint> points)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(points);
        Path = path;
        Points = points.ToImmutableArray();
        if (Points.Length < 2)
            throw new ArgumentException($"A step schedule needs at least two points; got {Points.Length}.", nameof(points));
        for (int i = 0; i < Points.Length; i++)
        {
            var p = Points[i];
            if (!double.IsFinite(p.Alpha) || !double.IsFinite(p.Sigma) || !double.IsFinite(p.ModelTime) || p.Alpha < 0 || p.Sigma < 0 || (p.Alpha == 0 && p.Sigma == 0))
                throw new ArgumentException($"Schedule point {i} is invalid: alpha = {p.Alpha}, sigma = {p.Sigma}, model time = {p.ModelTime}.", nameof(points));
            if (i > 0 && Ratio(p) > Ratio(Points[i - 1]))
                throw new ArgumentException($"Schedule point {i} has a larger noise-to-signal ratio ({Ratio(p)}) than point {i - 1} ({Ratio(Points[i - 1])}); the plan must go from noise to data.", nameof(points));
        }
    }

    private static double Ratio(SchedulePoint p) => p.Alpha == 0 ? double.PositiveInfinity : p.Sigma / p.Alpha;

    /// <summary>The path the schedule was drawn from.</summary>
    public NoisePath Path { get; }

    /// <summary>The points, noisiest first.</summary>
    public ImmutableArray<SchedulePoint> Points { get; }

    /// <summary>Number of points, <c>Points.Length</c> (also enables <c>schedule[^1]</c>).</summary>
    public int Count => Points.Length;

    /// <summary>Number of steps, <c>Points.Length - 1</c>.</summary>
    public int StepCount => Points.Length - 1;

    /// <summary>Point <paramref name="index"/>.</summary>
    public SchedulePoint this[int index] => Points[index];

    /// <summary>The schedule from point <paramref name="startIndex"/> on (image-to-image: start from a partly noised input;
    /// see <see cref="StepSchedules.StartIndexForStrength"/>). The path is kept.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than two points would remain.</exception>
    public StepSchedule StartingAt(int startIndex)
    {
        if (startIndex < 0 || startIndex > Points.Length - 2)
            throw new ArgumentOutOfRangeException(nameof(startIndex), startIndex, $"The start index must lie in [0, {Points.Length - 2}] so that at least one step remains.");
        return startIndex == 0 ? this : new StepSchedule(Path, Points.Skip(startIndex));
    }

    /// <summary>The schedule for image-to-image <paramref name="strength"/> in <c>(0, 1]</c>: <see cref="StartingAt"/> the index
    /// diffusers' pipelines use, <c>N - floor(N strength)</c>.</summary>
    public StepSchedule WithStrength(double strength)
    {
        int start = StepSchedules.StartIndexForStrength(StepCount, strength);
        if (start >= StepCount)
            throw new ArgumentOutOfRangeException(nameof(strength), strength, $"Strength {strength} leaves no step of {StepCount}.");
        return StartingAt(start);
    }

    /// <summary>
    /// Turns standard-normal noise into the start state of this schedule, in place: <c>x = sigma_0 z</c>.
    /// </summary>
    /// <remarks>
    /// <para>The library's state is <c>x = alpha x0 + sigma eps</c> in the path's own coordinates, so the start of a generation
    /// (x0 unknown) is <c>sigma_0 z</c> with <c>sigma_0 = this[0].Sigma</c>: 1 on rectified flow and at zero terminal SNR, just
    /// under 1 on variance-preserving paths, <c>sigma_max</c> on variance-exploding (EDM, Karras) paths. Multiply by nothing else.
    /// diffusers' attribute <c>init_noise_sigma</c> (<c>Configs.DiffusersSchedulerConfig.PeerInitNoiseSigma</c>) is a factor for
    /// diffusers' own (for the Euler family, variance-exploding) coordinates, and applied to the library's state it gives samples of
    /// the wrong scale; <c>Configs.DiffusersSchedulerConfig.InitNoiseSigma</c> is the same start translated to the library's state
    /// (equal to <c>sigma_0</c> or, where diffusers starts from <c>z</c> itself, 1).</para>
    /// <para><c>sigma_0</c> is rounded to <typeparamref name="T"/> once and each element is multiplied by it (what
    /// <c>gpaths generate</c> does). Draw <paramref name="noise"/> with
    /// <c>new PhiloxNoise(seed).Fill(x, NoiseStreams.Start)</c> to keep the noise of each sample keyed by its index.</para>
    /// </remarks>
    /// <param name="noise">Standard-normal noise, one row per sample; overwritten with the start state.</param>
    /// <exception cref="ArgumentNullException"><paramref name="noise"/> is null.</exception>
    public void Start<T>(BatchTensor<T> noise) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(noise);
        System.Numerics.Tensors.TensorPrimitives.Multiply<T>(noise.Span, T.CreateTruncating(Points[0].Sigma), noise.Span);
    }

    /// <summary>
    /// The start state of an image-to-image run on this schedule (e.g. one from <see cref="WithStrength"/>):
    /// <c>destination = alpha_0 x0 + sigma_0 z</c>, the clean input noised to the first point.
    /// </summary>
    /// <remarks>Computed as the two-term <see cref="TensorKernels.LinearCombination{T}(Span{T}, T, ReadOnlySpan{T}, T, ReadOnlySpan{T})"/>
    /// with <c>alpha_0</c> and <c>sigma_0</c> rounded to <typeparamref name="T"/>; <paramref name="destination"/> may be
    /// <paramref name="x0"/> or <paramref name="noise"/> itself.</remarks>
    /// <exception cref="ArgumentException">The three tensors differ in shape.</exception>
    public void Start<T>(BatchTensor<T> x0, BatchTensor<T> noise, BatchTensor<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x0);
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(destination);
        if (!x0.HasSameShape(destination) || !noise.HasSameShape(destination))
            throw new ArgumentException($"x0 {x0.ShapeString}, noise {noise.ShapeString} and destination {destination.ShapeString} must have one shape.", nameof(destination));
        TensorKernels.LinearCombination<T>(destination.Span, T.CreateTruncating(Points[0].Alpha), x0.Span, T.CreateTruncating(Points[0].Sigma), noise.Span);
    }
}
