using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>The automatic first step (Hairer, Nørsett and Wanner, <i>Solving ODEs I</i>, II.4, "Starting step size").</summary>
/// <remarks>
/// <para><c>d0 = ||y0||</c>, <c>d1 = ||f0||</c>, <c>h0 = 0.01 d0/d1</c> (1e-6 when either is below 1e-5),
/// <c>d2 = ||f(t0 + h0, y0 + h0 f0) - f0|| / h0</c>, <c>h = min(100 h0, (0.01 / max(d1, d2))^(1/(order+1)))</c>, with the
/// scale <c>atol + rtol |y0|</c>. A zero scale (atol = 0 at a zero component) makes the norms NaN or infinite; a guess that
/// is NaN or not positive then falls back to <c>1e-6 |t1 - t0|</c> (as DOPRI5 and OrdinaryDiffEq.jl guard theirs).</para>
/// <para>Thread safety: stateless; writes only the workspace.</para>
/// </remarks>
internal static class InitialStepSize<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly StageWeights One = new([1.0]);

    /// <summary>Writes the first step magnitude of every sample into <c>w.H</c>; returns the evaluations made (one).</summary>
    public static long Choose(AdaptiveWorkspace<T> w, OdeFunction<T> f, OdeOptions o, double dir, double span, bool perSample, double[]? atolRow)
    {
        int B = w.Batch;
        double rtol = o.RelativeTolerance, atol = o.AbsoluteTolerance;
        double Norm(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<double> atolSpan)
            => atolRow is null ? TensorReductions.ErrorNorm(x, y, y, atol, rtol) : TensorReductions.ErrorNorm(x, y, y, atolSpan, rtol);
        Span<double> d1s = B <= 256 ? stackalloc double[B] : new double[B];
        int groups = perSample ? B : 1;
        for (int g = 0; g < groups; g++)
        {
            var y = perSample ? w.Y.Row(g) : w.Y.Span;
            var k0 = perSample ? w.K[0].Row(g) : w.K[0].Span;
            ReadOnlySpan<double> at = atolRow is null ? default : perSample ? atolRow : w.AtolExpanded;
            double d0 = Norm(y, y, at), d1 = Norm(k0, y, at);
            double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
            h0 = Math.Min(Math.Min(h0, o.MaxStep), Math.Abs(span));
            if (!(h0 > 0)) h0 = Math.Min(1e-6 * Math.Abs(span), o.MaxStep);
            if (perSample) { w.H[g] = h0; d1s[g] = d1; }
            else { Array.Fill(w.H, h0); d1s.Fill(d1); }
        }
        for (int b = 0; b < B; b++) w.Hs[b] = w.Active[b] ? dir * w.H[b] : 0;
        if (perSample) LinearSums.CombinePerSample(w.YStage, w.Y, w.Hs, One.Index, One.Weight, 1, w.K, w.Coef, w.Ones);
        else LinearSums.Combine(w.YStage.Span, w.Y.Span, w.Hs[0], One.Index, One.Weight, 1, w.K);
        for (int b = 0; b < B; b++) w.TStage[b] = w.Time[b] + w.Hs[b];
        f(w.TStage, w.YStage, w.K[1]);
        for (int b = 0; b < B; b++) if (w.Active[b]) w.Evals[b]++;
        for (int g = 0; g < groups; g++)
        {
            double h0 = w.H[perSample ? g : 0];
            var y = perSample ? w.Y.Row(g) : w.Y.Span;
            var k0 = perSample ? w.K[0].Row(g) : w.K[0].Span;
            var k1 = perSample ? w.K[1].Row(g) : w.K[1].Span;
            var e = perSample ? w.Err.Row(g) : w.Err.Span;
            T c = T.CreateTruncating(1 / h0);
            TensorKernels.LinearCombination(e, c, k1, -c, k0);
            ReadOnlySpan<double> at = atolRow is null ? default : perSample ? atolRow : w.AtolExpanded;
            double d2 = Norm(e, y, at);
            double d1 = d1s[g];
            double m = Math.Max(d1, d2);
            double h1 = !double.IsFinite(m) ? h0 * 1e-3 : m <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / m, 1.0 / (w.Method.Order + 1));
            double h = Math.Min(Math.Min(100 * h0, h1), o.MaxStep);
            if (!(h > 0)) h = h0;
            if (perSample) w.H[g] = h; else Array.Fill(w.H, h);
        }
        return 1;
    }
}
