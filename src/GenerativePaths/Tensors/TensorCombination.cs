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
/// two per-row factors <c>f_j, g_j</c> (<see cref="SampleCoefficients"/>). Terms on the same tensor with the same factors are merged as
/// the combination is built, and all terms on one tensor before the pass (coefficients added in double precision), so a tensor is
/// read once however often it appears; at most six distinct tensors may remain. The merged coefficient is rounded to <typeparamref name="T"/> once, and the pass computes
/// <c>((c0 x0 + c1 x1) + c2 x2) + ...</c> in the order the tensors first appear, exactly as <see cref="TensorKernels.LinearCombination{T}(Span{T}, T, ReadOnlySpan{T}, T, ReadOnlySpan{T})"/>.</para>
/// <para>Building a combination allocates nothing (terms are held inline, at most <see cref="MaxTerms"/> distinct tensor and factor pairs). The destination may
/// be one of the tensors (in place); terms with a zero coefficient are kept, so a NaN in any tensor read reaches the result.</para>
/// <para>Thread safety: an immutable value; evaluating it while another thread writes one of its tensors is a race.</para>
/// </remarks>
public readonly struct TensorCombination<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Most terms a combination holds (terms on the same tensor with the same per-row factors are merged as the combination
    /// is built, so this counts distinct (tensor, factors) pairs).</summary>
    public const int MaxTerms = 8;

    /// <summary>Most distinct tensors one fused pass reads.</summary>
    public const int MaxTensors = 6;

    // Expect: the write version of the tensor that the term was made for (a sampler state's guard against reading a tensor
    // overwritten since, e.g. a denoised estimate whose input has been updated); -1 when unguarded.
    internal struct Term
    {
        public BatchTensor<T> Tensor;
        public SampleCoefficients? Rows0, Rows1;
        public double Scale;
        public long Expect;

        public readonly double Coefficient(int row) => Scale * (Rows0 is null ? 1.0 : Rows0[row]) * (Rows1 is null ? 1.0 : Rows1[row]);

        public readonly bool SameFactors(in Term other)
            => ReferenceEquals(Tensor, other.Tensor) && ReferenceEquals(Rows0, other.Rows0) && ReferenceEquals(Rows1, other.Rows1) && Expect == other.Expect;
    }

    [InlineArray(MaxTerms)]
    internal struct TermBuffer
    {
        private Term _element;
    }

    private readonly TermBuffer _terms;
    private readonly int _count;

    /// <summary>Number of terms (distinct tensor and per-row factor pairs).</summary>
    public int Count => _count;

    internal TensorCombination(BatchTensor<T> tensor, double scale, SampleCoefficients? rows, long expect)
    {
        _terms[0] = new Term { Tensor = tensor, Scale = scale, Rows0 = rows, Expect = expect };
        _count = 1;
    }

    /// <summary>The combination <c>c x</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="tensor"/> is null.</exception>
    public static TensorCombination<T> Of(double coefficient, BatchTensor<T> tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return new(tensor, coefficient, null, -1);
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
        return new(tensor, 1.0, coefficients, -1);
    }

    internal Term this[int k] => _terms[k];

    /// <summary>A guarded term: <c>c x</c> (<c>c[b] x[b]</c> with <paramref name="rows"/>) made for write version <paramref name="expect"/> of <paramref name="tensor"/>.</summary>
    internal static TensorCombination<T> Guarded(double coefficient, SampleCoefficients? rows, BatchTensor<T> tensor, long expect)
        => new(tensor, coefficient, rows, expect);

    /// <summary>Two guarded terms <c>c0 x0 + c1 x1</c> (one construction; the form of a denoised or noise estimate).</summary>
    internal static TensorCombination<T> Guarded(double c0, SampleCoefficients? rows0, BatchTensor<T> x0, long expect0,
        double c1, SampleCoefficients? rows1, BatchTensor<T> x1, long expect1)
    {
        var result = new TensorCombination<T>(x0, c0, rows0, expect0);
        ref var r = ref Unsafe.AsRef(in result);
        Buf(ref r)[1] = new Term { Tensor = x1, Scale = c1, Rows0 = rows1, Expect = expect1 };
        Unsafe.AsRef(in r._count) = 2;
        return result;
    }

    /// <summary>The tensor <paramref name="tensor"/> with coefficient 1.</summary>
    public static implicit operator TensorCombination<T>(BatchTensor<T> tensor) => Of(1.0, tensor);

    /// <summary>The sum of two combinations (terms on the same tensor with the same factors merged).</summary>
    /// <exception cref="InvalidOperationException">The sum would hold more than <see cref="MaxTerms"/> terms.</exception>
    public static TensorCombination<T> operator +(in TensorCombination<T> left, in TensorCombination<T> right) => Concat(left, right, 1.0);

    /// <summary>The difference of two combinations.</summary>
    /// <exception cref="InvalidOperationException">The difference would hold more than <see cref="MaxTerms"/> terms.</exception>
    public static TensorCombination<T> operator -(in TensorCombination<T> left, in TensorCombination<T> right) => Concat(left, right, -1.0);

    /// <summary>The combination with every coefficient negated.</summary>
    public static TensorCombination<T> operator -(in TensorCombination<T> value) => Scale(value, -1.0);

    /// <summary>The combination with every coefficient multiplied by <paramref name="factor"/>.</summary>
    public static TensorCombination<T> operator *(double factor, in TensorCombination<T> value) => Scale(value, factor);

    /// <summary>The combination with every coefficient multiplied by <paramref name="factor"/>.</summary>
    public static TensorCombination<T> operator *(in TensorCombination<T> value, double factor) => Scale(value, factor);

    /// <summary>The combination with every coefficient divided by <paramref name="divisor"/>.</summary>
    public static TensorCombination<T> operator /(in TensorCombination<T> value, double divisor) => Scale(value, 1.0 / divisor);

    /// <summary>The combination with row <c>b</c> of every term multiplied by <c>factors[b]</c>.</summary>
    /// <exception cref="InvalidOperationException">A term would get a third per-sample factor.</exception>
    /// <exception cref="ArgumentException">The factors do not have one entry per row.</exception>
    public static TensorCombination<T> operator *(SampleCoefficients factors, in TensorCombination<T> value)
    {
        ArgumentNullException.ThrowIfNull(factors);
        var result = value;
        ref var r = ref Unsafe.AsRef(in result);
        for (int k = 0; k < r._count; k++)
        {
            ref var t = ref Buf(ref r)[k];
            if (factors.Count != t.Tensor.BatchSize)
                throw new ArgumentException($"{factors.Count} per-sample coefficients for a tensor of {t.Tensor.BatchSize} rows.", nameof(factors));
            if (t.Rows0 is null) t.Rows0 = factors;
            else if (t.Rows1 is null) t.Rows1 = factors;
            else throw new InvalidOperationException($"A term of a tensor combination has at most two per-sample factors; the term on {t.Tensor.ShapeString} got a third. Multiply the factors into one SampleCoefficients first.");
        }
        return result;
    }

    private static ref TermBuffer Buf(ref TensorCombination<T> c) => ref Unsafe.AsRef(in c._terms);

    private static TensorCombination<T> Scale(in TensorCombination<T> value, double factor)
    {
        var result = value;
        ref var r = ref Unsafe.AsRef(in result);
        for (int k = 0; k < r._count; k++) Buf(ref r)[k].Scale *= factor;
        return result;
    }

    private static TensorCombination<T> Concat(in TensorCombination<T> left, in TensorCombination<T> right, double sign)
    {
        var result = left;
        ref var r = ref Unsafe.AsRef(in result);
        int n = r._count;
        for (int k = 0; k < right._count; k++)
        {
            ref readonly var t = ref right._terms[k];
            int j = 0;
            while (j < n && !Buf(ref r)[j].SameFactors(t)) j++;
            if (j < n) { Buf(ref r)[j].Scale += sign * t.Scale; continue; }
            if (n == MaxTerms)
                throw new InvalidOperationException($"A tensor combination holds at most {MaxTerms} terms (distinct tensor and per-row factor pairs); this one would hold more. Split the update into two combinations.");
            Buf(ref r)[n] = t;
            Buf(ref r)[n].Scale = sign * t.Scale;
            n++;
        }
        Unsafe.AsRef(in r._count) = n;
        return result;
    }

    /// <summary>True when some term has a per-sample factor.</summary>
    internal bool HasSampleFactors
    {
        get
        {
            for (int k = 0; k < _count; k++)
                if (_terms[k].Rows0 is not null) return true;
            return false;
        }
    }

    /// <summary>True when <paramref name="tensor"/> is one of the terms' tensors.</summary>
    public bool Reads(BatchTensor<T> tensor)
    {
        for (int k = 0; k < _count; k++)
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
        if (_count == 0) throw new InvalidOperationException("The tensor combination is empty.");
        int n = 0;
        for (int k = 0; k < _count; k++)
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
        for (int k = 0; k < _count; k++)
            if (ReferenceEquals(_terms[k].Tensor, tensor)) c += _terms[k].Coefficient(row);
        return c;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var parts = new string[_count];
        for (int k = 0; k < _count; k++)
        {
            ref readonly var t = ref _terms[k];
            parts[k] = $"{t.Scale}{(t.Rows0 is null ? "" : "·c[b]")}{(t.Rows1 is null ? "" : "·c[b]")}·{t.Tensor.ShapeString}";
        }
        return string.Join(" + ", parts);
    }
}
