using GenerativePaths.Ode;
using Xunit;

namespace GenerativePaths.Tests.Ode;

/// <summary>Runge–Kutta order conditions from rooted trees (Butcher): sum_i b_i Phi_i(t) = 1/gamma(t) for every tree of order &lt;= p.</summary>
public class TableauTests
{
    private sealed record Tree(Tree[] Children)
    {
        public int Order => 1 + Children.Sum(c => c.Order);
        public double Gamma => Order * Children.Aggregate(1.0, (g, c) => g * c.Gamma);
    }

    private static List<Tree> TreesUpTo(int maxOrder)
    {
        var all = new List<Tree> { new([]) };
        for (int n = 2; n <= maxOrder; n++)
        {
            var smaller = all.ToList();
            void Build(int remaining, int minIndex, List<Tree> chosen)
            {
                if (remaining == 0) { all.Add(new Tree([.. chosen])); return; }
                for (int i = minIndex; i < smaller.Count; i++)
                {
                    if (smaller[i].Order > remaining) continue;
                    chosen.Add(smaller[i]);
                    Build(remaining - smaller[i].Order, i, chosen);
                    chosen.RemoveAt(chosen.Count - 1);
                }
            }
            Build(n - 1, 0, []);
        }
        return all;
    }

    private static double[] Phi(ButcherTableau m, Tree t, bool absolute = false)
    {
        int s = m.Stages;
        var phi = Enumerable.Repeat(1.0, s).ToArray();
        foreach (var c in t.Children)
        {
            var pc = Phi(m, c, absolute);
            for (int i = 0; i < s; i++)
            {
                double acc = 0;
                for (int j = 0; j < i; j++) acc += (absolute ? Math.Abs(m.A(i, j)) : m.A(i, j)) * pc[j];
                phi[i] *= acc;
            }
        }
        return phi;
    }

    /// <summary>
    /// The largest residual |b . Phi(t) - 1/gamma(t)| over the trees of exactly order <paramref name="order"/>, divided by the
    /// magnitude |b| . Phi_|A|(t) of the terms summed (so that rounding of large coefficients counts as rounding).
    /// </summary>
    private static double Residual(ButcherTableau m, ReadOnlySpan<double> b, int order, List<Tree> trees)
    {
        double worst = 0;
        foreach (var t in trees.Where(t => t.Order == order))
        {
            var phi = Phi(m, t);
            var phiAbs = Phi(m, t, absolute: true);
            double sum = 0, mag = 0;
            for (int i = 0; i < b.Length; i++) { sum += b[i] * phi[i]; mag += Math.Abs(b[i]) * phiAbs[i]; }
            worst = Math.Max(worst, Math.Abs(sum - 1 / t.Gamma) / Math.Max(1, mag));
        }
        return worst;
    }

    [Fact]
    public void TreeCountsAreButchers() // 1, 1, 2, 4, 9, 20, 48 rooted trees of orders 1..7
        => Assert.Equal([1, 1, 2, 4, 9, 20, 48], Enumerable.Range(1, 7).Select(n => TreesUpTo(7).Count(t => t.Order == n)).ToArray());

    public static TheoryData<string> FixedNames => new(ButcherTableau.FixedStepMethods.Select(m => m.Name));
    public static TheoryData<string> AdaptiveNames => new(EmbeddedTableau.AdaptiveMethods.Select(m => m.Name));

    [Theory]
    [MemberData(nameof(FixedNames))]
    public void FixedMethodsSatisfyExactlyTheirOrderConditions(string name)
    {
        var m = ButcherTableau.FixedStepMethods.Single(x => x.Name == name);
        var trees = TreesUpTo(m.Order + 1);
        for (int q = 1; q <= m.Order; q++) Assert.True(Residual(m, m.B, q, trees) < 1e-14, $"{name}: order {q} condition fails");
        Assert.True(Residual(m, m.B, m.Order + 1, trees) > 1e-4, $"{name} has order above {m.Order}");
    }

    [Theory]
    [MemberData(nameof(AdaptiveNames))]
    public void EmbeddedPairsSatisfyTheirOrderConditions(string name)
    {
        var m = EmbeddedTableau.AdaptiveMethods.Single(x => x.Name == name);
        var trees = TreesUpTo(m.Order + 1);
        var bHat = m.EmbeddedWeights();
        for (int q = 1; q <= m.Order; q++) Assert.True(Residual(m, m.B, q, trees) < 1e-13, $"{name}: order {q} condition of b fails by {Residual(m, m.B, q, trees):E2}");
        Assert.True(Residual(m, m.B, m.Order + 1, trees) > 1e-9, $"{name}: b has order above {m.Order}");
        for (int q = 1; q <= m.EmbeddedOrder; q++) Assert.True(Residual(m, bHat, q, trees) < 1e-13, $"{name}: order {q} condition of bhat fails by {Residual(m, bHat, q, trees):E2}");
        Assert.True(Residual(m, bHat, m.EmbeddedOrder + 1, trees) > 1e-9, $"{name}: bhat has order above {m.EmbeddedOrder}");
    }

    [Theory]
    [MemberData(nameof(AdaptiveNames))]
    public void DenseWeightsStartAtZeroAndEndAtTheStepWeights(string name)
    {
        var m = EmbeddedTableau.AdaptiveMethods.Single(x => x.Name == name);
        var w = new double[m.Stages + 1];
        m.DenseWeights(0, w);
        Assert.All(w, v => Assert.Equal(0, v));
        m.DenseWeights(1, w);
        for (int i = 0; i < m.Stages; i++) Assert.True(Math.Abs(w[i] - m.B[i]) < 1e-12, $"{name}: w_{i}(1) = {w[i]} but b_{i} = {m.B[i]}");
        Assert.True(Math.Abs(w[m.Stages]) < 1e-12);
    }

    [Theory]
    [MemberData(nameof(AdaptiveNames))]
    public void DenseWeightsSatisfyTheContinuousOrderConditions(string name)
    {
        // For an interpolant of order q: sum_i w_i(theta) Phi_i(t) = theta^|t| / gamma(t) for every tree of order <= q.
        var m = EmbeddedTableau.AdaptiveMethods.Single(x => x.Name == name);
        var trees = TreesUpTo(m.DenseOrder);
        var w = new double[m.Stages + 1];
        foreach (double theta in new[] { 0.1, 0.37, 0.5, 0.81 })
        {
            m.DenseWeights(theta, w);
            if (!m.IsFsal) continue; // the end slot of a non-FSAL pair is not a stage
            foreach (var t in trees)
            {
                var phi = Phi(m, t);
                double sum = 0;
                for (int i = 0; i < m.Stages; i++) sum += w[i] * phi[i];
                Assert.True(Math.Abs(sum - Math.Pow(theta, t.Order) / t.Gamma) < 1e-10, $"{name}: dense condition of order {t.Order} fails at theta {theta}");
            }
        }
    }

    [Fact]
    public void BuiltInPairsAreFirstSameAsLastExceptVern7()
    {
        Assert.All(EmbeddedTableau.AdaptiveMethods.Where(m => m.Name != "Vern7"), m => Assert.True(m.IsFsal, m.Name));
        Assert.False(EmbeddedTableau.Verner76.IsFsal);
        Assert.True(EmbeddedTableau.Verner76.NeedsEndDerivative);
    }

    [Fact]
    public void InconsistentTableauxAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new ButcherTableau("bad", 1, [0, 0.5], [[], [0.4]], [0.5, 0.5]));
        Assert.Throws<ArgumentException>(() => new ButcherTableau("bad", 1, [0, 1], [[], [1]], [0.5, 0.6]));
        Assert.Throws<ArgumentException>(() => new ButcherTableau("bad", 1, [0.1], [[]], [1]));
        Assert.Throws<ArgumentException>(() => new ButcherTableau("implicit", 1, [0, 1], [[], [0.5, 0.5]], [0.5, 0.5]));
        Assert.Throws<ArgumentException>(() => new EmbeddedTableau("bad", 2, 1, [0, 1], [[], [1]], [0.5, 0.5], [1, 0, 0]));
    }

    [Fact]
    public void UserTableauBuildsAPairWithHermiteDenseOutput()
    {
        // Heun–Euler without the FSAL stage: a user-defined, non-FSAL pair.
        var m = new EmbeddedTableau("user", 2, 1, [0, 1], [[], [1]], [0.5, 0.5], [1, 0]);
        Assert.False(m.IsFsal);
        Assert.True(m.NeedsEndDerivative);
        Assert.Equal(2, m.DenseOrder);
    }
}
