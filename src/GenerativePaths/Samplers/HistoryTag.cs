namespace GenerativePaths.Samplers;

/// <summary>
/// The label of a <see cref="SamplerState{T}"/>'s multistep history: the sampler that wrote it (its <see cref="Sampler.Name"/>), the
/// quantity it holds (e.g. <c>denoised</c>, <c>slope</c>) and the step that wrote it last. A multistep sampler uses the history only
/// when the label names itself, its quantity and the previous step, so switching samplers part-way through a run (or jumping steps)
/// restarts the second sampler at first order instead of mixing another sampler's entries into its formula.
/// </summary>
/// <param name="Writer">The writing sampler's name; null when the step was set directly through <see cref="SamplerState{T}.LastHistoryStep"/>.</param>
/// <param name="Quantity">What the entries hold; null when unknown.</param>
/// <param name="Step">The step index whose entry was written last.</param>
/// <param name="Entries">How many consecutive steps ending at <paramref name="Step"/> this writer wrote (the entries of steps
/// <c>Step, Step - 1, ..., Step - Entries + 1</c> are its own); a sampler never reads further back than that.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public readonly record struct HistoryTag(string? Writer, string? Quantity, int Step, int Entries);
