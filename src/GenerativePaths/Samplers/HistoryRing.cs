using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

/// <summary>
/// A multistep sampler's history of one quantity (e.g. the denoised estimates of the last steps), kept in the caller-owned
/// <see cref="SamplerState{T}"/> and tagged by the sampler that writes it: <see cref="SamplerState{T}.History(string, string, int)"/>
/// hands each (writer, quantity) its own ring of <see cref="Capacity"/> tensors, entry of step <c>i</c> in slot <c>i mod Capacity</c>.
/// </summary>
/// <remarks>
/// <para>The ring counts which steps it holds: <see cref="Available"/> is the number of consecutive entries for the steps just before
/// the current one, so a reset state, a jump in the step index, or another sampler's steps in between (which write their own rings)
/// make the next step start again from first order, instead of mixing entries of another sampler, quantity or step into its formula.</para>
/// <para>Use: at step <c>i</c>, read <c>q = Available(i)</c>, write the entry of step <c>i</c> into <c>this[i]</c> and call
/// <see cref="Record"/>; entries <c>i - 1, ..., i - q</c> (with <c>q &lt; Capacity</c> after the write) are then in the ring.</para>
/// <para>Thread safety: not thread-safe; it belongs to one run's state.</para>
/// </remarks>
public sealed class HistoryRing<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly SamplerState<T> _state;
    private readonly BatchTensor<T>?[] _slots;

    internal HistoryRing(SamplerState<T> state, string writer, string quantity, int capacity)
    {
        _state = state;
        Writer = writer;
        Quantity = quantity;
        Capacity = capacity;
        _slots = new BatchTensor<T>?[capacity];
    }

    /// <summary>The writing sampler's name.</summary>
    public string Writer { get; }

    /// <summary>What the entries hold.</summary>
    public string Quantity { get; }

    /// <summary>Number of slots.</summary>
    public int Capacity { get; }

    /// <summary>The last step recorded, or -1.</summary>
    public int LastStep { get; private set; } = -1;

    /// <summary>How many consecutive steps ending at <see cref="LastStep"/> were recorded.</summary>
    public int Entries { get; private set; }

    /// <summary>The slot of step <paramref name="step"/>'s entry (allocated on first use).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative.</exception>
    public BatchTensor<T> this[int step]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(step);
            return _slots[step % Capacity] ??= _state.NewBuffer();
        }
    }

    /// <summary>Number of consecutive entries, for steps <c>index - 1, index - 2, ...</c>, that the ring holds (at most
    /// <see cref="Capacity"/>; 0 unless the ring's last entry is for step <c>index - 1</c>).</summary>
    public int Available(int index) => LastStep == index - 1 && index > 0 ? Math.Min(Entries, Capacity) : 0;

    /// <summary>Records that the entry of step <paramref name="step"/> was written into <c>this[step]</c>.</summary>
    /// <remarks>The count grows by one when the previous record was for <c>step - 1</c>, stays when it was for <paramref name="step"/>
    /// itself (an entry rewritten), and restarts at 1 otherwise.</remarks>
    public void Record(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (step != LastStep) Entries = LastStep == step - 1 ? Entries + 1 : 1;
        LastStep = step;
        _state.NoteHistory(Writer, Quantity, step, Entries);
    }

    /// <summary>Forgets every entry.</summary>
    public void Clear()
    {
        LastStep = -1;
        Entries = 0;
    }

    internal void CopyFrom(HistoryRing<T> other)
    {
        for (int k = 0; k < Capacity; k++)
            if (other._slots[k] is { } s) s.CopyTo(_slots[k] ??= _state.NewBuffer());
        LastStep = other.LastStep;
        Entries = other.Entries;
    }

    internal void BumpSlots()
    {
        foreach (var s in _slots)
            if (s is not null) SamplerState<T>.Bump(s);
    }
}
