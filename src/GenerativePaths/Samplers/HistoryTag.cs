namespace GenerativePaths.Samplers;

/// <summary>
/// The label of the last multistep-history entry recorded in a <see cref="SamplerState{T}"/> (<see cref="SamplerState{T}.HistoryTag"/>):
/// the sampler that wrote it (its <see cref="Sampler.Name"/>), the quantity (e.g. <c>denoised</c>, <c>slope</c>), the step and the
/// writer's consecutive entries. Each (writer, quantity) keeps its own <see cref="HistoryRing{T}"/>, so switching samplers part-way
/// through a run (or jumping steps) restarts the second sampler at first order instead of mixing another sampler's entries into its
/// formula; the tag tells a caller (a callback, a test) what was written last.
/// </summary>
/// <param name="Writer">The writing sampler's name (<see cref="HistoryRing{T}.Writer"/>).</param>
/// <param name="Quantity">What the entries hold (<see cref="HistoryRing{T}.Quantity"/>).</param>
/// <param name="Step">The step index whose entry was written last.</param>
/// <param name="Entries">How many consecutive steps ending at <paramref name="Step"/> this writer wrote (the entries of steps
/// <c>Step, Step - 1, ..., Step - Entries + 1</c> are its own); a sampler never reads further back than that.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public readonly record struct HistoryTag(string? Writer, string? Quantity, int Step, int Entries);
