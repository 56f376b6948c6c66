using MathNet.Numerics.LinearAlgebra;

namespace GenerativePaths.Metrics;

/// <summary>How many solutions a linear system <c>A x = b</c> has (see <see cref="LinearSolvability"/>).</summary>
/// <remarks>Thread safety: a value.</remarks>
public enum SolutionKind
{
    /// <summary>Consistent with full column rank: exactly one solution.</summary>
    Unique,

    /// <summary>Consistent with a null space: an affine family of solutions of dimension <c>n - rank</c>.</summary>
    InfinitelyMany,

    /// <summary>Inconsistent: no solution; the least-squares residual says by how much.</summary>
    None,
}

/// <summary>The classification of <c>A x = b</c>.</summary>
/// <param name="Kind">Unique, infinitely many or none.</param>
/// <param name="Rank">The numerical rank of <c>A</c>.</param>
/// <param name="NullSpaceDimension"><c>n - rank</c>: the dimension of the solution family when consistent (0 for a unique solution).</param>
/// <param name="Residual"><c>|A x* - b|_2</c> for the minimum-norm least-squares solution <c>x*</c> (0 up to round-off when consistent).</param>
/// <param name="Solution"><c>x* = V S^+ U^T b</c>: the solution (unique), the minimum-norm solution (infinitely many) or the
/// minimum-norm least-squares fit (none).</param>
/// <param name="SingularValues">The singular values of <c>A</c>, largest first.</param>
/// <remarks>Thread safety: immutable (the arrays are copies owned by the result; do not modify them).</remarks>
public sealed record LinearSolvabilityResult(SolutionKind Kind, int Rank, int NullSpaceDimension, double Residual, double[] Solution, double[] SingularValues);

/// <summary>
/// Classifies a linear system <c>A x = b</c> as having a unique solution, infinitely many (with the dimension of the null space),
/// or none (with the least-squares residual), from the singular value decomposition.
/// </summary>
/// <remarks>
/// <para>Algorithm: the thin SVD <c>A = U S V^T</c> (MathNet.Numerics, double precision), <c>A</c> being <c>m x n</c>. The numerical rank
/// is <c>r = #{ s_i &gt; tau s_1 }</c> for the relative tolerance <c>tau</c>; <c>x* = sum_{i &lt;= r} (u_i . b / s_i) v_i</c> is the
/// minimum-norm least-squares solution and <c>rho = |A x* - b|_2</c> its residual. The system is consistent when
/// <c>rho &lt;= tau (|A|_2 |x*|_2 + |b|_2)</c> (a backward-error test, so the answer does not change with the scale of the system);
/// then it has one solution if <c>r = n</c> and an <c>(n - r)</c>-dimensional family otherwise; else none.</para>
/// <para>Use. The essay behind this library reads a model's answer to a question as the solution of a system: what the model has
/// learned (the rows of <c>A</c>, e.g. features a linear probe reads) must determine the answer <c>b</c>. Unique: the facts pin the
/// answer down; infinitely many: they are consistent but underdetermine it, and any answer on the family is as good (where a model
/// would have to guess, and may confabulate); none: they contradict it, and the best fit leaves a residual. The three cases line up
/// loosely with the categories of Gekhman et al., "Does Fine-Tuning LLMs on New Knowledge Encourage Hallucinations?" (EMNLP 2024):
/// HighlyKnown (the answer is determined), MaybeKnown (sometimes recovered, i.e. underdetermined), Unknown (not recoverable from what
/// the model knows). This is a diagnostic for linear probes and linear models of features: it says what a linear system
/// determines, not whether a language model hallucinates, and it is not a hallucination detector.</para>
/// <para>Thread safety: a static class of pure functions; safe from any number of threads.</para>
/// </remarks>
public static class LinearSolvability
{
    /// <summary>The default relative tolerance <c>tau</c>: <c>1e-10</c>.</summary>
    public const double DefaultTolerance = 1e-10;

    /// <summary>Classifies <c>A x = b</c>.</summary>
    /// <param name="a">The <c>m x n</c> matrix (at least one row and one column).</param>
    /// <param name="b">The right-hand side, <c>m</c> values.</param>
    /// <param name="tolerance">The relative tolerance <c>tau</c> of the rank and the consistency test (see the remarks), in <c>[0, 1)</c>.</param>
    /// <exception cref="ArgumentException">The shapes disagree, a dimension is zero, or a value is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tolerance"/> is negative, 1 or more, or NaN.</exception>
    public static LinearSolvabilityResult Classify(double[,] a, double[] b, double tolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(a);
        return Classify(Matrix<double>.Build.DenseOfArray(a), b, tolerance);
    }

    /// <summary>Classifies <c>A x = b</c> for a MathNet matrix.</summary>
    /// <inheritdoc cref="Classify(double[,], double[], double)"/>
    public static LinearSolvabilityResult Classify(Matrix<double> a, double[] b, double tolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!(tolerance >= 0 && tolerance < 1)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance must lie in [0, 1).");
        int m = a.RowCount, n = a.ColumnCount;
        if (m == 0 || n == 0) throw new ArgumentException($"A is {m} x {n}; it needs at least one row and one column.", nameof(a));
        if (b.Length != m) throw new ArgumentException($"A has {m} rows but b has {b.Length} values.", nameof(b));
        for (int i = 0; i < m; i++)
        {
            if (!double.IsFinite(b[i])) throw new ArgumentException($"b[{i}] is {b[i]}; the values must be finite.", nameof(b));
            for (int j = 0; j < n; j++)
                if (!double.IsFinite(a[i, j])) throw new ArgumentException($"A[{i}, {j}] is {a[i, j]}; the values must be finite.", nameof(a));
        }

        var svd = a.Svd(computeVectors: true);
        var s = svd.S.ToArray();
        double s1 = s.Length > 0 ? s[0] : 0;
        int rank = 0;
        foreach (double v in s) if (v > tolerance * s1 && v > 0) rank++;
        var bv = Vector<double>.Build.DenseOfArray(b);
        var x = Vector<double>.Build.Dense(n);
        for (int i = 0; i < rank; i++)
        {
            double c = svd.U.Column(i).DotProduct(bv) / s[i];
            x += c * svd.VT.Row(i);
        }
        double residual = (a * x - bv).L2Norm();
        bool consistent = residual <= tolerance * (s1 * x.L2Norm() + bv.L2Norm());
        var kind = !consistent ? SolutionKind.None : rank == n ? SolutionKind.Unique : SolutionKind.InfinitelyMany;
        return new LinearSolvabilityResult(kind, rank, n - rank, residual, x.ToArray(), s);
    }
}
