using System.CommandLine;
using System.Text;

namespace GenerativePaths.Cli;

/// <summary>
/// <c>gpaths merge</c>: concatenates the <c>.npy</c> outputs of the shards of one job (<c>gpaths generate --shard</c>) along
/// the first axis, in the order given, into one file: what one run of the whole job writes.
/// </summary>
internal static class MergeCommand
{
    public static Command Create(TextWriter stdout)
    {
        var output = new Option<string>("--out") { Description = "The merged file.", Required = true };
        var inputs = new Argument<string[]>("shards") { Description = "The shard files in shard order (0, 1, ...): float32 or int64 .npy files with the same row shape.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("merge", "Concatenate the .npy files of a sharded job (generate --shard) in shard order.") { output, inputs };
        command.SetAction(parse => Run(parse.GetValue(inputs)!, parse.GetValue(output)!, stdout));
        return command;
    }

    public static int Run(string[] inputs, string output, TextWriter stdout)
    {
        Options.CheckWritable(output, "--out");
        var arrays = new List<NpyArray>();
        foreach (string path in inputs)
        {
            if (!File.Exists(path)) throw new FileNotFoundException("A shard is missing.", path);
            if (StoredType(path) is not ("<f4" or "<i8"))
                throw new CommandLineException($"'{path}' is not float32 or int64; merge concatenates what generate writes (samples float32, labels int64).");
            var a = NpyFile.Read(path);
            if (a.Shape.Length == 0) throw new CommandLineException($"'{path}' holds a scalar; shards have a first (row) axis.");
            if (arrays.Count > 0)
            {
                var first = arrays[0];
                if ((a.Floats is null) != (first.Floats is null))
                    throw new CommandLineException($"'{path}' holds {(a.Floats is null ? "int64" : "float32")} values, '{inputs[0]}' {(first.Floats is null ? "int64" : "float32")}.");
                if (!a.Shape.AsSpan(1).SequenceEqual(first.Shape.AsSpan(1)))
                    throw new CommandLineException($"'{path}' has rows of shape ({string.Join(", ", a.Shape[1..])}), '{inputs[0]}' ({string.Join(", ", first.Shape[1..])}).");
            }
            arrays.Add(a);
        }
        long rows = arrays.Sum(a => (long)a.Shape[0]);
        if (rows > int.MaxValue) throw new CommandLineException($"the merged array would have {rows} rows, more than a .npy file here can hold.");
        int[] shape = [(int)rows, .. arrays[0].Shape[1..]];
        if (arrays[0].Floats is not null) NpyFile.WriteFloat32(output, arrays.SelectMany(a => a.Floats!).ToArray(), shape);
        else NpyFile.WriteInt64(output, arrays.SelectMany(a => a.Longs!).ToArray(), shape);
        stdout.WriteLine($"merge: {inputs.Length} files, {rows} rows of ({string.Join(", ", shape[1..])}) -> {output}");
        return Cli.ExitOk;
    }

    /// <summary>The dtype a .npy header names (e.g. <c>&lt;f4</c>), or null when none is found in its first bytes.</summary>
    private static string? StoredType(string path)
    {
        using var f = File.OpenRead(path);
        var head = new byte[Math.Min(f.Length, 4096)];
        f.ReadExactly(head);
        string text = Encoding.Latin1.GetString(head);
        int at = text.IndexOf("'descr':", StringComparison.Ordinal);
        if (at < 0) return null;
        int open = text.IndexOf('\'', at + 8), close = open < 0 ? -1 : text.IndexOf('\'', open + 1);
        return open < 0 || close < 0 ? null : text[(open + 1)..close];
    }
}
