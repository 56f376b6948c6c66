using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>Records the outputs of accepted steps: states at the save times (from the dense output, steps never shortened),
/// the dense solution, and the state at a terminal event.</summary>
/// <remarks>
/// <para>For a save time <c>ts</c> in <c>(t, t_end]</c>: <c>y(ts) = y + h sum_i b_i(theta) k_i</c> with <c>theta = (ts - t)/h</c>; the
/// step's end itself is copied. An event at <c>theta &lt; 1</c> replaces <c>y_new</c> by the interpolant at <c>theta</c>.</para>
/// <para>Thread safety: one per solve; not shared.</para>
/// </remarks>
internal sealed class SaveRecorder<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _times;
    private readonly double _dir;

    public SaveRecorder(double[] saveTimes, double dir, int batch, int[] shape, OdeSolution<T>? solution)
    {
        _times = saveTimes;
        _dir = dir;
        Saved = new BatchTensor<T>[saveTimes.Length];
        for (int i = 0; i < saveTimes.Length; i++) { Saved[i] = BatchTensor<T>.Allocate(batch, shape); Saved[i].Span.Fill(T.NaN); }
        Solution = solution;
    }

    public BatchTensor<T>[] Saved { get; }

    public OdeSolution<T>? Solution { get; }

    /// <summary>A solve over an empty span: every save time holds the initial state.</summary>
    public void FillAll(BatchTensor<T> y)
    {
        foreach (var s in Saved) y.Span.CopyTo(s.Span);
    }

    /// <summary>Records every accepted sample's saves, dense step and event state.</summary>
    public void Record(AdaptiveWorkspace<T> w)
    {
        int D = w.Row, n = _times.Length;
        var m = w.Method;
        for (int b = 0; b < w.Batch; b++)
        {
            if (!w.Accepted[b]) continue;
            int off = b * D;
            double tb = w.Time[b], hsb = w.Hs[b];
            while (w.NextSave[b] < n)
            {
                double ts = _times[w.NextSave[b]];
                if ((ts - w.TEnd[b]) * _dir > 0) break;
                var dest = Saved[w.NextSave[b]].Row(b);
                if (ts == w.TEnd[b] && w.Theta[b] == 1) w.YNew.Row(b).CopyTo(dest);
                else
                {
                    m.DenseWeights(Math.Clamp((ts - tb) / hsb, 0, 1), w.Weights);
                    LinearSums.CombineRow<T>(dest, w.Y.Row(b), hsb, w.Weights, w.K, off, D);
                }
                w.NextSave[b]++;
            }
            Solution?.Add(b, tb, hsb, w.Y.Row(b), w.K);
            if (w.Theta[b] < 1)
            {
                m.DenseWeights(w.Theta[b], w.Weights);
                LinearSums.CombineRow<T>(w.YNew.Row(b), w.Y.Row(b), hsb, w.Weights, w.K, off, D);
            }
        }
    }
}
