using System.Numerics;
using System.Runtime.CompilerServices;

namespace GenerativePaths.Tensors;

/// <summary>
/// One coefficient per sample (row) of a batch: the per-row factor of a <see cref="TensorCombination{T}"/> term, for updates whose
/// rows sit at different points of a schedule (<c>y[b] = sum_j c_j[b] x_j[b]</c>).
/// </summary>
/// <remarks>
/// <para>Write the values (<see cref="Values"/>, the indexer) before the combination that reads them is evaluated; a combination
/// holds a reference, not a copy.</para>
/// <para>Thread safety: not thread-safe for writing; a combination reading it may run while no thread writes it.</para>
/// </remarks>
public sealed class SampleCoefficients
{
    private readonly double[] _values;

    /// <summary>Coefficients for <paramref name="batchSize"/> rows, all zero.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is negative.</exception>
    public SampleCoefficients(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchSize);
        _values = new double[batchSize];
    }

    /// <summary>Number of rows.</summary>
    public int Count => _values.Length;

    /// <summary>The values, one per row.</summary>
    public Span<double> Values => _values;

    /// <summary>Row <paramref name="row"/>'s coefficient.</summary>
    public double this[int row]
    {
        get => _values[row];
        set => _values[row] = value;
    }

    /// <summary>Sets every row to <paramref name="value"/>; returns this object.</summary>
    public SampleCoefficients Fill(double value)
    {
        Array.Fill(_values, value);
        return this;
    }
}

/// <summary>
/// A linear combination of batched tensors, written as the formula reads and evaluated later in one fused pass:
/// <c>a * x + b * y - c * z</c> builds the combination, <see cref="TensorKernels.Evaluate{T}(BatchTensor{T}, in TensorCombination{T})"/>
/// (or a sampler state's <c>Set</c>, which also checks the result is finite) writes it.
/// </summary>
/// <remarks>
/// <para>Formula: <c>y[b, i] = sum_j s_j f_j[b] g_j[b] x_j[b, i]</c>, each term a tensor <c>x_j</c>, a scalar <c>s_j</c> and at most
/// two per-row factors <c>f_j, g_j</c> (<see cref="SampleCoefficients"/>). Terms on the same tensor are merged before the pass (their
/// coefficients added in double precision), so a tensor is read once however often it appears; at most six distinct tensors may
/// remain. The merged coefficient is rounded to <typeparamref name="T"/> once, and the pass computes
/// <c>((c0 x0 + c1 x1) + c2 x2) + ...</c> in the order the tensors first appear, exactly as <see cref="TensorKernels.LinearCombination{T}(Span{T}, T, ReadOnlySpan{T}, T, ReadOnlySpan{T})"/>.</para>
/// <para>Building a combination allocates nothing (terms are held inline, up to <see cref="MaxTerms"/> before merging). The destination may
/// be one of the tensors (in place); terms with a zero coefficient are kept, so a NaN in any tensor read reaches the result.</para>
/// <para>Thread safety: an immutable value; evaluating it while another thread writes one of its tensors is a race.</para>
/// </remarks>
public readonly struct TensorCombination<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Most terms a combination holds before terms on the same tensor are merged.</summary>
    public const int MaxTerms = 12;

    /// <summary>Most distinct tensors one fused pass reads.</summary>
    public const int MaxTensors = 6;

    // Expect: the write version of the tensor that the term was made for (a sampler state's guard against reading a tensor
    // overwritten since, e.g. a denoised estimate whose input has been updated); -1 when unguarded.
    internal readonly struct Term(BatchTensor<T> tensor, double scale, SampleCoefficients? rows0, SampleCoefficients? rows1, long expect = -1)
    {
        public readonly BatchTensor<T> Tensor = tensor;
        public readonly double Scale = scale;
        public readonly SampleCoefficients? Rows0 = rows0, Rows1 = rows1;
        public readonly long Expect = expect;

        public Term Scaled(double factor) => new(Tensor, Scale * factor, Rows0, Rows1, Expect);

        public Term Scaled(SampleCoefficients rows)
        {
            if (Rows0 is null) return new(Tensor, Scale, rows, null, Expect);
            if (Rows1 is null) return new(Tensor, Scale, Rows0, rows, Expect);
            throw new InvalidOperationException($"A term of a tensor combination has at most two per-sample factors; the term on {Tensor.ShapeString} got a third. Multiply the factors into one SampleCoefficients first.");
        }

        public double Coefficient(int row) => Scale * (Rows0 is null ? 1.0 : Rows0[row]) * (Rows1 is null ? 1.0 : Rows1[row]);
    }

    [InlineArray(MaxTerms)]
    internal struct TermBuffer
    {
        private Term _element;
    }

    private readonly TermBuffer _terms;

    /// <summary>Number of terms before merging.</summary>
    public int Count { get; }

    private TensorCombination(in TermBuffer terms, int count)
    {
        _terms = terms;
        Count = count;
    }

    internal TensorCombination(Term term)
    {
        _terms[0] = term;
        Count = 1;
    }

    /// <summary>The combination <c>c x</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="tensor"/> is null.</exception>
    public static TensorCombination<T> Of(double coefficient, BatchTensor<T> tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return new(new Term(tensor, coefficient, null, null));
    }

    /// <summary>The combination <c>c[b] x[b]</c> with one coefficient per row.</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The coefficients do not have one entry per row of <paramref name="tensor"/>.</exception>
    public static TensorCombination<T> Of(SampleCoefficients coefficients, BatchTensor<T> tensor)
    {
        ArgumentNullException.ThrowIfNull(coefficients);
        ArgumentNullException.ThrowIfNull(tensor);
        if (coefficients.Count != tensor.BatchSize)
            throw new ArgumentException($"{coefficients.Count} per-sample coefficients for a tensor of {tensor.BatchSize} rows ({tensor.ShapeString}).", nameof(coefficients));
        return new(new Term(tensor, 1.0, coefficients, null));
    }

    internal Term this[int k] => _terms[k];

    /// <summary>A guarded term: <c>c x</c> (<c>c[b] x[b]</c> with <paramref name="rows"/>) made for write version <paramref name="expect"/> of <paramref name="tensor"/>.</summary>
    internal static TensorCombination<T> Guarded(double coefficient, SampleCoefficients? rows, BatchTensor<T> tensor, long expect)
        => new(new Term(tensor, coefficient, rows, null, expect));

    /// <summary>The tensor <paramref name="tensor"/> with coefficient 1.</summary>
    public static implicit operator TensorCombination<T>(BatchTensor<T> tensor) => Of(1.0, tensor);

    /// <summary>The sum of two combinations (their terms, merged when evaluated).</summary>
    /// <exception cref="InvalidOperationException">The sum would hold more than <see cref="MaxTerms"/> terms.</exception>
    public static TensorCombination<T> operator +(TensorCombination<T> left, TensorCombination<T> right) => Concat(left, right, 1.0);

    /// <summary>The difference of two combinations.</summary>
    /// <exception cref="InvalidOperationException">The difference would hold more than <see cref="MaxTerms"/> terms.</exception>
    public static TensorCombination<T> operator -(TensorCombination<T> left, TensorCombination<T> right) => Concat(left, right, -1.0);

    /// <summary>The combination with every coefficient negated.</summary>
    public static TensorCombination<T> operator -(TensorCombination<T> value) => value * -1.0;

    /// <summary>The combination with every coefficient multiplied by <paramref name="factor"/>.</summary>
    public static TensorCombination<T> operator *(double factor, TensorCombination<T> value)
    {
        var terms = value._terms;
        for (int k = 0; k < value.Count; k++) terms[k] = terms[k].Scaled(factor);
        return new(terms, value.Count);
    }

    /// <summary>The combination with every coefficient multiplied by <paramref name="factor"/>.</summary>
    public static TensorCombination<T> operator *(TensorCombination<T> value, double factor) => factor * value;

    /// <summary>The combination with every coefficient divided by <paramref name="divisor"/>.</summary>
    public static TensorCombination<T> operator /(TensorCombination<T> value, double divisor) => (1.0 / divisor) * value;

    /// <summary>The combination with row <c>b</c> of every term multiplied by <c>factors[b]</c>.</summary>
    /// <exception cref="InvalidOperationException">A term would get a third per-sample factor.</exception>
    /// <exception cref="ArgumentException">The factors do not have one entry per row.</exception>
    public static TensorCombination<T> operator *(SampleCoefficients factors, TensorCombination<T> value)
    {
        ArgumentNullException.ThrowIfNull(factors);
        var terms = value._terms;
        for (int k = 0; k < value.Count; k++)
        {
            if (factors.Count != terms[k].Tensor.BatchSize)
                throw new ArgumentException($"{factors.Count} per-sample coefficients for a tensor of {terms[k].Tensor.BatchSize} rows.", nameof(factors));
            terms[k] = terms[k].Scaled(factors);
        }
        return new(terms, value.Count);
    }

    private static TensorCombination<T> Concat(in TensorCombination<T> left, in TensorCombination<T> right, double sign)
    {
        int n = left.Count + right.Count;
        if (n > MaxTerms)
            throw new InvalidOperationException($"A tensor combination holds at most {MaxTerms} terms before merging; this one would hold {n}. Split the update into two combinations.");
        var terms = left._terms;
        for (int k = 0; k < right.Count; k++) terms[left.Count + k] = sign == 1.0 ? right._terms[k] : right._terms[k].Scaled(sign);
        return new(terms, n);
    }

    /// <summary>True when some term has a per-sample factor.</summary>
    internal bool HasSampleFactors
    {
        get
        {
            for (int k = 0; k < Count; k++)
                if (_terms[k].Rows0 is not null) return true;
            return false;
        }
    }

    /// <summary>True when <paramref name="tensor"/> is one of the terms' tensors.</summary>
    public bool Reads(BatchTensor<T> tensor)
    {
        for (int k = 0; k < Count; k++)
            if (ReferenceEquals(_terms[k].Tensor, tensor)) return true;
        return false;
    }

    /// <summary>
    /// The distinct tensors in order of first appearance and, for scalar combinations, their merged coefficients; returns the number
    /// of distinct tensors.
    /// </summary>
    /// <exception cref="InvalidOperationException">The combination is empty or reads more than <see cref="MaxTensors"/> tensors.</exception>
    internal int Merge(Span<BatchTensor<T>?> tensors, Span<double> scalars)
    {
        if (Count == 0) throw new InvalidOperationException("The tensor combination is empty.");
        int n = 0;
        for (int k = 0; k < Count; k++)
        {
            ref readonly var term = ref _terms[k];
            int j = 0;
            while (j < n && !ReferenceEquals(tensors[j], term.Tensor)) j++;
            if (j == n)
            {
                if (n == MaxTensors)
                    throw new InvalidOperationException($"A fused pass reads at most {MaxTensors} distinct tensors; this combination reads more. Split it into two combinations.");
                tensors[n] = term.Tensor;
                scalars[n] = 0;
                n++;
            }
            scalars[j] += term.Scale;
        }
        return n;
    }

    /// <summary>Row <paramref name="row"/>'s merged coefficient of distinct tensor <paramref name="tensor"/>.</summary>
    internal double RowCoefficient(BatchTensor<T> tensor, int row)
    {
        double c = 0;
        for (int k = 0; k < Count; k++)
            if (ReferenceEquals(_terms[k].Tensor, tensor)) c += _terms[k].Coefficient(row);
        return c;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var parts = new string[Count];
        for (int k = 0; k < Count; k++)
        {
            ref readonly var t = ref _terms[k];
            parts[k] = $"{t.Scale}{(t.Rows0 is null ? "" : "·c[b]")}{(t.Rows1 is null ? "" : "·c[b]")}·{t.Tensor.ShapeString}";
        }
        return string.Join(" + ", parts);
    }
}
