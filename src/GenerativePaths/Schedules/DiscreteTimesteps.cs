namespace GenerativePaths.Schedules;

/// <summary>How inference timesteps are spread over <c>T</c> training timesteps (Lin et al. 2024, arXiv 2305.08891, Table 2).</summary>
/// <remarks>Thread safety: an enumeration; its values may be shared by any number of threads.</remarks>
public enum TimestepSpacing
{
    /// <summary>Multiples of <c>T / N</c> (integer division) from 0 upward, plus <c>steps_offset</c>; never reaches <c>T - 1</c>.</summary>
    Leading,

    /// <summary>From <c>T</c> down in strides of <c>T / N</c> (real division), rounded, minus 1: starts at <c>T - 1</c>.</summary>
    Trailing,

    /// <summary>Evenly spaced over <c>[0, T - 1]</c>, both ends included.</summary>
    Linspace,
}

/// <summary>
/// The inference timesteps of the diffusers schedulers over <c>T</c> training timesteps, computed as each scheduler
/// class computes them (in float64, rounding half to even as NumPy does), noisiest first.
/// </summary>
/// <remarks>
/// Three families (diffusers 0.3x, <c>src/diffusers/schedulers/</c>):
/// <list type="bullet">
/// <item><see cref="Integer"/>: <c>scheduling_ddim.py</c>, <c>scheduling_ddpm.py</c>: linspace <c>round(linspace(0, T-1, N))</c>;
/// leading <c>i * (T div N) + offset</c>; trailing <c>round(T - i T/N) - 1</c>.</item>
/// <item><see cref="Fractional"/>: <c>scheduling_euler_discrete.py</c>, <c>..._euler_ancestral_discrete.py</c>,
/// <c>scheduling_heun_discrete.py</c>, <c>scheduling_lms_discrete.py</c>, <c>scheduling_k_dpm_2_discrete.py</c>: the same but linspace is not rounded.</item>
/// <item><see cref="IntegerDropLast"/>: <c>scheduling_dpmsolver_multistep.py</c>, <c>scheduling_unipc_multistep.py</c>: linspace and leading
/// over <c>N + 1</c> points with the last (smallest) dropped: <c>round(linspace(0, L-1, N+1))[1:]</c> reversed, leading with stride <c>L div (N+1)</c>.</item>
/// </list>
/// Step counts for which diffusers would produce a timestep outside <c>[0, T - 1]</c> (a leading offset past the end, or a
/// trailing <c>arange</c> whose rounded-up length exceeds <c>N</c>) are rejected with an <see cref="ArgumentException"/>.
/// <para>Thread safety: stateless; every member may be called from several threads at once.</para>
/// </remarks>
public static class DiscreteTimesteps
{
    /// <summary>Integer timesteps as DDIM and DDPM compute them.</summary>
    public static double[] Integer(int trainingSteps, int steps, TimestepSpacing spacing, int stepsOffset = 0)
    {
        Check(trainingSteps, steps);
        var t = new double[steps];
        switch (spacing)
        {
            case TimestepSpacing.Linspace:
                for (int i = 0; i < steps; i++) t[steps - 1 - i] = Math.Round(Linspace(0, trainingSteps - 1, steps, i));
                break;
            case TimestepSpacing.Leading:
                int ratio = trainingSteps / steps;
                for (int i = 0; i < steps; i++) t[steps - 1 - i] = (double)i * ratio + stepsOffset;
                break;
            case TimestepSpacing.Trailing:
                Trailing(trainingSteps, trainingSteps, steps, t);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(spacing), spacing, "Unknown timestep spacing.");
        }
        return CheckRange(t, trainingSteps, spacing, stepsOffset);
    }

    /// <summary>Timesteps as the Euler-family schedulers compute them (linspace unrounded, so fractional).</summary>
    public static double[] Fractional(int trainingSteps, int steps, TimestepSpacing spacing, int stepsOffset = 0)
    {
        if (spacing != TimestepSpacing.Linspace) return Integer(trainingSteps, steps, spacing, stepsOffset);
        Check(trainingSteps, steps);
        var t = new double[steps];
        for (int i = 0; i < steps; i++) t[steps - 1 - i] = Linspace(0, trainingSteps - 1, steps, i);
        return t;
    }

    /// <summary>Integer timesteps as DPM-Solver multistep and UniPC compute them (<c>N + 1</c> points, the last dropped).</summary>
    /// <param name="trainingSteps">T.</param>
    /// <param name="steps">N.</param>
    /// <param name="spacing">The spacing.</param>
    /// <param name="stepsOffset">Added to leading timesteps.</param>
    /// <param name="lastTimestep">The exclusive upper end <c>L</c> (DPM-Solver's <c>T - clipped index</c> under <c>lambda_min_clipped</c>); default <c>T</c>.</param>
    public static double[] IntegerDropLast(int trainingSteps, int steps, TimestepSpacing spacing, int stepsOffset = 0, int? lastTimestep = null)
    {
        Check(trainingSteps, steps);
        int last = lastTimestep ?? trainingSteps;
        if (last < 2 || last > trainingSteps) throw new ArgumentOutOfRangeException(nameof(lastTimestep), last, $"Must lie in [2, {trainingSteps}].");
        var t = new double[steps];
        switch (spacing)
        {
            case TimestepSpacing.Linspace:
                for (int i = 1; i <= steps; i++) t[steps - i] = Math.Round(Linspace(0, last - 1, steps + 1, i));
                break;
            case TimestepSpacing.Leading:
                int ratio = last / (steps + 1);
                for (int i = 1; i <= steps; i++) t[steps - i] = (double)i * ratio + stepsOffset;
                break;
            case TimestepSpacing.Trailing:
                Trailing(last, trainingSteps, steps, t);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(spacing), spacing, "Unknown timestep spacing.");
        }
        return CheckRange(t, trainingSteps, spacing, stepsOffset);
    }

    /// <summary>NumPy's <c>linspace(start, stop, num)[i]</c>: <c>start + i (stop - start) / (num - 1)</c>, the last exactly <c>stop</c>.</summary>
    internal static double Linspace(double start, double stop, int num, int i)
    {
        if (num == 1) return start;
        if (i == num - 1) return stop;
        double step = (stop - start) / (num - 1);
        return i * step + start;
    }

    // round(arange(start, 0, -T/N)) - 1, with NumPy's length ceil(start / (T/N)).
    private static void Trailing(int start, int trainingSteps, int steps, double[] t)
    {
        double ratio = (double)trainingSteps / steps;
        int len = (int)Math.Ceiling((0.0 - start) / -ratio);
        if (len != steps)
            throw new ArgumentException($"Trailing spacing from {start} in strides of {ratio} gives {len} timesteps, not the {steps} requested (NumPy's arange rounds its length up here, and diffusers would list a timestep below 0); choose another number of steps.", nameof(steps));
        for (int i = 0; i < steps; i++) t[i] = Math.Round(start + i * -ratio) - 1;
    }

    private static void Check(int trainingSteps, int steps)
    {
        if (trainingSteps < 2) throw new ArgumentOutOfRangeException(nameof(trainingSteps), trainingSteps, "Need at least two training timesteps.");
        if (steps < 1 || steps > trainingSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"The number of inference steps must lie in [1, {trainingSteps}] (the training timesteps).");
    }

    private static double[] CheckRange(double[] t, int trainingSteps, TimestepSpacing spacing, int stepsOffset)
    {
        for (int i = 0; i < t.Length; i++)
            if (t[i] < 0 || t[i] > trainingSteps - 1)
                throw new ArgumentException($"Timestep {i} = {t[i]} (spacing {spacing}, steps_offset {stepsOffset}) lies outside [0, {trainingSteps - 1}].", nameof(stepsOffset));
        return t;
    }
}
