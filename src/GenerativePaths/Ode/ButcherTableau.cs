namespace GenerativePaths.Ode;

/// <summary>
/// The coefficients of an explicit Runge–Kutta method: nodes <c>c</c>, the strictly lower triangular
/// matrix <c>A</c> and the weights <c>b</c> (Butcher 1964).
/// </summary>
/// <remarks>
/// <para>One step of size <c>h</c> from <c>(t, y)</c>:</para>
/// <para><c>k_i = f(t + c_i h, y + h sum_{j&lt;i} a_ij k_j)</c>, i = 1..s; <c>y_new = y + h sum_i b_i k_i</c>.</para>
/// <para>Thread safety: instances are immutable and may be shared between threads. Users build their own method with the
/// public constructor; the classic methods are static properties.</para>
/// </remarks>
public class ButcherTableau
{
    private readonly double[] _c;
    private readonly double[][] _a;
    private readonly double[] _b;

    /// <summary>Creates an explicit tableau and checks it.</summary>
    /// <param name="name">A short name used in reports.</param>
    /// <param name="order">The classical order of the method (at least 1).</param>
    /// <param name="c">The nodes, one per stage; <c>c[0]</c> must be 0.</param>
    /// <param name="a">Row <c>i</c> holds <c>a_ij</c> for <c>j &lt; i</c> (row 0 is empty; shorter rows are padded with zeros).</param>
    /// <param name="b">The weights, one per stage.</param>
    /// <exception cref="ArgumentException">Sizes disagree, a row is too long, <c>c[0] != 0</c>, a row sum differs from its node
    /// by more than 1e-10, the weights do not sum to 1 within 1e-10, or a coefficient is not finite.</exception>
    public ButcherTableau(string name, int order, double[] c, double[][] a, double[] b)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentOutOfRangeException.ThrowIfLessThan(order, 1);
        int s = c.Length;
        if (s == 0) throw new ArgumentException("A tableau needs at least one stage.", nameof(c));
        if (a.Length != s) throw new ArgumentException($"A has {a.Length} rows; the tableau has {s} stages (the length of c).", nameof(a));
        if (b.Length != s) throw new ArgumentException($"b has {b.Length} weights; the tableau has {s} stages.", nameof(b));
        if (c[0] != 0) throw new ArgumentException($"c[0] must be 0 for an explicit method; it is {c[0]}.", nameof(c));
        _a = new double[s][];
        for (int i = 0; i < s; i++)
        {
            var row = a[i] ?? [];
            if (row.Length > i) throw new ArgumentException($"Row {i} of A has {row.Length} entries; an explicit method allows at most {i} (a_ij with j < i).", nameof(a));
            _a[i] = new double[i];
            double sum = 0;
            for (int j = 0; j < row.Length; j++)
            {
                if (!double.IsFinite(row[j])) throw new ArgumentException($"a[{i}][{j}] is not finite.", nameof(a));
                _a[i][j] = row[j];
                sum += row[j];
            }
            if (!double.IsFinite(c[i])) throw new ArgumentException($"c[{i}] is not finite.", nameof(c));
            if (Math.Abs(sum - c[i]) > 1e-10 * Math.Max(1, Math.Abs(c[i])))
                throw new ArgumentException($"Row {i} of A sums to {sum}, but c[{i}] = {c[i]}; an explicit tableau needs sum_j a_ij = c_i.", nameof(a));
        }
        double bs = 0;
        foreach (var w in b)
        {
            if (!double.IsFinite(w)) throw new ArgumentException("A weight of b is not finite.", nameof(b));
            bs += w;
        }
        if (Math.Abs(bs - 1) > 1e-10) throw new ArgumentException($"The weights b sum to {bs}; a consistent method needs 1.", nameof(b));
        Name = name;
        Order = order;
        _c = (double[])c.Clone();
        _b = (double[])b.Clone();
    }

    /// <summary>The method's name.</summary>
    public string Name { get; }

    /// <summary>The classical order <c>p</c>: the global error is <c>O(h^p)</c>.</summary>
    public int Order { get; }

    /// <summary>The number of stages <c>s</c> (function evaluations per step without FSAL reuse).</summary>
    public int Stages => _c.Length;

    /// <summary>The nodes <c>c_i</c>.</summary>
    public ReadOnlySpan<double> C => _c;

    /// <summary>The weights <c>b_i</c>.</summary>
    public ReadOnlySpan<double> B => _b;

    /// <summary>The coefficient <c>a_ij</c> (0 when <c>j &gt;= i</c>).</summary>
    public double A(int i, int j)
    {
        if ((uint)i >= (uint)Stages) throw new ArgumentOutOfRangeException(nameof(i), i, $"Stage index must be in [0, {Stages}).");
        if ((uint)j >= (uint)Stages) throw new ArgumentOutOfRangeException(nameof(j), j, $"Stage index must be in [0, {Stages}).");
        return j < i ? _a[i][j] : 0;
    }

    /// <summary>Row <c>i</c> of A (entries <c>j &lt; i</c>).</summary>
    public ReadOnlySpan<double> ARow(int i)
    {
        if ((uint)i >= (uint)Stages) throw new ArgumentOutOfRangeException(nameof(i), i, $"Stage index must be in [0, {Stages}).");
        return _a[i];
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} (order {Order}, {Stages} stages)";

    /// <summary>Forward Euler: <c>y_new = y + h f(t, y)</c>. Order 1.</summary>
    public static ButcherTableau Euler { get; } = new("Euler", 1, [0], [[]], [1]);

    /// <summary>The explicit midpoint rule: <c>k2 = f(t + h/2, y + h/2 k1)</c>, <c>y_new = y + h k2</c>. Order 2.</summary>
    public static ButcherTableau Midpoint { get; } = new("Midpoint", 2, [0, 0.5], [[], [0.5]], [0, 1]);

    /// <summary>Heun's method (explicit trapezoid): <c>y_new = y + h/2 (k1 + k2)</c>, <c>k2 = f(t + h, y + h k1)</c>. Order 2.</summary>
    public static ButcherTableau Heun { get; } = new("Heun", 2, [0, 1], [[], [1]], [0.5, 0.5]);

    /// <summary>Ralston's second-order method (minimum error bound): <c>c2 = 2/3</c>, <c>b = (1/4, 3/4)</c> (Ralston 1962). Order 2.</summary>
    public static ButcherTableau Ralston { get; } = new("Ralston", 2, [0, 2.0 / 3], [[], [2.0 / 3]], [0.25, 0.75]);

    /// <summary>The classic fourth-order Runge–Kutta method (Kutta 1901): <c>b = (1/6, 1/3, 1/3, 1/6)</c>. Order 4.</summary>
    public static ButcherTableau RungeKutta4 { get; } = new("RK4", 4, [0, 0.5, 0.5, 1], [[], [0.5], [0, 0.5], [0, 0, 1]], [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6]);

    /// <summary>Kutta's 3/8 rule: <c>c = (0, 1/3, 2/3, 1)</c>, <c>b = (1/8, 3/8, 3/8, 1/8)</c>. Order 4.</summary>
    public static ButcherTableau ThreeEighths { get; } = new("3/8 rule", 4, [0, 1.0 / 3, 2.0 / 3, 1],
        [[], [1.0 / 3], [-1.0 / 3, 1], [1, -1, 1]], [0.125, 0.375, 0.375, 0.125]);

    /// <summary>All built-in fixed-step methods.</summary>
    public static IReadOnlyList<ButcherTableau> FixedStepMethods { get; } = [Euler, Midpoint, Heun, Ralston, RungeKutta4, ThreeEighths];
}
