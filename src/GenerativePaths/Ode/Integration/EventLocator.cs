using System.Numerics;

namespace GenerativePaths.Ode;

/// <summary>Terminal-event location on the dense output of each accepted step.</summary>
/// <remarks>
/// <para>A sign change of <c>g</c> between the ends of a step is located in <c>theta</c> in <c>[0, 1]</c> by the Illinois
/// variant of regula falsi (the retained end's value halved when the same side is kept twice) on the interpolant
/// <c>y(t + theta h)</c>, to the time tolerance. Under shared control the batch stops at the earliest event in the step.
/// A NaN value of <c>g</c> is recorded in <c>EventNaN</c> (the time it was evaluated at) for the loop to end the solve.</para>
/// <para>Thread safety: stateless; writes only the workspace.</para>
/// </remarks>
internal static class EventLocator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Evaluates <c>g</c> at t0 for every sample; returns the first sample whose value is NaN, or -1.</summary>
    public static int Start(AdaptiveWorkspace<T> w, EventFunction<T> g, double t0)
    {
        int first = -1;
        for (int b = 0; b < w.Batch; b++)
        {
            w.G[b] = g(t0, w.Y.Row(b));
            if (double.IsNaN(w.G[b]) && first < 0) first = b;
        }
        return first;
    }

    /// <summary>Locates the events of the accepted samples in this step; sets <c>Theta</c>, <c>Crossed</c>, <c>TEnd</c> and <c>EventNaN</c>.</summary>
    public static void Locate(AdaptiveWorkspace<T> w, EventFunction<T> g, double tol, bool perSample)
    {
        int B = w.Batch, D = w.Row;
        double thetaMin = 1;
        Array.Fill(w.EventNaN, double.NaN);
        for (int b = 0; b < B; b++)
        {
            if (!w.Accepted[b]) continue;
            double gNew = g(w.TEnd[b], w.YNew.Row(b));
            if (double.IsNaN(gNew)) { w.EventNaN[b] = w.TEnd[b]; continue; }
            double gOld = w.G[b];
            w.G[b] = gNew;
            bool crossed = (gOld < 0 && gNew >= 0) || (gOld > 0 && gNew <= 0);
            if (!crossed) continue;
            double a = 0, fa = gOld, c = 1, fc = gNew;
            int side = 0;
            double hb = Math.Abs(w.Hs[b]);
            for (int it = 0; it < 200 && (c - a) * hb > tol; it++)
            {
                double th = (a * fc - c * fa) / (fc - fa);
                if (!(th > a && th < c)) th = 0.5 * (a + c);
                w.Method.DenseWeights(th, w.Weights);
                LinearSums.CombineRow<T>(w.RowBuf, w.Y.Row(b), w.Hs[b], w.Weights, w.K, b * D, D);
                double ft = g(w.Time[b] + th * w.Hs[b], w.RowBuf);
                if (double.IsNaN(ft)) { w.EventNaN[b] = w.Time[b] + th * w.Hs[b]; break; }
                if (ft == 0) { a = c = th; break; }
                if (Math.Sign(ft) == Math.Sign(fc)) { c = th; fc = ft; if (side == 1) fa *= 0.5; side = 1; }
                else { a = th; fa = ft; if (side == -1) fc *= 0.5; side = -1; }
            }
            if (!double.IsNaN(w.EventNaN[b])) { w.G[b] = gOld; continue; }
            w.Theta[b] = c;
            w.Crossed[b] = true;
            if (c < thetaMin) thetaMin = c;
        }
        bool any = false;
        for (int b = 0; b < B; b++) any |= w.Crossed[b];
        if (!perSample && any)
        {
            // Shared stepping stops the whole batch at the earliest event; later crossings in this step have not happened yet.
            for (int b = 0; b < B; b++)
            {
                if (!w.Accepted[b]) continue;
                if (w.Crossed[b] && w.Theta[b] > thetaMin) w.Crossed[b] = false;
                w.Theta[b] = thetaMin;
            }
        }
        for (int b = 0; b < B; b++)
            if (w.Accepted[b] && w.Theta[b] < 1)
                w.TEnd[b] = w.Time[b] + w.Theta[b] * w.Hs[b];
    }
}
