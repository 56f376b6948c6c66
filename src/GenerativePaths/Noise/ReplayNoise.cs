using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Noise;

/// <summary>
/// Hands out noise tensors the user supplies, one per request; for replaying the noise another implementation drew (the shared
/// reference cases) or for the user's own noise. A tape may also list the interval <c>(sigma, sigma_next)</c> each tensor was drawn
/// for: then a request for an interval (<see cref="IIntervalNoiseSource"/>) takes the next tensor recorded for that interval, passing
/// over tensors the recorder drew but the sampler does not need (a draw multiplied by zero, e.g. on a last step or at <c>eta = 0</c>).
/// </summary>
/// <remarks>
/// <para>Requests without an interval (<see cref="Fill{T}(BatchTensor{T}, long, ReadOnlySpan{long})"/>) take the next tensor in order.
/// An interval request on a tape with intervals scans forward from the next tensor for the first whose recorded interval matches
/// <c>|a - a_rec| &lt;= tol max(|a|, |a_rec|)</c> at both ends (<c>tol</c> = <see cref="IntervalTolerance"/>, default <c>1e-5</c>, since peers
/// often compute their noise levels in float32); the tensors before it are counted as <see cref="Skipped"/>. No match raises an
/// exception naming the interval. Each tensor must have the destination's shape; the rows are copied as given (sample ids are
/// ignored), so a replayed run must use the same batch layout as the recording.</para>
/// <para>Thread safety: not thread safe; each request advances the tape, so one instance serves one run on one thread.</para>
/// </remarks>
public sealed class ReplayNoise : NoiseSource, IIntervalNoiseSource
{
    private readonly double[][][] _tape;
    private readonly (double From, double To)[]? _intervals;
    private int _next;

    /// <summary>A replay of <paramref name="tape"/>: <c>tape[k][b][i]</c> is element <c>i</c> of row <c>b</c> in the k-th request.</summary>
    public ReplayNoise(IEnumerable<double[][]> tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        _tape = tape.ToArray();
    }

    /// <summary>A replay of <paramref name="tape"/> keyed by the interval each tensor was drawn for (<c>intervals[k]</c> for <c>tape[k]</c>).</summary>
    /// <param name="tape">The tensors, in the order they were drawn.</param>
    /// <param name="intervals">The <c>(sigma, sigma_next)</c> of each draw, one per tensor.</param>
    /// <param name="intervalTolerance">The relative tolerance of an interval match (non-negative).</param>
    /// <exception cref="ArgumentException">The interval count differs from the tape's length, or an interval end is NaN.</exception>
    public ReplayNoise(IEnumerable<double[][]> tape, IEnumerable<(double From, double To)> intervals, double intervalTolerance = 1e-5) : this(tape)
    {
        ArgumentNullException.ThrowIfNull(intervals);
        if (!(intervalTolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(intervalTolerance), intervalTolerance, "The interval tolerance must be non-negative.");
        _intervals = intervals.ToArray();
        if (_intervals.Length != _tape.Length)
            throw new ArgumentException($"{_intervals.Length} intervals for a tape of {_tape.Length} tensors.", nameof(intervals));
        if (_intervals.Any(i => double.IsNaN(i.From) || double.IsNaN(i.To)))
            throw new ArgumentException("An interval end is NaN.", nameof(intervals));
        IntervalTolerance = intervalTolerance;
    }

    /// <summary>How many tensors have been handed out.</summary>
    public int Consumed { get; private set; }

    /// <summary>How many tensors were passed over by interval requests (recorded draws the sampler did not need).</summary>
    public int Skipped { get; private set; }

    /// <summary>How many tensors remain after the last one handed out or passed over.</summary>
    public int Remaining => _tape.Length - _next;

    /// <summary>Whether the tape lists the interval of each draw.</summary>
    public bool HasIntervals => _intervals is not null;

    /// <summary>The relative tolerance of an interval match (0 when the tape has no intervals).</summary>
    public double IntervalTolerance { get; }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The tape is exhausted.</exception>
    /// <exception cref="ArgumentException">The next tensor's shape differs from the destination's.</exception>
    public override void Fill<T>(BatchTensor<T> destination, long stream, ReadOnlySpan<long> sampleIds)
    {
        CheckArguments(destination, sampleIds);
        if (_next >= _tape.Length)
            throw new InvalidOperationException($"The replay noise tape is exhausted: all {_tape.Length} recorded tensors were used, and request {Consumed} (stream {stream}) asked for another.");
        Copy(destination);
    }

    /// <summary>Fills <paramref name="destination"/> with the next tensor recorded for the interval <c>(from, to)</c>; on a tape
    /// without intervals, with the next tensor in order.</summary>
    /// <exception cref="InvalidOperationException">No tensor after the ones already used was recorded for that interval.</exception>
    /// <exception cref="ArgumentException">The tensor's shape differs from the destination's.</exception>
    public void FillInterval<T>(BatchTensor<T> destination, double from, double to, long stream, ReadOnlySpan<long> sampleIds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (_intervals is null) { Fill(destination, stream, sampleIds); return; }
        CheckArguments(destination, sampleIds);
        int k = _next;
        while (k < _tape.Length && !(Near(_intervals[k].From, from) && Near(_intervals[k].To, to))) k++;
        if (k >= _tape.Length)
            throw new InvalidOperationException($"The replay noise tape has no tensor for the interval ({from}, {to}) after the {_next} already used or passed over" +
                (_next < _tape.Length ? $" (the next is recorded for ({_intervals[_next].From}, {_intervals[_next].To}))." : " (the tape is exhausted)."));
        Skipped += k - _next;
        _next = k;
        Copy(destination);
    }

    private bool Near(double recorded, double asked)
        => recorded == asked || Math.Abs(recorded - asked) <= IntervalTolerance * Math.Max(Math.Abs(recorded), Math.Abs(asked));

    private void Copy<T>(BatchTensor<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var item = _tape[_next];
        if (item.Length != destination.BatchSize || item.Any(r => r.Length != destination.RowLength))
            throw new ArgumentException($"Replay tensor {_next} has {item.Length} rows of {(item.Length > 0 ? item[0].Length : 0)}; the destination has shape {destination.ShapeString}.", nameof(destination));
        for (int b = 0; b < item.Length; b++)
        {
            var row = destination.Row(b);
            for (int i = 0; i < row.Length; i++) row[i] = T.CreateTruncating(item[b][i]);
        }
        _next++;
        Consumed++;
    }
}
