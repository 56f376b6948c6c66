using MathNet.Numerics.LinearAlgebra;

namespace GenerativePaths.Metrics;

/// <summary>
/// The Fréchet distance between two sample sets, each summarised by its mean and covariance (the Fréchet distance of the two
/// Gaussians with those moments): the FID of Heusel et al. (2017) when the samples are features of an image classifier.
/// </summary>
/// <remarks>
/// <para><c>d^2 = |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2})</c>, with <c>mu</c> the sample means and <c>S</c> the
/// sample covariances (divisor <c>n - 1</c>). The matrix square roots are taken through symmetric eigendecompositions in double
/// precision (MathNet.Numerics), with eigenvalues below zero, which are round-off, set to zero; the result is clamped at zero.</para>
/// <para>Thread safety: a static class of pure functions; safe from any number of threads.</para>
/// </remarks>
public static class FrechetDistance
{
    /// <summary>The squared Fréchet distance between two sets of rows of length <paramref name="dimension"/>.</summary>
    /// <param name="a">The first set, row-major: <c>rowsA * dimension</c> values.</param>
    /// <param name="rowsA">Rows of <paramref name="a"/> (at least 2).</param>
    /// <param name="b">The second set, row-major.</param>
    /// <param name="rowsB">Rows of <paramref name="b"/> (at least 2).</param>
    /// <param name="dimension">The length of a row (at least 1).</param>
    /// <returns><c>d^2</c>, non-negative.</returns>
    /// <exception cref="ArgumentException">A length that does not match, fewer than 2 rows, or a non-finite value.</exception>
    /// <remarks>See the type's remarks for the formula.</remarks>
    public static double Squared(ReadOnlySpan<float> a, int rowsA, ReadOnlySpan<float> b, int rowsB, int dimension)
    {
        var (muA, covA) = Moments(a, rowsA, dimension, nameof(a));
        var (muB, covB) = Moments(b, rowsB, dimension, nameof(b));
        return Squared(muA, covA, muB, covB);
    }

    /// <summary>The squared Fréchet distance between two sets of rows in double precision.</summary>
    /// <inheritdoc cref="Squared(ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, int)"/>
    public static double Squared(ReadOnlySpan<double> a, int rowsA, ReadOnlySpan<double> b, int rowsB, int dimension)
    {
        var (muA, covA) = Moments(a, rowsA, dimension, nameof(a));
        var (muB, covB) = Moments(b, rowsB, dimension, nameof(b));
        return Squared(muA, covA, muB, covB);
    }

    /// <summary>The squared Fréchet distance between the Gaussians <c>N(mu1, S1)</c> and <c>N(mu2, S2)</c>.</summary>
    /// <param name="mean1">The first mean.</param>
    /// <param name="covariance1">The first covariance (symmetric positive semi-definite, <c>d x d</c>).</param>
    /// <param name="mean2">The second mean.</param>
    /// <param name="covariance2">The second covariance.</param>
    /// <returns><c>|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2})</c>, clamped at zero.</returns>
    /// <exception cref="ArgumentException">Sizes that do not agree, or a non-finite entry.</exception>
    public static double Squared(Vector<double> mean1, Matrix<double> covariance1, Vector<double> mean2, Matrix<double> covariance2)
    {
        ArgumentNullException.ThrowIfNull(mean1);
        ArgumentNullException.ThrowIfNull(covariance1);
        ArgumentNullException.ThrowIfNull(mean2);
        ArgumentNullException.ThrowIfNull(covariance2);
        int d = mean1.Count;
        if (mean2.Count != d || covariance1.RowCount != d || covariance1.ColumnCount != d || covariance2.RowCount != d || covariance2.ColumnCount != d)
            throw new ArgumentException($"The means and covariances must all be of dimension {d} (got {mean2.Count}, {covariance1.RowCount}x{covariance1.ColumnCount}, {covariance2.RowCount}x{covariance2.ColumnCount}).");
        if (!AllFinite(mean1) || !AllFinite(mean2) || !AllFinite(covariance1) || !AllFinite(covariance2))
            throw new ArgumentException("The means and covariances must be finite.");

        double meanTerm = (mean1 - mean2).DotProduct(mean1 - mean2);
        var root1 = SymmetricSqrt(covariance1);
        var inner = root1 * covariance2 * root1;
        double crossTrace = SymmetricSqrt(inner).Trace();
        double d2 = meanTerm + covariance1.Trace() + covariance2.Trace() - 2 * crossTrace;
        return Math.Max(0, d2);
    }

    /// <summary>The sample mean and covariance (divisor <c>n - 1</c>) of row-major rows, in double precision.</summary>
    /// <param name="rows">Row-major values, <c>count * dimension</c> of them.</param>
    /// <param name="count">The number of rows (at least 2).</param>
    /// <param name="dimension">The length of a row (at least 1).</param>
    /// <exception cref="ArgumentException">A length that does not match, fewer than 2 rows, or a non-finite value.</exception>
    public static (Vector<double> Mean, Matrix<double> Covariance) Moments(ReadOnlySpan<float> rows, int count, int dimension)
        => Moments(rows, count, dimension, nameof(rows));

    /// <inheritdoc cref="Moments(ReadOnlySpan{float}, int, int)"/>
    public static (Vector<double> Mean, Matrix<double> Covariance) Moments(ReadOnlySpan<double> rows, int count, int dimension)
        => Moments(rows, count, dimension, nameof(rows));

    private static (Vector<double>, Matrix<double>) Moments(ReadOnlySpan<float> rows, int count, int dimension, string name)
    {
        Check(rows.Length, count, dimension, name);
        var data = new double[rows.Length];
        for (int i = 0; i < data.Length; i++) data[i] = rows[i];
        return MomentsOf(data, count, dimension, name);
    }

    private static (Vector<double>, Matrix<double>) Moments(ReadOnlySpan<double> rows, int count, int dimension, string name)
    {
        Check(rows.Length, count, dimension, name);
        return MomentsOf(rows.ToArray(), count, dimension, name);
    }

    private static void Check(int length, int count, int dimension, string name)
    {
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The dimension must be at least 1.");
        if (count < 2) throw new ArgumentException($"At least 2 rows are needed for a covariance (got {count}).", name);
        if ((long)count * dimension != length) throw new ArgumentException($"Expected {count} x {dimension} = {(long)count * dimension} values, got {length}.", name);
    }

    private static (Vector<double>, Matrix<double>) MomentsOf(double[] data, int count, int dimension, string name)
    {
        var mean = new double[dimension];
        for (int r = 0; r < count; r++)
            for (int j = 0; j < dimension; j++)
            {
                double v = data[r * dimension + j];
                if (!double.IsFinite(v)) throw new ArgumentException($"Row {r}, column {j} is {v}; the values must be finite.", name);
                mean[j] += v;
            }
        for (int j = 0; j < dimension; j++) mean[j] /= count;
        // Centred rows as a count x dimension matrix; the covariance is X^T X / (n - 1).
        var centred = Matrix<double>.Build.Dense(count, dimension, (r, j) => data[r * dimension + j] - mean[j]);
        var cov = centred.TransposeThisAndMultiply(centred) / (count - 1);
        // Exact symmetry so that the eigendecomposition takes the symmetric path.
        cov = (cov + cov.Transpose()) * 0.5;
        return (Vector<double>.Build.DenseOfArray(mean), cov);
    }

    /// <summary>The principal square root of a symmetric positive semi-definite matrix: <c>V diag(sqrt(max(l, 0))) V^T</c>.</summary>
    private static Matrix<double> SymmetricSqrt(Matrix<double> m)
    {
        var s = (m + m.Transpose()) * 0.5;
        var evd = s.Evd(Symmetricity.Symmetric);
        var v = evd.EigenVectors;
        var l = evd.EigenValues;
        var root = Vector<double>.Build.Dense(l.Count, i => Math.Sqrt(Math.Max(0, l[i].Real)));
        return v * Matrix<double>.Build.DiagonalOfDiagonalVector(root) * v.Transpose();
    }

    private static bool AllFinite(Vector<double> v)
    {
        foreach (double x in v) if (!double.IsFinite(x)) return false;
        return true;
    }

    private static bool AllFinite(Matrix<double> m)
    {
        foreach (double x in m.Enumerate()) if (!double.IsFinite(x)) return false;
        return true;
    }
}
