using System.Numerics;

namespace GenerativePaths.Tensors;

/// <summary>Argument checks shared by the tensor kernels; every message names the parameter and both shapes.</summary>
internal static class ShapeCheck
{
    public static void SameShape<T, TOther>(BatchTensor<T> expected, BatchTensor<TOther> actual, string paramName)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOther : unmanaged, IFloatingPointIeee754<TOther>
    {
        if (!expected.HasSameShape(actual))
            throw new ArgumentException($"Shape mismatch: '{paramName}' has shape {actual.ShapeString}, expected {expected.ShapeString}.", paramName);
    }

    public static void SameLength<T>(ReadOnlySpan<T> input, int expectedLength, string paramName)
    {
        if (input.Length != expectedLength)
            throw new ArgumentException($"Length mismatch: '{paramName}' has length {input.Length}, expected {expectedLength}.", paramName);
    }

    public static void Destination<T>(Span<T> destination, int expectedLength, string paramName = "destination")
    {
        if (destination.Length < expectedLength)
            throw new ArgumentException($"Destination too short: '{paramName}' has length {destination.Length}, needs {expectedLength}.", paramName);
    }

    /// <summary>Throws when <paramref name="input"/> and <paramref name="destination"/> overlap without being the same range.</summary>
    public static void NoPartialOverlap<T>(ReadOnlySpan<T> input, ReadOnlySpan<T> destination, string paramName)
    {
        if (input.Overlaps(destination, out int offset) && !(offset == 0 && input.Length == destination.Length))
            throw new ArgumentException($"'{paramName}' (length {input.Length}) partly overlaps the destination (length {destination.Length}) at element offset {offset}; inputs must be either identical to the destination or disjoint from it.", paramName);
    }
}
