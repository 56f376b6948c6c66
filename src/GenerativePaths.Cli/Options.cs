using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace GenerativePaths.Cli;

/// <summary>Option builders with checked parsing: every bad value is a parse error with a one-line message naming the option.</summary>
internal static class Options
{
    public static Option<int> Int(string name, string description, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        var o = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        o.CustomParser = r => ParseInt(r, name, defaultValue, min, max);
        return o;
    }

    public static Option<int?> OptionalInt(string name, string description, int min = int.MinValue, int max = int.MaxValue)
    {
        var o = new Option<int?>(name) { Description = description };
        o.CustomParser = r => r.Tokens.Count == 0 ? null : ParseInt(r, name, 0, min, max);
        return o;
    }

    private static int ParseInt(ArgumentResult r, string name, int fallback, int min, int max)
    {
        if (r.Tokens.Count == 0) return fallback;
        string s = r.Tokens[^1].Value;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
        {
            r.AddError($"{name} needs an integer, not '{s}'.");
            return fallback;
        }
        if (v < min || v > max)
        {
            r.AddError(max == int.MaxValue ? $"{name} must be at least {min} (got {v})." : $"{name} must lie in [{min}, {max}] (got {v}).");
            return fallback;
        }
        return v;
    }

    public static Option<ulong> Seed(string name, string description, ulong defaultValue)
    {
        var o = new Option<ulong>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        o.CustomParser = r =>
        {
            if (r.Tokens.Count == 0) return defaultValue;
            string s = r.Tokens[^1].Value;
            if (ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v)) return v;
            r.AddError($"{name} needs a non-negative integer, not '{s}'.");
            return defaultValue;
        };
        return o;
    }

    public static Option<double> Double(string name, string description, double defaultValue, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var o = new Option<double>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        o.CustomParser = r =>
        {
            if (r.Tokens.Count == 0) return defaultValue;
            string s = r.Tokens[^1].Value;
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            {
                r.AddError($"{name} needs a finite number, not '{s}'.");
                return defaultValue;
            }
            if (v < min || v > max)
            {
                r.AddError(double.IsPositiveInfinity(max) ? $"{name} must be at least {min.ToString(CultureInfo.InvariantCulture)} (got {s})." : $"{name} must lie in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}] (got {s}).");
                return defaultValue;
            }
            return v;
        };
        return o;
    }

    /// <summary>A comma-separated list of integers, each at least <paramref name="min"/>.</summary>
    public static Option<int[]> IntList(string name, string description, int[] defaultValue, int min = 1)
    {
        var o = new Option<int[]>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        o.CustomParser = r =>
        {
            if (r.Tokens.Count == 0) return defaultValue;
            string s = r.Tokens[^1].Value;
            var parts = s.Split(',', StringSplitOptions.TrimEntries);
            var values = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < min)
                {
                    r.AddError($"{name} needs a comma-separated list of integers of at least {min}, not '{s}'.");
                    return defaultValue;
                }
            }
            return values;
        };
        return o;
    }

    /// <summary>A comma-separated list of names (no empty entries).</summary>
    public static Option<string[]> NameList(string name, string description, string[] defaultValue)
    {
        var o = new Option<string[]>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        o.CustomParser = r =>
        {
            if (r.Tokens.Count == 0) return defaultValue;
            string s = r.Tokens[^1].Value;
            var parts = s.Split(',', StringSplitOptions.TrimEntries);
            if (parts.Any(p => p.Length == 0))
            {
                r.AddError($"{name} needs a comma-separated list of names, not '{s}'.");
                return defaultValue;
            }
            return parts;
        };
        return o;
    }

    public static Option<string?> Path(string name, string description, bool required = false)
        => new(name) { Description = description, Required = required };

    /// <summary>
    /// Parses a label list: <c>a-b</c> (inclusive, <c>a &lt;= b</c>) or <c>a,b,c</c> or a single label; labels are non-negative.
    /// </summary>
    /// <exception cref="CommandLineException">A malformed list, a descending range or a negative label.</exception>
    public static int[] ParseLabels(string text)
    {
        text = text.Trim();
        int dash = text.IndexOf('-', 1 < text.Length ? 1 : 0);
        if (text.Length > 0 && dash > 0 && !text.Contains(','))
        {
            if (int.TryParse(text[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int a)
                && int.TryParse(text[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int b))
            {
                if (b < a) throw new CommandLineException($"--labels range '{text}' is descending; write it as {b}-{a}.");
                return Enumerable.Range(a, b - a + 1).ToArray();
            }
            throw new CommandLineException($"--labels needs a range a-b or a list a,b,c of non-negative integers, not '{text}'.");
        }
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var labels = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out labels[i]))
                throw new CommandLineException($"--labels needs a range a-b or a list a,b,c of non-negative integers, not '{text}'.");
        return labels;
    }

    /// <summary>Parses <c>--shard INDEX/COUNT</c>: COUNT at least 1, INDEX in <c>[0, COUNT)</c>.</summary>
    /// <exception cref="CommandLineException">The text is not of that form.</exception>
    public static (int Index, int Count) ParseShard(string text)
    {
        int slash = text.IndexOf('/');
        if (slash > 0
            && int.TryParse(text.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            if (count < 1) throw new CommandLineException($"--shard '{text}': the shard count must be at least 1.");
            if (index >= count) throw new CommandLineException($"--shard '{text}': the index must lie in [0, {count - 1}] (indices start at 0).");
            return (index, count);
        }
        throw new CommandLineException($"--shard needs INDEX/COUNT with non-negative integers, e.g. 0/4, not '{text}'.");
    }

    /// <summary>The samples <c>[first, first + count)</c> of shard <paramref name="index"/> of <paramref name="shards"/> in a job of <paramref name="total"/>: <c>first = floor(index total / shards)</c>.</summary>
    /// <exception cref="CommandLineException">More shards than samples (some shard would be empty; every shard of such a job fails alike).</exception>
    public static (int First, int Count) ShardRange(int index, int shards, int total)
    {
        if (shards > total)
            throw new CommandLineException($"--shard {index}/{shards}: a job of {total} samples cannot be split into {shards} shards; use at most {total} shards.");
        int first = (int)((long)index * total / shards), next = (int)((long)(index + 1) * total / shards);
        return (first, next - first);
    }

    /// <summary>Checks up front that a file can be created at <paramref name="path"/> (its folder exists and is writable).</summary>
    /// <exception cref="CommandLineException">The folder does not exist, or the path is a folder.</exception>
    public static void CheckWritable(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CommandLineException($"{option} needs a file name.");
        if (Directory.Exists(path)) throw new CommandLineException($"{option} '{path}' is a folder, not a file.");
        string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir)) throw new CommandLineException($"{option} '{path}': the folder '{dir}' does not exist.");
    }
}
