using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>
/// One explicit embedded Runge–Kutta step on a workspace (OrdinaryDiffEq.jl's <c>perform_step!</c>; torchdiffeq's generic
/// step over a tableau as data): the stages, the new state and the scaled error norm, shared or per sample.
/// </summary>
/// <remarks>
/// <para><c>k_i = f(t + c_i h, y + h sum_j a_ij k_j)</c>, <c>y_new = y + h sum_i b_i k_i</c>, <c>err = h sum_i e_i k_i</c>,
/// <c>||err|| = sqrt(mean_i (err_i / (atol_i + rtol max(|y_i|, |y_new_i|)))^2)</c>.</para>
/// <para>Thread safety: stateless; all state is in the workspace, which serves one solve at a time.</para>
/// </remarks>
internal static class RungeKuttaStep<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Stages 2..s and the new state; the last stage of an FSAL pair is evaluated at y_new. Returns the evaluations made.</summary>
    public static long Stages(AdaptiveWorkspace<T> w, OdeFunction<T> f, bool perSample)
    {
        int s = w.Stages, B = w.Batch;
        var m = w.Method;
        long evaluations = 0;
        for (int i = 1; i < s; i++)
        {
            var dest = (m.IsFsal && i == s - 1) ? w.YNew : w.YStage;
            var terms = w.StageTerms[i];
            if (perSample) LinearSums.CombinePerSample(dest, w.Y, w.Hs, terms.Index, terms.Weight, terms.Count, w.K, w.Coef, w.Ones);
            else LinearSums.Combine(dest.Span, w.Y.Span, w.Hs[0], terms.Index, terms.Weight, terms.Count, w.K);
            double ci = m.C[i];
            for (int b = 0; b < B; b++) w.TStage[b] = ci == 1 ? w.Time[b] + w.Hs[b] : w.Time[b] + ci * w.Hs[b];
            f(w.TStage, dest, w.K[i]);
            evaluations++;
            for (int b = 0; b < B; b++) if (w.Active[b]) w.Evals[b]++;
        }
        if (!m.IsFsal)
        {
            var bt = w.BTerms;
            if (perSample) LinearSums.CombinePerSample(w.YNew, w.Y, w.Hs, bt.Index, bt.Weight, bt.Count, w.K, w.Coef, w.Ones);
            else LinearSums.Combine(w.YNew.Span, w.Y.Span, w.Hs[0], bt.Index, bt.Weight, bt.Count, w.K);
        }
        return evaluations;
    }

    /// <summary>Writes each active sample's error norm (0 without error control) and whether its step is non-finite.</summary>
    public static void ErrorNorms(AdaptiveWorkspace<T> w, bool adaptive, bool perSample, double atol, double[]? atolRow, double rtol)
    {
        int B = w.Batch, D = w.Row;
        var e = w.ETerms;
        // Double states fuse the error estimate into the norm (one pass, no err tensor written); see OdeNorms.FusedErrorNorm.
        bool fused = typeof(T) == typeof(double);
        if (adaptive && !fused)
        {
            if (perSample) LinearSums.CombinePerSample(w.Err, null, w.Hs, e.Index, e.Weight, e.Count, w.K, w.Coef, w.Ones);
            else LinearSums.Combine(w.Err.Span, ReadOnlySpan<T>.Empty, w.Hs[0], e.Index, e.Weight, e.Count, w.K);
        }
        if (perSample)
        {
            for (int b = 0; b < B; b++)
            {
                if (!w.Active[b]) continue;
                double n = 0;
                bool finite;
                if (adaptive && fused)
                    n = OdeNorms.FusedErrorNorm(AsDouble(w.Y.Row(b)), AsDouble(w.YNew.Row(b)), w.Hs[b], e.Index, e.Weight, e.Count,
                        Unsafe.As<BatchTensor<double>[]>(w.K), b * D, atol, atolRow, rtol, out finite);
                else if (adaptive) n = OdeNorms.ErrorNorm<T>(w.Err.Row(b), w.Y.Row(b), w.YNew.Row(b), atol, atolRow, rtol, out finite);
                else finite = TensorReductions.IsFinite<T>(w.YNew.Row(b));
                w.Norm[b] = n;
                w.NonFinite[b] = !double.IsFinite(n) || !finite;
            }
        }
        else
        {
            double n = 0;
            bool finite;
            ReadOnlySpan<double> at = atolRow is null ? default : w.AtolExpanded;
            if (adaptive && fused)
                n = OdeNorms.FusedErrorNorm(AsDouble(w.Y.Span), AsDouble(w.YNew.Span), w.Hs[0], e.Index, e.Weight, e.Count,
                    Unsafe.As<BatchTensor<double>[]>(w.K), 0, atol, at, rtol, out finite);
            else if (adaptive) n = OdeNorms.ErrorNorm<T>(w.Err.Span, w.Y.Span, w.YNew.Span, atol, at, rtol, out finite);
            else finite = TensorReductions.IsFinite<T>(w.YNew.Span);
            bool bad = !double.IsFinite(n) || !finite;
            for (int b = 0; b < B; b++) { w.Norm[b] = n; w.NonFinite[b] = bad; }
        }
    }

    /// <summary>Non-FSAL pairs: the next first stage <c>f(t_new, y_new)</c>; rejected rows re-evaluate at their unchanged state.</summary>
    public static void NextFirstStage(AdaptiveWorkspace<T> w, OdeFunction<T> f, double t1)
    {
        int B = w.Batch;
        for (int b = 0; b < B; b++)
        {
            if (w.Accepted[b]) w.TStage[b] = w.Lands[b] ? t1 : w.Time[b] + w.Hs[b];
            else { w.TStage[b] = w.Time[b]; w.Y.Row(b).CopyTo(w.YNew.Row(b)); }
        }
        f(w.TStage, w.YNew, w.K[w.Stages]);
        for (int b = 0; b < B; b++) if (w.Active[b]) w.Evals[b]++;
    }

    /// <summary>Under shared control, the first sample whose new state, stages or error estimate is not finite.</summary>
    public static int NonFiniteCulprit(AdaptiveWorkspace<T> w)
    {
        int b = TensorReductions.FirstNonFiniteSample(w.YNew);
        for (int i = 0; b < 0 && i < w.Stages; i++) b = TensorReductions.FirstNonFiniteSample(w.K[i]);
        if (b < 0)
        {
            // The fused norm of double states does not write the error estimate: form it here (shared control only).
            var e = w.ETerms;
            LinearSums.Combine(w.Err.Span, ReadOnlySpan<T>.Empty, w.Hs[0], e.Index, e.Weight, e.Count, w.K);
            b = TensorReductions.FirstNonFiniteSample(w.Err);
        }
        return Math.Max(b, 0);
    }

    private static ReadOnlySpan<double> AsDouble(ReadOnlySpan<T> x) => MemoryMarshal.Cast<T, double>(x);
}
