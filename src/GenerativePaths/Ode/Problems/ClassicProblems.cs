using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode.Problems;

/// <summary>Classic non-stiff test problems as batched right-hand sides (one row per sample).</summary>
/// <remarks>Each problem's formula is on its method. Thread safety: stateless; the returned functions keep no scratch and may be
/// called from several threads at once.</remarks>
public static class ClassicProblems
{
    /// <summary>
    /// The Lotka–Volterra predator–prey system on rows of 2 elements:
    /// <c>x' = a x - b x y</c>, <c>y' = -c y + d x y</c>.
    /// </summary>
    /// <remarks>Defaults <c>a = 1.5, b = 1, c = 3, d = 1</c> (Hairer, Nørsett and Wanner, <i>Solving ODEs I</i>, I.16).</remarks>
    public static OdeFunction<T> LotkaVolterra<T>(double a = 1.5, double b = 1, double c = 3, double d = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
        => (t, y, dydt) =>
        {
            CheckRows(y, 2, "Lotka–Volterra");
            var ys = y.Span; var ds = dydt.Span;
            for (int i = 0; i < ys.Length; i += 2)
            {
                double x = double.CreateTruncating(ys[i]), p = double.CreateTruncating(ys[i + 1]);
                ds[i] = T.CreateTruncating(a * x - b * x * p);
                ds[i + 1] = T.CreateTruncating(-c * p + d * x * p);
            }
        };

    /// <summary>The Van der Pol oscillator on rows of 2 elements: <c>x' = v</c>, <c>v' = mu (1 - x^2) v - x</c>.</summary>
    public static OdeFunction<T> VanDerPol<T>(double mu = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
        => (t, y, dydt) =>
        {
            CheckRows(y, 2, "Van der Pol");
            var ys = y.Span; var ds = dydt.Span;
            for (int i = 0; i < ys.Length; i += 2)
            {
                double x = double.CreateTruncating(ys[i]), v = double.CreateTruncating(ys[i + 1]);
                ds[i] = T.CreateTruncating(v);
                ds[i + 1] = T.CreateTruncating(mu * (1 - x * x) * v - x);
            }
        };

    /// <summary>
    /// The Arenstorf orbit (restricted three-body problem) on rows <c>(x, y, x', y')</c>:
    /// <c>x'' = x + 2y' - mu' (x + mu)/D1 - mu (x - mu')/D2</c>, <c>y'' = y - 2x' - mu' y/D1 - mu y/D2</c>,
    /// <c>D1 = ((x + mu)^2 + y^2)^(3/2)</c>, <c>D2 = ((x - mu')^2 + y^2)^(3/2)</c>, <c>mu' = 1 - mu</c>.
    /// </summary>
    /// <remarks>With <c>mu = 0.012277471</c>, <c>y0 = (0.994, 0, 0, -2.00158510637908252240537862224)</c> the orbit is periodic with
    /// period <c>17.0652165601579625588917206249</c> (Hairer, Nørsett and Wanner, <i>Solving ODEs I</i>, II.0).</remarks>
    public static OdeFunction<T> Arenstorf<T>(double mu = 0.012277471)
        where T : unmanaged, IFloatingPointIeee754<T>
        => (t, y, dydt) =>
        {
            CheckRows(y, 4, "Arenstorf");
            double mp = 1 - mu;
            var ys = y.Span; var ds = dydt.Span;
            for (int i = 0; i < ys.Length; i += 4)
            {
                double x = double.CreateTruncating(ys[i]), q = double.CreateTruncating(ys[i + 1]);
                double vx = double.CreateTruncating(ys[i + 2]), vy = double.CreateTruncating(ys[i + 3]);
                double r1 = (x + mu) * (x + mu) + q * q, r2 = (x - mp) * (x - mp) + q * q;
                double d1 = r1 * Math.Sqrt(r1), d2 = r2 * Math.Sqrt(r2);
                ds[i] = T.CreateTruncating(vx);
                ds[i + 1] = T.CreateTruncating(vy);
                ds[i + 2] = T.CreateTruncating(x + 2 * vy - mp * (x + mu) / d1 - mu * (x - mp) / d2);
                ds[i + 3] = T.CreateTruncating(q - 2 * vx - mp * q / d1 - mu * q / d2);
            }
        };

    private static void CheckRows<T>(BatchTensor<T> y, int n, string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (y.RowLength != n) throw new ArgumentException($"The {name} system has {n} states per sample; the tensor has rows of {y.RowLength}.", nameof(y));
    }
}
