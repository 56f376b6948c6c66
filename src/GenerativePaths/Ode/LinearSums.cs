using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>
/// A sparse list of (weight, stage) pairs: the nonzero entries of a row of <c>A</c>, of <c>b</c>, of the error
/// weights or of the dense-output weights. Built once per tableau; allocation-free to use.
/// </summary>
internal sealed class StageWeights
{
    public StageWeights(ReadOnlySpan<double> weights)
    {
        int n = 0;
        foreach (var w in weights) if (w != 0) n++;
        Index = new int[n];
        Weight = new double[n];
        n = 0;
        for (int i = 0; i < weights.Length; i++)
            if (weights[i] != 0) { Index[n] = i; Weight[n] = weights[i]; n++; }
    }

    public readonly int[] Index;
    public readonly double[] Weight;
    public int Count => Index.Length;
}

/// <summary>
/// Linear combinations of many stages through the tensor core's fused kernels (at most six inputs per pass):
/// <c>dest = base + scale * sum_j w_j k_j</c>, chained in place when there are more terms.
/// </summary>
internal static class LinearSums
{
    /// <summary><c>dest = x + scale * sum_j w_j k[idx_j]</c> over whole spans (shared step). <paramref name="x"/> may be empty for no base term.</summary>
    public static void Combine<T>(Span<T> dest, ReadOnlySpan<T> x, double scale, int[] idx, double[] w, int count, BatchTensor<T>[] k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool hasBase = !x.IsEmpty;
        int done = 0;
        bool first = true;
        if (count == 0)
        {
            if (hasBase) { if (!x.Overlaps(dest)) x.CopyTo(dest); }
            else dest.Clear();
            return;
        }
        if (dest.Length <= SmallLength)
        {
            CombineSmall(dest, x, scale, idx, w, count, k);
            return;
        }
        while (done < count)
        {
            // Leading term: the base (first pass) or the partial sum in dest (later passes).
            bool lead = !first || hasBase;
            int room = lead ? 5 : 6;
            int n = Math.Min(room, count - done);
            ReadOnlySpan<T> l = first ? x : dest;
            T c(int m) => T.CreateTruncating(scale * w[done + m]);
            ReadOnlySpan<T> s(int m) => k[idx[done + m]].Span;
            if (lead)
            {
                switch (n)
                {
                    case 1: TensorKernels.LinearCombination(dest, T.One, l, c(0), s(0)); break;
                    case 2: TensorKernels.LinearCombination(dest, T.One, l, c(0), s(0), c(1), s(1)); break;
                    case 3: TensorKernels.LinearCombination(dest, T.One, l, c(0), s(0), c(1), s(1), c(2), s(2)); break;
                    case 4: TensorKernels.LinearCombination(dest, T.One, l, c(0), s(0), c(1), s(1), c(2), s(2), c(3), s(3)); break;
                    default: TensorKernels.LinearCombination(dest, T.One, l, c(0), s(0), c(1), s(1), c(2), s(2), c(3), s(3), c(4), s(4)); break;
                }
            }
            else
            {
                switch (n)
                {
                    case 1: TensorKernels.LinearCombination(dest, c(0), s(0)); break;
                    case 2: TensorKernels.LinearCombination(dest, c(0), s(0), c(1), s(1)); break;
                    case 3: TensorKernels.LinearCombination(dest, c(0), s(0), c(1), s(1), c(2), s(2)); break;
                    case 4: TensorKernels.LinearCombination(dest, c(0), s(0), c(1), s(1), c(2), s(2), c(3), s(3)); break;
                    case 5: TensorKernels.LinearCombination(dest, c(0), s(0), c(1), s(1), c(2), s(2), c(3), s(3), c(4), s(4)); break;
                    default: TensorKernels.LinearCombination(dest, c(0), s(0), c(1), s(1), c(2), s(2), c(3), s(3), c(4), s(4), c(5), s(5)); break;
                }
            }
            done += n;
            first = false;
        }
    }

    /// <summary>States up to this length skip the kernels' argument checks: a plain loop is cheaper than a call.</summary>
    public const int SmallLength = 32;

    /// <summary>
    /// The same sums with the same arithmetic as the kernels (products added left to right, five terms per pass after the
    /// leading one, no fused multiply-add), so that results do not depend on which path ran.
    /// </summary>
    private static void CombineSmall<T>(Span<T> dest, ReadOnlySpan<T> x, double scale, int[] idx, double[] w, int count, BatchTensor<T>[] k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = dest.Length;
        bool hasBase = !x.IsEmpty;
        int done = 0;
        bool first = true;
        while (done < count)
        {
            bool lead = !first || hasBase;
            int m = Math.Min(lead ? 5 : 6, count - done);
            T c0 = T.CreateTruncating(scale * w[done]);
            T c1 = m > 1 ? T.CreateTruncating(scale * w[done + 1]) : T.Zero;
            T c2 = m > 2 ? T.CreateTruncating(scale * w[done + 2]) : T.Zero;
            T c3 = m > 3 ? T.CreateTruncating(scale * w[done + 3]) : T.Zero;
            T c4 = m > 4 ? T.CreateTruncating(scale * w[done + 4]) : T.Zero;
            T c5 = m > 5 ? T.CreateTruncating(scale * w[done + 5]) : T.Zero;
            ReadOnlySpan<T> k0 = k[idx[done]].Span;
            ReadOnlySpan<T> k1 = m > 1 ? k[idx[done + 1]].Span : default;
            ReadOnlySpan<T> k2 = m > 2 ? k[idx[done + 2]].Span : default;
            ReadOnlySpan<T> k3 = m > 3 ? k[idx[done + 3]].Span : default;
            ReadOnlySpan<T> k4 = m > 4 ? k[idx[done + 4]].Span : default;
            ReadOnlySpan<T> k5 = m > 5 ? k[idx[done + 5]].Span : default;
            ReadOnlySpan<T> l = first ? x : dest;
            switch (m)
            {
                case 1:
                    for (int i = 0; i < n; i++) dest[i] = lead ? T.One * l[i] + c0 * k0[i] : c0 * k0[i];
                    break;
                case 2:
                    for (int i = 0; i < n; i++) dest[i] = (lead ? T.One * l[i] + c0 * k0[i] : c0 * k0[i]) + c1 * k1[i];
                    break;
                case 3:
                    for (int i = 0; i < n; i++) dest[i] = ((lead ? T.One * l[i] + c0 * k0[i] : c0 * k0[i]) + c1 * k1[i]) + c2 * k2[i];
                    break;
                case 4:
                    for (int i = 0; i < n; i++) dest[i] = (((lead ? T.One * l[i] + c0 * k0[i] : c0 * k0[i]) + c1 * k1[i]) + c2 * k2[i]) + c3 * k3[i];
                    break;
                case 5:
                    for (int i = 0; i < n; i++) dest[i] = ((((lead ? T.One * l[i] + c0 * k0[i] : c0 * k0[i]) + c1 * k1[i]) + c2 * k2[i]) + c3 * k3[i]) + c4 * k4[i];
                    break;
                default:
                    for (int i = 0; i < n; i++) dest[i] = (((((c0 * k0[i]) + c1 * k1[i]) + c2 * k2[i]) + c3 * k3[i]) + c4 * k4[i]) + c5 * k5[i];
                    break;
            }
            done += m;
            first = false;
        }
    }

    /// <summary>
    /// One row: <c>dest = x + scale * sum_j w_j k[idx_j][row]</c>, with the stage rows taken from <paramref name="rowOffset"/>.
    /// </summary>
    public static void CombineRow<T>(Span<T> dest, ReadOnlySpan<T> x, double scale, ReadOnlySpan<double> w, BatchTensor<T>[] k, int rowOffset, int rowLength)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!x.Overlaps(dest)) x.CopyTo(dest);
        for (int j = 0; j < w.Length && j < k.Length; j++)
        {
            if (w[j] == 0) continue;
            TensorKernels.LinearCombination(dest, T.One, dest, T.CreateTruncating(scale * w[j]), k[j].Span.Slice(rowOffset, rowLength));
        }
    }

    /// <summary>
    /// Per-sample: row <c>b</c> of <paramref name="dest"/> becomes <c>x[b] + h[b] * sum_j w_j k[idx_j][b]</c>.
    /// <paramref name="coef"/> holds seven scratch arrays of batch length; <paramref name="ones"/> is all ones.
    /// </summary>
    public static void CombinePerSample<T>(BatchTensor<T> dest, BatchTensor<T>? x, ReadOnlySpan<double> h, int[] idx, double[] w, int count,
        BatchTensor<T>[] k, T[][] coef, T[] ones)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = dest.BatchSize;
        if (count == 0)
        {
            if (x is not null) { if (!ReferenceEquals(x, dest)) x.Span.CopyTo(dest.Span); }
            else dest.Span.Clear();
            return;
        }
        int done = 0;
        bool first = true;
        while (done < count)
        {
            bool lead = !first || x is not null;
            int room = lead ? 5 : 6;
            int n = Math.Min(room, count - done);
            for (int m = 0; m < n; m++)
            {
                var cm = coef[m];
                double wm = w[done + m];
                for (int b = 0; b < batch; b++) cm[b] = T.CreateTruncating(h[b] * wm);
            }
            BatchTensor<T> l = first ? x! : dest;
            BatchTensor<T> s(int m) => k[idx[done + m]];
            if (lead)
            {
                switch (n)
                {
                    case 1: TensorKernels.LinearCombination(dest, ones, l, coef[0], s(0)); break;
                    case 2: TensorKernels.LinearCombination(dest, ones, l, coef[0], s(0), coef[1], s(1)); break;
                    case 3: TensorKernels.LinearCombination(dest, ones, l, coef[0], s(0), coef[1], s(1), coef[2], s(2)); break;
                    case 4: TensorKernels.LinearCombination(dest, ones, l, coef[0], s(0), coef[1], s(1), coef[2], s(2), coef[3], s(3)); break;
                    default: TensorKernels.LinearCombination(dest, ones, l, coef[0], s(0), coef[1], s(1), coef[2], s(2), coef[3], s(3), coef[4], s(4)); break;
                }
            }
            else
            {
                switch (n)
                {
                    case 1: TensorKernels.LinearCombination(dest, coef[0], s(0)); break;
                    case 2: TensorKernels.LinearCombination(dest, coef[0], s(0), coef[1], s(1)); break;
                    case 3: TensorKernels.LinearCombination(dest, coef[0], s(0), coef[1], s(1), coef[2], s(2)); break;
                    case 4: TensorKernels.LinearCombination(dest, coef[0], s(0), coef[1], s(1), coef[2], s(2), coef[3], s(3)); break;
                    case 5: TensorKernels.LinearCombination(dest, coef[0], s(0), coef[1], s(1), coef[2], s(2), coef[3], s(3), coef[4], s(4)); break;
                    default: TensorKernels.LinearCombination(dest, coef[0], s(0), coef[1], s(1), coef[2], s(2), coef[3], s(3), coef[4], s(4), coef[5], s(5)); break;
                }
            }
            done += n;
            first = false;
        }
    }
}
