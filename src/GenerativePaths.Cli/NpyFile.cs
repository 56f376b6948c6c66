using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace GenerativePaths.Cli;

/// <summary>An array read from a NumPy <c>.npy</c> file: its shape and its values in C order.</summary>
internal sealed record NpyArray(int[] Shape, float[]? Floats, long[]? Longs)
{
    /// <summary>The number of rows (the first dimension; 1 for a scalar).</summary>
    public int Rows => Shape.Length == 0 ? 1 : Shape[0];

    /// <summary>The values per row (the product of the other dimensions).</summary>
    public int RowLength => Shape.Length <= 1 ? 1 : Shape.Skip(1).Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// NumPy's <c>.npy</c> format 1.0 (little-endian, C order): writes float32 and int64 arrays with the header NumPy itself
/// writes, and reads float32, float64 (as float32), int64 and int32 (as int64) arrays.
/// </summary>
/// <remarks>The header is the magic <c>\x93NUMPY</c>, version 1.0, a little-endian uint16 length and the dictionary
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (n, 64), }</c> padded with spaces and a newline so that the data starts
/// at a multiple of 64 bytes.</remarks>
internal static partial class NpyFile
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The header dictionary as NumPy writes it, padded with spaces to a total (with the 10-byte preamble) multiple of 64, ending in a newline.</summary>
    public static string Header(string descr, IReadOnlyList<int> shape)
    {
        string shapeText = shape.Count switch
        {
            0 => "()",
            1 => $"({shape[0]},)",
            _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
        };
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        return dict + new string(' ', padded - total) + "\n";
    }

    public static void WriteFloat32(string path, ReadOnlySpan<float> values, IReadOnlyList<int> shape)
    {
        CheckCount(values.Length, shape);
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        Write(path, "<f4", shape, bytes);
    }

    public static void WriteInt64(string path, ReadOnlySpan<long> values, IReadOnlyList<int> shape)
    {
        CheckCount(values.Length, shape);
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8 * i), values[i]);
        Write(path, "<i8", shape, bytes);
    }

    private static void CheckCount(int count, IReadOnlyList<int> shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        if (n != count) throw new ArgumentException($"The shape ({string.Join(", ", shape)}) holds {n} values, not {count}.");
    }

    private static void Write(string path, string descr, IReadOnlyList<int> shape, byte[] data)
    {
        string header = Header(descr, shape);
        using var f = File.Create(path);
        f.Write(Magic);
        f.Write([1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        f.Write(len);
        f.Write(Encoding.ASCII.GetBytes(header));
        f.Write(data);
    }

    /// <exception cref="InvalidDataException">Not a .npy file, an unsupported version, dtype or order, or a truncated file.</exception>
    public static NpyArray Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic)) throw new InvalidDataException($"'{path}' is not a NumPy .npy file.");
        int major = bytes[6];
        int headerLength, offset;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); offset = 10; }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new InvalidDataException($"'{path}' is truncated.");
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8))); offset = 12;
        }
        else throw new InvalidDataException($"'{path}' is .npy version {major}, which is not supported.");
        if (offset + headerLength > bytes.Length) throw new InvalidDataException($"'{path}' is truncated in its header.");
        string header = Encoding.Latin1.GetString(bytes, offset, headerLength);
        var descr = DescrRegex().Match(header);
        var order = OrderRegex().Match(header);
        var shapeMatch = ShapeRegex().Match(header);
        if (!descr.Success || !order.Success || !shapeMatch.Success) throw new InvalidDataException($"'{path}' has a malformed .npy header.");
        if (order.Groups[1].Value != "False") throw new InvalidDataException($"'{path}' is in Fortran order, which is not supported.");
        int[] shape = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var data = bytes.AsSpan(offset + headerLength);
        string d = descr.Groups[1].Value;
        int size = d switch { "<f4" or "<i4" => 4, "<f8" or "<i8" => 8, _ => throw new InvalidDataException($"'{path}' holds dtype '{d}'; float32, float64, int32 and int64 (little-endian) are supported.") };
        if (data.Length < count * size) throw new InvalidDataException($"'{path}' is truncated: {count} values of {size} bytes need {count * size} bytes, found {data.Length}.");
        switch (d)
        {
            case "<f4":
            {
                var v = new float[count];
                for (long i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(int)(4 * i)..]);
                return new NpyArray(shape, v, null);
            }
            case "<f8":
            {
                var v = new float[count];
                for (long i = 0; i < count; i++) v[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(data[(int)(8 * i)..]);
                return new NpyArray(shape, v, null);
            }
            case "<i4":
            {
                var v = new long[count];
                for (long i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadInt32LittleEndian(data[(int)(4 * i)..]);
                return new NpyArray(shape, null, v);
            }
            default:
            {
                var v = new long[count];
                for (long i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadInt64LittleEndian(data[(int)(8 * i)..]);
                return new NpyArray(shape, null, v);
            }
        }
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex OrderRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
