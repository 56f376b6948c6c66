using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>
/// The dense solution of an adaptive solve: every accepted step of every sample with its stages, so that the
/// solution can be evaluated anywhere in the integrated span at the method's interpolation order.
/// </summary>
/// <remarks>Inside step <c>[t_n, t_n + h]</c>: <c>u(t_n + theta h) = y_n + h sum_i w_i(theta) k_i</c>
/// (see <see cref="EmbeddedTableau.DenseWeights"/>); at the nodes it returns the step values exactly.
/// Thread safety: complete once the solve has returned; after that any number of threads may evaluate it at once.</remarks>
public sealed class OdeSolution<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly EmbeddedTableau _method;
    private readonly int _rowLength;
    private readonly List<double>[] _t0;
    private readonly List<double>[] _h;
    private readonly List<T[]>[] _data;
    private readonly double[] _weights;

    internal OdeSolution(EmbeddedTableau method, int batchSize, int rowLength)
    {
        _method = method;
        _rowLength = rowLength;
        _t0 = new List<double>[batchSize];
        _h = new List<double>[batchSize];
        _data = new List<T[]>[batchSize];
        for (int b = 0; b < batchSize; b++) { _t0[b] = []; _h[b] = []; _data[b] = []; }
        _weights = new double[method.Stages + 1];
        BatchSize = batchSize;
    }

    /// <summary>The number of samples.</summary>
    public int BatchSize { get; }

    /// <summary>The method whose interpolant is used.</summary>
    public EmbeddedTableau Method => _method;

    /// <summary>The number of stored steps of sample <paramref name="sample"/>.</summary>
    public int StepCount(int sample) => _t0[sample].Count;

    /// <summary>The start time and signed size of stored step <paramref name="index"/> of <paramref name="sample"/>.</summary>
    public (double Start, double Step) StepOf(int sample, int index) => (_t0[sample][index], _h[sample][index]);

    internal void Add(int sample, double t0, double h, ReadOnlySpan<T> y0, BatchTensor<T>[] stages)
    {
        int d = _rowLength;
        var block = new T[d * (stages.Length + 1)];
        y0.CopyTo(block);
        for (int j = 0; j < stages.Length; j++) stages[j].Span.Slice(sample * d, d).CopyTo(block.AsSpan((j + 1) * d, d));
        _t0[sample].Add(t0);
        _h[sample].Add(h);
        _data[sample].Add(block);
    }

    /// <summary>Writes the solution at time <paramref name="t"/> into <paramref name="destination"/> (every sample).</summary>
    /// <exception cref="ArgumentException">The destination has the wrong shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> lies outside the steps stored for some sample.</exception>
    public void Evaluate(double t, BatchTensor<T> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.BatchSize != BatchSize || destination.RowLength != _rowLength)
            throw new ArgumentException($"The destination has shape {destination.ShapeString}; the solution has {BatchSize} samples of {_rowLength} elements.", nameof(destination));
        for (int b = 0; b < BatchSize; b++) EvaluateRow(b, t, destination.Row(b));
    }

    /// <summary>Writes sample <paramref name="sample"/>'s solution at time <paramref name="t"/> into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="t"/> lies outside the stored steps.</exception>
    public void EvaluateRow(int sample, double t, Span<T> destination)
    {
        if ((uint)sample >= (uint)BatchSize) throw new ArgumentOutOfRangeException(nameof(sample), sample, $"Sample must be in [0, {BatchSize}).");
        if (destination.Length < _rowLength) throw new ArgumentException($"destination needs {_rowLength} elements.", nameof(destination));
        var t0 = _t0[sample];
        var h = _h[sample];
        int n = t0.Count;
        if (n == 0) throw new ArgumentOutOfRangeException(nameof(t), t, $"Sample {sample} has no stored steps.");
        double dir = Math.Sign(h[0]);
        double first = t0[0], last = t0[n - 1] + h[n - 1];
        if ((t - first) * dir < 0 || (t - last) * dir > 0)
            throw new ArgumentOutOfRangeException(nameof(t), t, $"Time {t} lies outside the solved span [{first}, {last}] of sample {sample}.");
        // Binary search for the last step starting at or before t (in the direction of integration).
        int lo = 0, hi = n - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >> 1;
            if ((t0[mid] - t) * dir <= 0) lo = mid; else hi = mid - 1;
        }
        var block = _data[sample][lo];
        int d = _rowLength;
        double theta = Math.Clamp((t - t0[lo]) / h[lo], 0, 1);
        var dest = destination[..d];
        var y0 = block.AsSpan(0, d);
        if (theta == 0) { y0.CopyTo(dest); return; }
        _method.DenseWeights(theta, _weights);
        y0.CopyTo(dest);
        for (int j = 0; j < _weights.Length; j++)
        {
            if (_weights[j] == 0) continue;
            TensorKernels.LinearCombination(dest, T.One, dest, T.CreateTruncating(h[lo] * _weights[j]), block.AsSpan((j + 1) * d, d));
        }
    }
}
