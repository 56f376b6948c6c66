namespace GenerativePaths.Models;

/// <summary>What a <see cref="ModelCondition"/> carries.</summary>
public enum ConditionKind
{
    /// <summary>No condition: an unconditional model, or a conditional model asked for its unconditional prediction.</summary>
    None,

    /// <summary>One integer class label per row.</summary>
    Class,

    /// <summary>One conditioning tensor per row (e.g. a text embedding of shape <c>[tokens, dim]</c>).</summary>
    Tensor,
}

/// <summary>
/// The per-row condition of a batched model call: nothing, one class label per row, or one conditioning tensor per row.
/// Row <c>b</c> of the condition belongs to row <c>b</c> of the sample batch, so every operation that replicates or reorders
/// sample rows (classifier-free guidance, batch splitting, parallel-in-time windows) does the same to the condition rows
/// (see <see cref="ConditionBuffer"/>).
/// </summary>
/// <remarks>
/// <para>A condition is a view: it holds the caller's memory without copying, and the caller must keep that memory unchanged
/// while a call that received it runs. Class labels are stored as <see cref="int"/>; tensor conditions as <see cref="float"/>
/// row-major <c>[rows, ...RowShape]</c>.</para>
/// <para>Thread safety: an immutable value; safe to share when the memory it views is not written.</para>
/// </remarks>
public readonly struct ModelCondition
{
    private readonly ReadOnlyMemory<int> _classes;
    private readonly ReadOnlyMemory<float> _values;
    private readonly int[]? _rowShape;

    private ModelCondition(ConditionKind kind, int rows, ReadOnlyMemory<int> classes, ReadOnlyMemory<float> values, int[]? rowShape, int rowLength)
    {
        Kind = kind; RowCount = rows; _classes = classes; _values = values; _rowShape = rowShape; RowLength = rowLength;
    }

    /// <summary>No condition (the default value).</summary>
    public static ModelCondition None => default;

    /// <summary>One class label per row, viewing <paramref name="labels"/> without a copy.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A label is negative (the message names the row).</exception>
    public static ModelCondition FromClasses(ReadOnlyMemory<int> labels)
    {
        var span = labels.Span;
        for (int i = 0; i < span.Length; i++)
            if (span[i] < 0) throw new ArgumentOutOfRangeException(nameof(labels), span[i], $"Class label of row {i} is negative.");
        return new ModelCondition(ConditionKind.Class, labels.Length, labels, default, null, 0);
    }

    /// <summary>A class condition over storage the library owns (labels already checked): no validation pass, no allocation.</summary>
    internal static ModelCondition ClassesUnchecked(ReadOnlyMemory<int> labels) => new(ConditionKind.Class, labels.Length, labels, default, null, 0);

    /// <summary>A tensor condition over storage the library owns, sharing <paramref name="rowShape"/> (never written): no allocation.</summary>
    internal static ModelCondition TensorUnchecked(ReadOnlyMemory<float> values, int rows, int[] rowShape, int rowLength) => new(ConditionKind.Tensor, rows, default, values, rowShape, rowLength);

    /// <summary>One class label per row (the array is viewed, not copied).</summary>
    public static ModelCondition FromClasses(params int[] labels) => FromClasses((ReadOnlyMemory<int>)(labels ?? throw new ArgumentNullException(nameof(labels))));

    /// <summary>
    /// One conditioning tensor per row: <paramref name="values"/> holds <paramref name="rows"/> tensors of shape
    /// <paramref name="rowShape"/> one after another (row-major), viewed without a copy.
    /// </summary>
    /// <exception cref="ArgumentException">The length is not <c>rows * prod(rowShape)</c>, or a dimension is negative.</exception>
    public static ModelCondition FromTensor(ReadOnlyMemory<float> values, int rows, params int[] rowShape)
    {
        ArgumentNullException.ThrowIfNull(rowShape);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        long rowLength = 1;
        foreach (int d in rowShape)
        {
            if (d < 0) throw new ArgumentException($"Condition row shape [{string.Join(", ", rowShape)}] has a negative dimension.", nameof(rowShape));
            rowLength *= d;
        }
        if (rowLength > int.MaxValue || values.Length != rows * rowLength)
            throw new ArgumentException($"A condition of {rows} rows of shape [{string.Join(", ", rowShape)}] needs {rows * rowLength} values; got {values.Length}.", nameof(values));
        return new ModelCondition(ConditionKind.Tensor, rows, default, values, (int[])rowShape.Clone(), (int)rowLength);
    }

    /// <summary>What the condition carries.</summary>
    public ConditionKind Kind { get; }

    /// <summary>Number of rows (0 for <see cref="ConditionKind.None"/>).</summary>
    public int RowCount { get; }

    /// <summary>Elements of one tensor row (0 unless <see cref="ConditionKind.Tensor"/>).</summary>
    public int RowLength { get; }

    /// <summary>The shape of one tensor row (empty unless <see cref="ConditionKind.Tensor"/>).</summary>
    public ReadOnlySpan<int> RowShape => _rowShape;

    /// <summary>The class labels, one per row (empty unless <see cref="ConditionKind.Class"/>).</summary>
    public ReadOnlySpan<int> Classes => _classes.Span;

    /// <summary>All tensor values, row-major (empty unless <see cref="ConditionKind.Tensor"/>).</summary>
    public ReadOnlySpan<float> Values => _values.Span;

    /// <summary>The tensor values as memory (empty unless <see cref="ConditionKind.Tensor"/>).</summary>
    public ReadOnlyMemory<float> ValuesMemory => _values;

    /// <summary>The tensor of row <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> TensorRow(int row)
    {
        if (Kind != ConditionKind.Tensor) throw new InvalidOperationException($"A {Kind} condition has no tensor rows.");
        if ((uint)row >= (uint)RowCount) throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must lie in [0, {RowCount}).");
        return _values.Span.Slice(row * RowLength, RowLength);
    }

    /// <summary>Rows <c>[start, start + count)</c>, without a copy; <see cref="None"/> stays <see cref="None"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range lies outside the rows.</exception>
    public ModelCondition Slice(int start, int count)
    {
        if (Kind == ConditionKind.None) return this;
        if ((uint)start > (uint)RowCount || (uint)count > (uint)(RowCount - start))
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows [{start}, {start + count}) are outside a condition of {RowCount} rows.");
        return Kind == ConditionKind.Class
            ? new ModelCondition(Kind, count, _classes.Slice(start, count), default, null, 0)
            : new ModelCondition(Kind, count, default, _values.Slice(start * RowLength, count * RowLength), _rowShape, RowLength);
    }

    /// <summary>Checks that the condition fits a batch of <paramref name="batchSize"/> rows (<see cref="None"/> fits any batch).</summary>
    /// <exception cref="ArgumentException">The row count differs; the message names <paramref name="paramName"/>.</exception>
    public void EnsureRows(int batchSize, string paramName = "condition")
    {
        if (Kind != ConditionKind.None && RowCount != batchSize)
            throw new ArgumentException($"The {Kind.ToString().ToLowerInvariant()} condition has {RowCount} rows for a batch of {batchSize}.", paramName);
    }

    /// <summary>A short description, e.g. <c>class[4]</c> or <c>tensor[4, 77, 768]</c>.</summary>
    public override string ToString() => Kind switch
    {
        ConditionKind.None => "none",
        ConditionKind.Class => $"class[{RowCount}]",
        _ => $"tensor[{RowCount}{string.Concat((_rowShape ?? []).Select(d => $", {d}"))}]",
    };
}
