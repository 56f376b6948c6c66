using FsCheck;
using FsCheck.Xunit;
using GenerativePaths.Metrics;
using Xunit;

namespace GenerativePaths.Tests.Metrics;

/// <summary>Closed-form cases of <see cref="LinearSolvability.Classify(double[,], double[], double)"/>, and the example of
/// docs/parallel-decoding.md as written there. (Kept beside the decoding tests, which the essay's linear view belongs to.)</summary>
public sealed class LinearSolvabilityTests
{
    [Fact]
    public void TheIdentityHasTheUniqueSolutionB()
    {
        var r = LinearSolvability.Classify(new double[,] { { 1, 0 }, { 0, 1 } }, [1, 2]);
        Assert.Equal(SolutionKind.Unique, r.Kind);
        Assert.Equal(2, r.Rank);
        Assert.Equal(0, r.NullSpaceDimension);
        Assert.Equal(1, r.Solution[0], 12);
        Assert.Equal(2, r.Solution[1], 12);
        Assert.Equal(0, r.Residual, 12);
    }

    [Fact]
    public void TwoEqualRowsWithEqualRightHandSidesHaveALineOfSolutions()
    {
        // x1 + x2 = 2 twice: the solutions are (1, 1) + t (1, -1); the minimum-norm one is (1, 1).
        var r = LinearSolvability.Classify(new double[,] { { 1, 1 }, { 1, 1 } }, [2, 2]);
        Assert.Equal(SolutionKind.InfinitelyMany, r.Kind);
        Assert.Equal(1, r.Rank);
        Assert.Equal(1, r.NullSpaceDimension);
        Assert.Equal(1, r.Solution[0], 12);
        Assert.Equal(1, r.Solution[1], 12);
    }

    [Fact]
    public void ContradictoryRowsHaveNoSolutionAndTheLeastSquaresResidual()
    {
        // x1 + x2 = 1 and x1 + x2 = 3: the best s = x1 + x2 is 2, residual sqrt((1 - 2)^2 + (3 - 2)^2) = sqrt 2.
        var r = LinearSolvability.Classify(new double[,] { { 1, 1 }, { 1, 1 } }, [1, 3]);
        Assert.Equal(SolutionKind.None, r.Kind);
        Assert.Equal(Math.Sqrt(2), r.Residual, 12);
        Assert.Equal(2, r.Solution[0] + r.Solution[1], 12);
        Assert.Equal(r.Solution[0], r.Solution[1], 12);
    }

    [Fact]
    public void OneEquationInThreeUnknownsHasAPlaneOfSolutions()
    {
        // x + 2y + 3z = 6: null space of dimension 2; minimum-norm solution 6 a / |a|^2 = (6/14)(1, 2, 3).
        var r = LinearSolvability.Classify(new double[,] { { 1, 2, 3 } }, [6]);
        Assert.Equal(SolutionKind.InfinitelyMany, r.Kind);
        Assert.Equal(2, r.NullSpaceDimension);
        for (int i = 0; i < 3; i++) Assert.Equal(6.0 / 14 * (i + 1), r.Solution[i], 12);
        Assert.Equal(Math.Sqrt(14), r.SingularValues[0], 12);
    }

    [Fact]
    public void AnOverdeterminedLineFit()
    {
        // Fit y = c0 + c1 t through (0, 1), (1, 3), (2, 5): consistent, c = (1, 2). Move the last point to 6: inconsistent, and the
        // least-squares residual of the three points is 1/sqrt(6) (residuals 1/6, -1/3, 1/6).
        var a = new double[,] { { 1, 0 }, { 1, 1 }, { 1, 2 } };
        var r = LinearSolvability.Classify(a, [1, 3, 5]);
        Assert.Equal(SolutionKind.Unique, r.Kind);
        Assert.Equal(1, r.Solution[0], 12);
        Assert.Equal(2, r.Solution[1], 12);
        var off = LinearSolvability.Classify(a, [1, 3, 6]);
        Assert.Equal(SolutionKind.None, off.Kind);
        Assert.Equal(1 / Math.Sqrt(6), off.Residual, 12);
    }

    [Fact]
    public void TheZeroMatrix()
    {
        var z = new double[2, 3];
        var consistent = LinearSolvability.Classify(z, [0, 0]);
        Assert.Equal(SolutionKind.InfinitelyMany, consistent.Kind);
        Assert.Equal(0, consistent.Rank);
        Assert.Equal(3, consistent.NullSpaceDimension);
        var none = LinearSolvability.Classify(z, [3, 4]);
        Assert.Equal(SolutionKind.None, none.Kind);
        Assert.Equal(5, none.Residual, 12);
    }

    [Fact]
    public void TheToleranceDecidesNearlyDependentColumns()
    {
        // Columns (1, 1) and (1, 1 + e): rank 2 for tolerance well below e / 2, rank 1 above it.
        const double e = 1e-6;
        var a = new double[,] { { 1, 1 }, { 1, 1 + e } };
        Assert.Equal(2, LinearSolvability.Classify(a, [2, 2], 1e-12).Rank);
        var loose = LinearSolvability.Classify(a, [2, 2], 1e-4);
        Assert.Equal(1, loose.Rank);
        Assert.Equal(SolutionKind.InfinitelyMany, loose.Kind);
    }

    [Property(MaxTest = 100)]
    public void ARandomFullRankSystemWithAKnownSolutionIsUnique(PositiveInt seedArg, byte rowsArg, byte colsArg)
    {
        var rng = new Random(seedArg.Get);
        int n = 1 + colsArg % 5, m = n + rowsArg % 4;
        var a = new double[m, n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) a[i, j] = rng.NextDouble() * 2 - 1 + (i == j ? 3 : 0);
        var x = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        var b = new double[m];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) b[i] += a[i, j] * x[j];
        var r = LinearSolvability.Classify(a, b, 1e-9);
        Assert.Equal(SolutionKind.Unique, r.Kind);
        for (int j = 0; j < n; j++) Assert.Equal(x[j], r.Solution[j], 8);
        // Duplicating the last column adds a null direction without changing consistency.
        var wide = new double[m, n + 1];
        for (int i = 0; i < m; i++) { for (int j = 0; j < n; j++) wide[i, j] = a[i, j]; wide[i, n] = a[i, n - 1]; }
        var w = LinearSolvability.Classify(wide, b, 1e-9);
        Assert.Equal(SolutionKind.InfinitelyMany, w.Kind);
        Assert.Equal(1, w.NullSpaceDimension);
    }

    [Fact]
    public void BadInputNamesWhatIsWrong()
    {
        Assert.Contains("2 rows but b has 3", Assert.Throws<ArgumentException>(() => LinearSolvability.Classify(new double[2, 2], [1, 2, 3])).Message);
        Assert.Contains("A[0, 1] is NaN", Assert.Throws<ArgumentException>(() => LinearSolvability.Classify(new double[,] { { 1, double.NaN } }, [1])).Message);
        Assert.Contains("b[0]", Assert.Throws<ArgumentException>(() => LinearSolvability.Classify(new double[,] { { 1 } }, [double.PositiveInfinity])).Message);
        Assert.Contains("at least one row", Assert.Throws<ArgumentException>(() => LinearSolvability.Classify(new double[0, 2], [])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearSolvability.Classify(new double[,] { { 1 } }, [1], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearSolvability.Classify(new double[,] { { 1 } }, [1], double.NaN));
    }

    /// <summary>The example of docs/parallel-decoding.md ("The linear-system view"), as written there.</summary>
    [Fact]
    public void DocumentationExample()
    {
        // Three "facts" a linear probe reads (rows) about two unknowns, and the answers they imply.
        var facts = new double[,] { { 1, 0 }, { 0, 1 }, { 1, 1 } };
        var known = LinearSolvability.Classify(facts, [2, 3, 5]);          // consistent, full rank
        var contradicted = LinearSolvability.Classify(facts, [2, 3, 6]);   // the third fact disagrees
        var underdetermined = LinearSolvability.Classify(new double[,] { { 1, 1 } }, [5]); // one fact, two unknowns

        Assert.Equal(SolutionKind.Unique, known.Kind);                     // x = (2, 3)
        Assert.Equal(SolutionKind.None, contradicted.Kind);                // residual 1/sqrt(3)
        Assert.Equal(SolutionKind.InfinitelyMany, underdetermined.Kind);   // a line of answers
        Assert.Equal(1, underdetermined.NullSpaceDimension);
        Assert.Equal(1 / Math.Sqrt(3), contradicted.Residual, 12);
        Assert.Equal(2, known.Solution[0], 12);
        Assert.Equal(3, known.Solution[1], 12);
    }
}
