using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.ParallelInTime;

/// <summary>The last rounds of one call: its sweep inputs <c>G</c> and residuals <c>R = G - u</c> (<c>u</c> where the model was evaluated).</summary>
internal sealed class AndersonHistory<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly BatchTensor<T>[] _g, _r;
    private readonly int[] _count;
    private readonly double[] _lastNorm;
    private int _next;

    public AndersonHistory(int capacity, int batch, int rowLength)
    {
        _g = new BatchTensor<T>[capacity];
        _r = new BatchTensor<T>[capacity];
        for (int k = 0; k < capacity; k++)
        {
            _g[k] = BatchTensor<T>.Allocate(batch, rowLength);
            _r[k] = BatchTensor<T>.Allocate(batch, rowLength);
        }
        _count = new int[batch];
        _lastNorm = new double[batch];
    }

    /// <summary>Entries held for sample <paramref name="row"/> (at most the capacity).</summary>
    public int Count(int row) => _count[row];

    public void Clear() { Array.Clear(_count); _next = 0; }

    /// <summary>
    /// Adds the current round: <c>G = recorded</c>, <c>R = recorded - evaluated</c>. A sample whose residual grew since the last round
    /// restarts its history from this entry (the usual safeguard of Anderson mixing on a non-contracting stretch).
    /// </summary>
    public void Push(ReadOnlySpan<T> recorded, ReadOnlySpan<T> evaluated)
    {
        var gt = _g[_next];
        var rt = _r[_next];
        recorded.CopyTo(gt.Span);
        var g = gt.Span;
        var r = rt.Span;
        for (int i = 0; i < g.Length; i++) r[i] = g[i] - evaluated[i];
        for (int b = 0; b < _count.Length; b++)
        {
            var row = rt.Row(b);
            double n = 0;
            for (int i = 0; i < row.Length; i++) { double v = double.CreateTruncating(row[i]); n += v * v; }
            _count[b] = _count[b] > 0 && n > _lastNorm[b] ? 1 : Math.Min(_count[b] + 1, _g.Length);
            _lastNorm[b] = n;
        }
        _next = (_next + 1) % _g.Length;
    }

    private int Index(int back) => ((_next - 1 - back) % _g.Length + _g.Length) % _g.Length;

    /// <summary>Row <paramref name="row"/> of <c>G</c>, <paramref name="back"/> rounds ago (0 = latest).</summary>
    public ReadOnlySpan<T> G(int back, int row) => _g[Index(back)].Row(row);

    /// <summary>Row <paramref name="row"/> of <c>R</c>, <paramref name="back"/> rounds ago (0 = latest).</summary>
    public ReadOnlySpan<T> R(int back, int row) => _r[Index(back)].Row(row);
}

/// <summary>
/// Triangular Anderson extrapolation of the model-call inputs of a window (ParaTAA, Tang et al., ICML 2024; Anderson type II as in
/// Walker and Ni, SIAM J. Numer. Anal. 2011), per sample: for call <c>s</c>, <c>gamma</c> solves the least-squares problem over the
/// residual differences of calls <c>1..s</c>, and the next input is <c>G_k - sum_j gamma_j dG_j</c>.
/// </summary>
/// <remarks>The normal equations are at most 8 x 8 per call and sample, solved here by Gaussian elimination with partial pivoting and a
/// relative ridge of 1e-10 (a library solver would allocate in this inner loop).</remarks>
internal sealed class AndersonMixer<T>(int memory, int batch, int rowLength) where T : unmanaged, IFloatingPointIeee754<T>
{
    public const int MaxMemory = 8;

    private readonly double[] _gram = new double[MaxMemory * MaxMemory];
    private readonly double[] _rhs = new double[MaxMemory];
    private readonly double[] _a = new double[MaxMemory * MaxMemory];
    private readonly double[] _gamma = new double[MaxMemory];
    private readonly double[] _row = new double[rowLength];

    /// <summary>
    /// Writes the next evaluation input of every slot evaluated this round (<see cref="CallSlot{T}.RoundRow"/> at least 0) into its row
    /// block of <paramref name="input"/>. <paramref name="window"/> lists the window's calls in sweep order; its first <paramref name="keep"/>
    /// (the calls of the window's first step) are evaluated where the sweep asked, never extrapolated.
    /// </summary>
    public void Extrapolate(List<CallSlot<T>> window, int keep, BatchTensor<T> input)
    {
        foreach (var slot in window)
        {
            if (!slot.HasEval) { slot.History?.Clear(); continue; }
            slot.History ??= new AndersonHistory<T>(memory + 1, batch, rowLength);
            slot.History.Push(slot.Recorded.Span, slot.Input.Span);
        }
        for (int b = 0; b < batch; b++)
        {
            Array.Clear(_gram);
            Array.Clear(_rhs);
            for (int s = 0; s < window.Count; s++)
            {
                var slot = window[s];
                var h = slot.History;
                int n = h is null || !slot.HasEval ? 0 : Math.Min(memory, h.Count(b) - 1);
                if (n > 0) Accumulate(h!, b, n);
                int r = slot.RoundRow;
                if (r < 0) continue;
                var dest = input.Rows(r * batch, batch).Row(b);
                var recorded = slot.Recorded.Row(b);
                if (s < keep || n == 0 || !Solve(n)) { recorded.CopyTo(dest); continue; }
                // v = G_k - sum_j gamma_j (G_{k-j} - G_{k-j-1}), accumulated in double per element, term by term.
                var v = _row.AsSpan(0, dest.Length);
                var g0 = h!.G(0, b);
                for (int i = 0; i < v.Length; i++) v[i] = double.CreateTruncating(g0[i]);
                for (int j = 0; j < n; j++)
                {
                    var ga = h.G(j, b);
                    var gb = h.G(j + 1, b);
                    double gamma = _gamma[j];
                    for (int i = 0; i < v.Length; i++) v[i] -= gamma * (double.CreateTruncating(ga[i]) - double.CreateTruncating(gb[i]));
                }
                bool finite = true;
                foreach (double e in v) if (!double.IsFinite(e)) { finite = false; break; }
                if (!finite) { recorded.CopyTo(dest); continue; }
                for (int i = 0; i < v.Length; i++) dest[i] = T.CreateTruncating(v[i]);
            }
        }
    }

    /// <summary>Adds call <paramref name="h"/>'s sample <paramref name="b"/> to the normal equations: <c>A += dR^T dR</c>, <c>c += dR^T R_k</c>.</summary>
    private void Accumulate(AndersonHistory<T> h, int b, int n)
    {
        int d = rowLength;
        for (int j = 0; j < n; j++)
        {
            var rj0 = h.R(j, b);
            var rj1 = h.R(j + 1, b);
            var rk = h.R(0, b);
            double c = 0;
            for (int i = 0; i < d; i++) c += (double.CreateTruncating(rj0[i]) - double.CreateTruncating(rj1[i])) * double.CreateTruncating(rk[i]);
            _rhs[j] += c;
            for (int jj = 0; jj <= j; jj++)
            {
                var rl0 = h.R(jj, b);
                var rl1 = h.R(jj + 1, b);
                double g = 0;
                for (int i = 0; i < d; i++)
                    g += (double.CreateTruncating(rj0[i]) - double.CreateTruncating(rj1[i])) * (double.CreateTruncating(rl0[i]) - double.CreateTruncating(rl1[i]));
                _gram[j * MaxMemory + jj] += g;
                if (jj != j) _gram[jj * MaxMemory + j] += g;
            }
        }
    }

    /// <summary>Solves the leading <paramref name="n"/> x <paramref name="n"/> normal equations into <c>_gamma</c>; false when degenerate.</summary>
    private bool Solve(int n)
    {
        double trace = 0;
        for (int j = 0; j < n; j++) trace += _gram[j * MaxMemory + j];
        if (!(trace > 0) || !double.IsFinite(trace)) return false;
        double ridge = 1e-10 * trace / n;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) _a[i * MaxMemory + j] = _gram[i * MaxMemory + j] + (i == j ? ridge : 0);
            _gamma[i] = _rhs[i];
        }
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int i = col + 1; i < n; i++)
                if (Math.Abs(_a[i * MaxMemory + col]) > Math.Abs(_a[pivot * MaxMemory + col])) pivot = i;
            if (_a[pivot * MaxMemory + col] == 0) return false;
            if (pivot != col)
            {
                for (int j = 0; j < n; j++) (_a[col * MaxMemory + j], _a[pivot * MaxMemory + j]) = (_a[pivot * MaxMemory + j], _a[col * MaxMemory + j]);
                (_gamma[col], _gamma[pivot]) = (_gamma[pivot], _gamma[col]);
            }
            for (int i = col + 1; i < n; i++)
            {
                double f = _a[i * MaxMemory + col] / _a[col * MaxMemory + col];
                for (int j = col; j < n; j++) _a[i * MaxMemory + j] -= f * _a[col * MaxMemory + j];
                _gamma[i] -= f * _gamma[col];
            }
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = _gamma[i];
            for (int j = i + 1; j < n; j++) s -= _a[i * MaxMemory + j] * _gamma[j];
            _gamma[i] = s / _a[i * MaxMemory + i];
        }
        for (int i = 0; i < n; i++) if (!double.IsFinite(_gamma[i])) return false;
        return true;
    }
}
