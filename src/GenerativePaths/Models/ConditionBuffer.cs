namespace GenerativePaths.Models;

/// <summary>
/// Reusable storage for assembling a <see cref="ModelCondition"/> from the rows of others: the tool with which guidance,
/// batch splitting and parallel-in-time windows replicate and reorder condition rows together with sample rows.
/// </summary>
/// <remarks>
/// <para>Assemble with <see cref="Begin"/>, then <see cref="CopyRows"/> and <see cref="FillRows"/>, and read the result from
/// <see cref="Condition"/>; or use the one-call forms <see cref="Concat"/>, <see cref="Repeat"/> and <see cref="Gather"/>. The result
/// views this buffer's storage: it stays valid until the next <see cref="Begin"/> (or one-call form). Storage grows when needed and is
/// otherwise reused, so a steady sequence of same-sized assemblies allocates nothing.</para>
/// <para>Thread safety: not thread-safe; one buffer per thread or per model wrapper.</para>
/// </remarks>
public sealed class ConditionBuffer
{
    private int[] _classes = [];
    private float[] _values = [];
    private int[] _rowShape = [];
    private ConditionKind _kind;
    private int _rows, _rowLength;

    /// <summary>The assembled condition (a view of this buffer; valid until the next assembly).</summary>
    public ModelCondition Condition => _kind switch
    {
        ConditionKind.None => ModelCondition.None,
        ConditionKind.Class => ModelCondition.ClassesUnchecked(_classes.AsMemory(0, _rows)),
        _ => ModelCondition.TensorUnchecked(_values.AsMemory(0, _rows * _rowLength), _rows, _rowShape, _rowLength),
    };

    /// <summary>Starts a condition of <paramref name="rows"/> rows of the kind (and tensor row shape) of <paramref name="like"/>; the rows are then filled with <see cref="CopyRows"/> and <see cref="FillRows"/>.</summary>
    public void Begin(in ModelCondition like, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        _kind = like.Kind;
        _rows = rows;
        if (_kind == ConditionKind.Class && _classes.Length < rows) _classes = new int[rows];
        if (_kind == ConditionKind.Tensor)
        {
            if (!like.RowShape.SequenceEqual(_rowShape)) _rowShape = like.RowShape.ToArray();
            _rowLength = like.RowLength;
            long need = (long)rows * _rowLength;
            if (need > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"{rows} condition rows of {_rowLength} values do not fit one array.");
            if (_values.Length < need) _values = new float[need];
        }
    }

    /// <summary>Copies rows <c>[sourceRow, sourceRow + count)</c> of <paramref name="source"/> to rows <c>[destinationRow, ...)</c>.</summary>
    /// <exception cref="ArgumentException">The source's kind or tensor row shape differs from the condition being assembled.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A row range lies outside its condition.</exception>
    public void CopyRows(int destinationRow, in ModelCondition source, int sourceRow, int count)
    {
        CheckSource(source);
        if (_kind == ConditionKind.None) return;
        CheckRange(destinationRow, count, _rows, "destination");
        CheckRange(sourceRow, count, source.RowCount, "source");
        if (_kind == ConditionKind.Class) source.Classes.Slice(sourceRow, count).CopyTo(_classes.AsSpan(destinationRow));
        else source.Values.Slice(sourceRow * _rowLength, count * _rowLength).CopyTo(_values.AsSpan(destinationRow * _rowLength));
    }

    /// <summary>Writes row <paramref name="sourceRow"/> of <paramref name="source"/> into each of rows <c>[destinationRow, destinationRow + count)</c>.</summary>
    /// <exception cref="ArgumentException">The source's kind or tensor row shape differs from the condition being assembled.</exception>
    public void FillRows(int destinationRow, int count, in ModelCondition source, int sourceRow)
    {
        CheckSource(source);
        if (_kind == ConditionKind.None) return;
        CheckRange(destinationRow, count, _rows, "destination");
        CheckRange(sourceRow, 1, source.RowCount, "source");
        if (_kind == ConditionKind.Class) _classes.AsSpan(destinationRow, count).Fill(source.Classes[sourceRow]);
        else
        {
            var row = source.TensorRow(sourceRow);
            for (int r = 0; r < count; r++) row.CopyTo(_values.AsSpan((destinationRow + r) * _rowLength));
        }
    }

    /// <summary>
    /// The rows of <paramref name="first"/> followed by those of <paramref name="second"/>; a one-row side is broadcast to
    /// <paramref name="rowsEach"/> rows (e.g. the unconditional row of classifier-free guidance). Both must be of one kind.
    /// </summary>
    public ModelCondition Concat(in ModelCondition first, in ModelCondition second, int rowsEach)
    {
        if (first.Kind != second.Kind)
            throw new ArgumentException($"Cannot join a {first.Kind} condition with a {second.Kind} condition.", nameof(second));
        Begin(first, 2 * rowsEach);
        Place(0, first, rowsEach);
        Place(rowsEach, second, rowsEach);
        return Condition;
    }

    /// <summary>The rows of <paramref name="source"/> repeated <paramref name="times"/> times: row <c>r</c> is source row <c>r mod source.RowCount</c>.</summary>
    public ModelCondition Repeat(in ModelCondition source, int times)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(times);
        Begin(source, source.RowCount * times);
        for (int k = 0; k < times; k++) CopyRows(k * source.RowCount, source, 0, source.RowCount);
        return Condition;
    }

    /// <summary>Row <c>r</c> of the result is row <c>sourceRows[r]</c> of <paramref name="source"/> (any order, repeats allowed).</summary>
    public ModelCondition Gather(in ModelCondition source, ReadOnlySpan<int> sourceRows)
    {
        Begin(source, sourceRows.Length);
        for (int r = 0; r < sourceRows.Length; r++) FillRows(r, 1, source, sourceRows[r]);
        return Condition;
    }

    private void Place(int destinationRow, in ModelCondition source, int rows)
    {
        if (source.Kind == ConditionKind.None) return;
        if (source.RowCount == rows) CopyRows(destinationRow, source, 0, rows);
        else if (source.RowCount == 1) FillRows(destinationRow, rows, source, 0);
        else throw new ArgumentException($"A condition of {source.RowCount} rows does not fit {rows} rows (give {rows} rows or one to broadcast).", nameof(source));
    }

    private void CheckSource(in ModelCondition source)
    {
        if (source.Kind != _kind)
            throw new ArgumentException($"A {source.Kind} condition cannot fill a {_kind} condition.", nameof(source));
        if (_kind == ConditionKind.Tensor && !source.RowShape.SequenceEqual(_rowShape))
            throw new ArgumentException($"Condition rows of shape [{string.Join(", ", source.RowShape.ToArray())}] do not match [{string.Join(", ", _rowShape)}].", nameof(source));
    }

    private static void CheckRange(int start, int count, int rows, string what)
    {
        if (start < 0 || count < 0 || start > rows - count)
            throw new ArgumentOutOfRangeException(nameof(count), $"The {what} rows [{start}, {start + count}) lie outside {rows} rows.");
    }
}
