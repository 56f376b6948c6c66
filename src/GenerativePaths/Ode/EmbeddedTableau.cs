namespace GenerativePaths.Ode;

/// <summary>
/// An explicit Runge–Kutta pair with an embedded lower-order solution for error control and a continuous
/// extension (dense output).
/// </summary>
/// <remarks>
/// <para>Error estimate of a step: <c>err = y_new - yhat_new = h sum_i e_i k_i</c> with <c>e_i = b_i - bhat_i</c>.</para>
/// <para>Dense output inside a step, <c>0 &lt;= theta &lt;= 1</c>:
/// <c>u(t + theta h) = y + h sum_i w_i(theta) k_i</c>, with <c>w_i(theta) = sum_m P[i][m] theta^(m+1)</c>.
/// Slot <c>s</c> (one past the last stage) stands for <c>f(t + h, y_new)</c>, which first-same-as-last (FSAL)
/// methods already hold as their last stage.</para>
/// <para>Without coefficients of its own a pair gets the cubic Hermite interpolant of
/// <c>(y, f(t, y))</c> and <c>(y_new, f(t + h, y_new))</c>:
/// <c>w_i = b_i (3 theta^2 - 2 theta^3) + [i = 1](theta - 2 theta^2 + theta^3) + [i = end](theta^3 - theta^2)</c>,
/// of order <c>min(p, 3)</c>.</para>
/// <para>Thread safety: immutable; one instance may serve any number of solves on any threads.</para>
/// </remarks>
public sealed class EmbeddedTableau : ButcherTableau
{
    private readonly double[] _errorWeights;
    private readonly double[][] _dense;

    /// <summary>Creates an embedded pair from its two weight vectors.</summary>
    /// <param name="name">A short name used in reports.</param>
    /// <param name="order">The order <c>p</c> of the propagated solution <c>b</c>.</param>
    /// <param name="embeddedOrder">The order <c>q</c> of the embedded solution <c>bhat</c>, usually <c>p - 1</c>.</param>
    /// <param name="c">The nodes.</param>
    /// <param name="a">The strictly lower triangular coefficients, row by row.</param>
    /// <param name="b">The weights of the propagated solution.</param>
    /// <param name="bHat">The weights of the embedded solution.</param>
    /// <param name="denseCoefficients">Optional: <c>P[i][m]</c>, the coefficient of <c>theta^(m+1)</c> in <c>w_i(theta)</c>,
    /// for <c>s</c> or <c>s + 1</c> slots. Null selects the cubic Hermite interpolant.</param>
    /// <param name="denseOrder">The order of the dense output given by <paramref name="denseCoefficients"/>.</param>
    /// <exception cref="ArgumentException">The tableau is inconsistent (see <see cref="ButcherTableau"/>), the weight vectors have the wrong length,
    /// or the dense coefficients do not match the stages.</exception>
    public EmbeddedTableau(string name, int order, int embeddedOrder, double[] c, double[][] a, double[] b, double[] bHat,
        double[][]? denseCoefficients = null, int denseOrder = 0)
        : this(name, order, embeddedOrder, c, a, b, Difference(b, bHat), denseCoefficients, denseOrder, true)
    {
    }

    private EmbeddedTableau(string name, int order, int embeddedOrder, double[] c, double[][] a, double[] b, double[] errorWeights,
        double[][]? dense, int denseOrder, bool _)
        : base(name, order, c, a, b)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddedOrder, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(embeddedOrder, order + 2);
        if (errorWeights.Length != Stages) throw new ArgumentException($"The embedded weights have {errorWeights.Length} entries; the tableau has {Stages} stages.", "bHat");
        EmbeddedOrder = embeddedOrder;
        _errorWeights = (double[])errorWeights.Clone();
        int s = Stages;
        IsFsal = s > 1 && C[s - 1] == 1 && B[s - 1] == 0;
        if (IsFsal)
            for (int j = 0; j < s - 1; j++)
                if (A(s - 1, j) != B[j]) { IsFsal = false; break; }

        _dense = new double[s + 1][];
        if (dense is null)
        {
            int end = IsFsal ? s - 1 : s;
            for (int i = 0; i <= s; i++) _dense[i] = new double[3];
            for (int i = 0; i < s; i++) { _dense[i][1] += 3 * B[i]; _dense[i][2] += -2 * B[i]; }
            _dense[0][0] += 1; _dense[0][1] += -2; _dense[0][2] += 1;
            _dense[end][1] += -1; _dense[end][2] += 1;
            DenseOrder = Math.Min(order, 3);
        }
        else
        {
            if (dense.Length != s && dense.Length != s + 1)
                throw new ArgumentException($"The dense coefficients have {dense.Length} rows; expected {s} or {s + 1}.", "denseCoefficients");
            ArgumentOutOfRangeException.ThrowIfLessThan(denseOrder, 1, nameof(denseOrder));
            for (int i = 0; i <= s; i++) _dense[i] = i < dense.Length ? (double[])(dense[i] ?? []).Clone() : [];
            DenseOrder = denseOrder;
        }
        int degree = 0;
        foreach (var row in _dense) degree = Math.Max(degree, row.Length);
        DenseDegree = degree;
        // The end slot is needed only when a non-FSAL pair's interpolant uses f(t + h, y_new).
        foreach (var v in _dense[s]) if (v != 0) NeedsEndDerivative = true;
    }

    /// <summary>The order <c>q</c> of the embedded solution.</summary>
    public int EmbeddedOrder { get; }

    /// <summary>The order of the error estimate used by the step-size controller: <c>min(p, q) + 1</c>.</summary>
    public int ControllerOrder => Math.Min(Order, EmbeddedOrder) + 1;

    /// <summary>True when the last stage is <c>f(t + h, y_new)</c> and is reused as the first stage of the next step.</summary>
    public bool IsFsal { get; }

    /// <summary>The order of the dense output.</summary>
    public int DenseOrder { get; }

    /// <summary>The polynomial degree of the dense-output weights.</summary>
    public int DenseDegree { get; }

    /// <summary>True when the interpolant uses <c>f(t + h, y_new)</c> in slot <c>s</c> (non-FSAL pairs with the Hermite interpolant).</summary>
    public bool NeedsEndDerivative { get; }

    /// <summary>The error weights <c>e_i = b_i - bhat_i</c>.</summary>
    public ReadOnlySpan<double> ErrorWeights => _errorWeights;

    /// <summary>The embedded weights <c>bhat_i = b_i - e_i</c>.</summary>
    public double[] EmbeddedWeights()
    {
        var r = new double[Stages];
        for (int i = 0; i < Stages; i++) r[i] = B[i] - _errorWeights[i];
        return r;
    }

    /// <summary>Writes the dense-output weights <c>w_i(theta)</c> for the <c>s + 1</c> slots.</summary>
    /// <remarks>Formula: <c>w_i(theta) = sum_m P[i][m] theta^(m+1)</c>; <c>u(t + theta h) = y + h sum_i w_i k_i</c>.</remarks>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is shorter than <c>Stages + 1</c>.</exception>
    public void DenseWeights(double theta, Span<double> weights)
    {
        if (weights.Length < Stages + 1) throw new ArgumentException($"weights needs {Stages + 1} entries; it has {weights.Length}.", nameof(weights));
        for (int i = 0; i <= Stages; i++)
        {
            var p = _dense[i];
            double acc = 0;
            for (int m = p.Length - 1; m >= 0; m--) acc = acc * theta + p[m];
            weights[i] = acc * theta;
        }
    }

    private static double[] Difference(double[] b, double[] bHat)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(bHat);
        if (b.Length != bHat.Length) throw new ArgumentException($"bHat has {bHat.Length} weights; b has {b.Length}.", nameof(bHat));
        var e = new double[b.Length];
        for (int i = 0; i < b.Length; i++) e[i] = b[i] - bHat[i];
        return e;
    }

    /// <summary>The Heun–Euler pair 2(1): Heun's trapezoid rule with forward Euler as the embedded solution, FSAL.</summary>
    public static EmbeddedTableau HeunEuler { get; } = new("HeunEuler", 2, 1,
        [0, 1, 1], [[], [1], [0.5, 0.5]], [0.5, 0.5, 0], errorWeights: [-0.5, 0.5, 0], null, 0, true);

    /// <summary>The Bogacki–Shampine 3(2) pair (Bogacki and Shampine 1989, <i>Appl. Math. Lett.</i> 2(4)), FSAL, Hermite dense output of order 3.</summary>
    public static EmbeddedTableau BogackiShampine32 { get; } = new("BS3", 3, 2,
        [0, 0.5, 0.75, 1], [[], [0.5], [0, 0.75], [2.0 / 9, 1.0 / 3, 4.0 / 9]], [2.0 / 9, 1.0 / 3, 4.0 / 9, 0],
        bHat: [7.0 / 24, 0.25, 1.0 / 3, 0.125]);

    /// <summary>
    /// The Dormand–Prince 5(4) pair (Dormand and Prince 1980, <i>J. Comput. Appl. Math.</i> 6(1)), FSAL, with Shampine's
    /// continuous extension of order 4 (Shampine 1986; Hairer, Nørsett and Wanner, <i>Solving ODEs I</i>, II.6).
    /// </summary>
    public static EmbeddedTableau DormandPrince54 { get; } = BuildDormandPrince();

    /// <summary>
    /// Tsitouras' 5(4) pair (Ch. Tsitouras, "Runge–Kutta pairs of order 5(4) satisfying only the first column
    /// simplifying assumption", <i>Comput. Math. Appl.</i> 62 (2011) 770–775), FSAL, with its free interpolant of order 4.
    /// </summary>
    public static EmbeddedTableau Tsitouras54 { get; } = BuildTsitouras();

    /// <summary>
    /// Verner's "most efficient" 6(5) pair with nine stages, FSAL (J. H. Verner, "Numerically optimal Runge–Kutta pairs
    /// with interpolants", <i>Numer. Algorithms</i> 53 (2010) 383–396), for tight tolerances; cubic Hermite dense output.
    /// </summary>
    public static EmbeddedTableau Verner65 { get; } = BuildVerner6();

    /// <summary>
    /// Verner's "most efficient" 7(6) pair with ten stages (J. H. Verner, <i>Numer. Algorithms</i> 53 (2010) 383–396), not FSAL:
    /// the next step's first stage is evaluated after acceptance, so a step costs ten evaluations. Cubic Hermite dense output.
    /// </summary>
    public static EmbeddedTableau Verner76 { get; } = BuildVerner7();

    /// <summary>All built-in adaptive pairs, lowest order first.</summary>
    public static IReadOnlyList<EmbeddedTableau> AdaptiveMethods { get; } = [HeunEuler, BogackiShampine32, DormandPrince54, Tsitouras54, Verner65, Verner76];

    /// <summary>Looks a built-in method up by name (case-insensitive): heuneuler, bs3, dp5/dopri5, tsit5, vern6, vern7.</summary>
    /// <exception cref="ArgumentException">The name is not a built-in adaptive method.</exception>
    public static EmbeddedTableau FromName(string name) => name.ToLowerInvariant() switch
    {
        "heuneuler" or "heun_euler" => HeunEuler,
        "bs3" or "bosh3" or "bogackishampine32" => BogackiShampine32,
        "dp5" or "dopri5" or "dormandprince54" => DormandPrince54,
        "tsit5" or "tsitouras54" => Tsitouras54,
        "vern6" or "verner65" => Verner65,
        "vern7" or "verner76" => Verner76,
        _ => throw new ArgumentException($"Unknown adaptive method '{name}'; known: heuneuler, bs3, dp5, tsit5, vern6, vern7.", nameof(name)),
    };

    private static EmbeddedTableau BuildDormandPrince()
    {
        double[] c = [0, 0.2, 0.3, 0.8, 8.0 / 9, 1, 1];
        double[][] a =
        [
            [],
            [0.2],
            [3.0 / 40, 9.0 / 40],
            [44.0 / 45, -56.0 / 15, 32.0 / 9],
            [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
            [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
            [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
        ];
        double[] b = [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0];
        double[] e = [71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40];
        // Shampine's dense output in Hairer's form: u = y0 + theta (dy + (1-theta)(r3 + theta (r4 + (1-theta) r5))),
        // dy = h sum b_i k_i, r3 = h k1 - dy, r4 = dy - h k7 - r3, r5 = h sum d_i k_i. Expanded in powers of theta.
        double[] d = [-12715105075.0 / 11282082432, 0, 87487479700.0 / 32700410799, -10690763975.0 / 1880347072,
            701980252875.0 / 199316789632, -1453857185.0 / 822651844, 69997945.0 / 29380423];
        var dense = new double[7][];
        for (int i = 0; i < 7; i++)
        {
            double r3 = (i == 0 ? 1 : 0) - b[i];
            double r4 = b[i] - (i == 6 ? 1 : 0) - r3;
            dense[i] = [b[i] + r3, -r3 + r4 + d[i], -r4 - 2 * d[i], d[i]];
        }
        return new EmbeddedTableau("DP5", 5, 4, c, a, b, e, dense, 4, true);
    }

    private static EmbeddedTableau BuildTsitouras()
    {
        double[] c = [0, 0.161, 0.327, 0.9, 0.9800255409045097, 1, 1];
        double[] b = [0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774, 0];
        double[][] a =
        [
            [],
            [0.161],
            [-0.008480655492356989, 0.335480655492357],
            [2.8971530571054935, -6.359448489975075, 4.3622954328695815],
            [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
            [5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401, -0.028269050394068383],
            b[..6],
        ];
        // Embedded weights bhat = b + t with t the published difference; e = b - bhat = -t.
        double[] t = [-0.00178001105222577714, -0.0008164344596567469, 0.007880878010261995, -0.1447110071732629,
            0.5823571654525552, -0.45808210592918697, 1.0 / 66];
        var e = new double[7];
        for (int i = 0; i < 7; i++) e[i] = -t[i];
        double[][] dense =
        [
            [1.0, -2.763706197274826, 2.9132554618219126, -1.0530884977290216],
            [0, 0.13169999999999998, -0.2234, 0.1017],
            [0, 3.9302962368947516, -5.941033872131505, 2.490627285651253],
            [0, -12.411077166933676, 30.33818863028232, -16.548102889244902],
            [0, 37.50931341651104, -88.1789048947664, 47.37952196281928],
            [0, -27.896526289197286, 65.09189467479366, -34.87065786149661],
            [0, 1.5, -4, 2.5],
        ];
        return new EmbeddedTableau("Tsit5", 5, 4, c, a, b, e, dense, 4, true);
    }

    private static EmbeddedTableau BuildVerner6()
    {
        double[] c = [0, 3.0 / 50, 1439.0 / 15000, 1439.0 / 10000, 4973.0 / 10000, 389.0 / 400, 1999.0 / 2000, 1, 1];
        double[] b = [0.03438957868357036, 0, 0, 0.25826245556335037, 0.4209371189673537, 4.40539646966931,
            -176.48311902429865, 172.36413340141507, 0];
        double[][] a =
        [
            [],
            [3.0 / 50],
            [519479.0 / 27000000, 2070721.0 / 27000000],
            [1439.0 / 40000, 0, 4317.0 / 40000],
            [109225017611.0 / 82828840000, 0, -417627820623.0 / 82828840000, 43699198143.0 / 10353605000],
            [-8036815292643907349452552172369.0 / 191934985946683241245914401600.0, 0,
                246134619571490020064824665.0 / 1543816496655405117602368.0,
                -13880495956885686234074067279.0 / 113663489566254201783474344.0,
                755005057777788994734129.0 / 136485922925633667082436.0],
            [-54.430156935316504, 0, 207.06725136501848, -158.61081378459, 6.991816585950242, -0.01859723106220323],
            [-54.66374178728198, 0, 207.95280625538936, -159.2889574744995, 7.018743740796944, -0.018338785905045722, -0.0005119484997882099],
            b[..8],
        ];
        // Published differences t = bhat - b; e = -t.
        double[] t = [0.008623404282200854, 0, 0, -0.019434029953152708, 0.028450072588037983, -2.1097110610652914,
            103.45854289996397, -101.39980461914912, 1.0 / 30];
        var e = new double[9];
        for (int i = 0; i < 9; i++) e[i] = -t[i];
        return new EmbeddedTableau("Vern6", 6, 5, c, a, b, e, null, 0, true);
    }

    private static EmbeddedTableau BuildVerner7()
    {
        double[] c = [0, 1.0 / 200, 49.0 / 450, 49.0 / 300, 911.0 / 2000, 3480084980.0 / 5709648941, 221.0 / 250, 37.0 / 40, 1, 1];
        double[][] a =
        [
            [],
            [1.0 / 200],
            [-4361.0 / 4050, 2401.0 / 2025],
            [49.0 / 1200, 0, 49.0 / 400],
            [2454451729.0 / 3841600000, 0, -9433712007.0 / 3841600000, 4364554539.0 / 1920800000],
            [-2.6615773750187572, 0, 10.804513886456137, -8.3539146573962, 0.820487594956657],
            [6.067741434696772, 0, -24.711273635911088, 20.427517930788895, -1.9061579788166472, 1.006172249242068],
            [12.054670076253203, 0, -49.75478495046899, 41.142888638604674, -4.461760149974004, 2.042334822239175, -0.09834843665406107],
            [10.138146522881808, 0, -42.6411360317175, 35.76384003992257, -4.3480228403929075, 2.0098622683770357, 0.3487490460338272, -0.27143900510483127],
            [-45.030072034298676, 0, 187.3272437654589, -154.02882369350186, 18.56465306347536, -7.141809679295079, 1.3088085781613787],
        ];
        double[] b = [0.04715561848627222, 0, 0, 0.25750564298434153, 0.26216653977412624, 0.15216092656738558, 0.4939969170032485,
            -0.29430311714032503, 0.08131747232495111, 0];
        // Published differences e = b - bhat (the embedded solution uses stage 10 instead of stages 8 and 9).
        double[] e = [0.002547011879931045, 0, 0, -0.00965839487279575, 0.04206470975639691, -0.0666822437469301, 0.2650097464621281,
            -0.29430311714032503, 0.08131747232495111, -0.02029518466335628];
        return new EmbeddedTableau("Vern7", 7, 6, c, a, b, e, null, 0, true);
    }
}
