using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

/// <summary>
/// The four-slot history ring of the higher-order multistep samplers (<see cref="LmsSampler"/>, <see cref="UniPcSampler"/>), kept in
/// the caller-owned <see cref="SamplerState{T}"/>: slot <c>k</c> is <c>History(0)</c>, <c>History(1)</c>, <c>Scratch(2)</c>,
/// <c>Scratch(3)</c> for <c>k = 0..3</c>, and step <c>i</c> writes slot <c>i mod 4</c>.
/// </summary>
/// <remarks>The ring is valid while the steps are taken one after another by the same sampler:
/// <see cref="SamplerState{T}.HistoryTag"/> names the sampler, the quantity and the last step that wrote it, so a state reset, a jump
/// or another sampler in between makes the next step start again from first order. The overload without a writer accepts only an
/// untagged history (one set through <see cref="SamplerState{T}.LastHistoryStep"/>).</remarks>
internal static class MultistepHistory
{
    /// <summary>Number of slots.</summary>
    public const int Capacity = 4;

    /// <summary>The slot that holds the entry of step <paramref name="step"/>.</summary>
    public static BatchTensor<T> Slot<T>(SamplerState<T> state, int step) where T : unmanaged, IFloatingPointIeee754<T>
        => (step & 3) switch
        {
            0 => state.History(0),
            1 => state.History(1),
            2 => state.Scratch(2),
            _ => state.Scratch(3),
        };

    /// <summary>How many consecutive earlier steps (at most <paramref name="wanted"/>) have their entries in the ring when step
    /// <paramref name="index"/> starts: the steps <c>index - 1, index - 2, ...</c> down to 0, provided the previous step wrote the ring.</summary>
    public static int Available<T>(SamplerState<T> state, int index, int wanted) where T : unmanaged, IFloatingPointIeee754<T>
        => index > 0 && state.LastHistoryStep == index - 1 && state.HistoryTag is { Writer: null } ? Math.Min(Math.Min(wanted, index), Capacity - 1) : 0;

    /// <summary>As <see cref="Available{T}(SamplerState{T}, int, int)"/>, counting the ring only when <paramref name="writer"/> wrote
    /// <paramref name="quantity"/> into it at step <c>index - 1</c>, and no further back than its own consecutive entries
    /// (<see cref="SamplerState{T}.HistoryEntries"/>).</summary>
    public static int Available<T>(SamplerState<T> state, int index, int wanted, string writer, string quantity) where T : unmanaged, IFloatingPointIeee754<T>
        => Math.Min(Math.Min(wanted, state.HistoryEntries(writer, quantity, index)), Capacity - 1);
}
