using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Noise;

/// <summary>
/// Hands out noise tensors the user supplies, in order, one per request, whatever the stream; for
/// replaying the noise another implementation drew (the shared reference cases) or for the user's own noise.
/// </summary>
/// <remarks>Each request takes the next tensor, which must have the destination's shape; the rows are copied
/// as given (sample ids are ignored), so a replayed run must use the same batch layout as the recording.
/// <para>Thread safety: not thread safe; each request advances the tape, so one instance serves one run on one thread.</para></remarks>
public sealed class ReplayNoise : NoiseSource
{
    private readonly double[][][] _tape;
    private int _next;

    /// <summary>A replay of <paramref name="tape"/>: <c>tape[k][b][i]</c> is element <c>i</c> of row <c>b</c> in the k-th request.</summary>
    public ReplayNoise(IEnumerable<double[][]> tape)
    {
        ArgumentNullException.ThrowIfNull(tape);
        _tape = tape.ToArray();
    }

    /// <summary>How many tensors have been handed out.</summary>
    public int Consumed => _next;

    /// <summary>How many tensors remain.</summary>
    public int Remaining => _tape.Length - _next;

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The tape is exhausted.</exception>
    /// <exception cref="ArgumentException">The next tensor's shape differs from the destination's.</exception>
    public override void Fill<T>(BatchTensor<T> destination, long stream, ReadOnlySpan<long> sampleIds)
    {
        CheckArguments(destination, sampleIds);
        if (_next >= _tape.Length)
            throw new InvalidOperationException($"The replay noise tape is exhausted: all {_tape.Length} recorded tensors were used, and request {_next} (stream {stream}) asked for another.");
        var item = _tape[_next];
        if (item.Length != destination.BatchSize || item.Any(r => r.Length != destination.RowLength))
            throw new ArgumentException($"Replay tensor {_next} has {item.Length} rows of {(item.Length > 0 ? item[0].Length : 0)}; the destination has shape {destination.ShapeString}.", nameof(destination));
        for (int b = 0; b < item.Length; b++)
        {
            var row = destination.Row(b);
            for (int i = 0; i < row.Length; i++) row[i] = T.CreateTruncating(item[b][i]);
        }
        _next++;
    }
}
