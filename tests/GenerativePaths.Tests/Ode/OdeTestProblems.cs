using GenerativePaths.Ode;
using GenerativePaths.Tensors;

namespace GenerativePaths.Tests.Ode;

/// <summary>Problems with closed-form solutions, written in the tests.</summary>
internal static class OdeTestProblems
{
    /// <summary>Harmonic oscillator x' = w v, v' = -w x per row (w per sample): x = x0 cos(wt) + v0 sin(wt).</summary>
    public static OdeFunction<double> Harmonic(double[]? omega = null) => (t, y, d) =>
    {
        for (int b = 0; b < y.BatchSize; b++)
        {
            double w = omega?[b] ?? 1;
            var r = y.Row(b); var o = d.Row(b);
            o[0] = w * r[1];
            o[1] = -w * r[0];
        }
    };

    public static (double X, double V) HarmonicExact(double x0, double v0, double w, double t)
        => (x0 * Math.Cos(w * t) + v0 * Math.Sin(w * t), -x0 * Math.Sin(w * t) + v0 * Math.Cos(w * t));

    /// <summary>Relaxation toward a moving target, y' = -lambda (y - cos t) - sin t, solution y = cos t + (y0 - 1) e^(-lambda t).</summary>
    public static OdeFunction<double> Relaxation(double[] lambda) => (t, y, d) =>
    {
        for (int b = 0; b < y.BatchSize; b++)
        {
            var r = y.Row(b); var o = d.Row(b);
            for (int i = 0; i < r.Length; i++) o[i] = -lambda[b] * (r[i] - Math.Cos(t[b])) - Math.Sin(t[b]);
        }
    };

    public static BatchTensor<double> State(params double[][] rows) => BatchTensor<double>.FromRows(rows);
}
