using Microsoft.ML.OnnxRuntime;

namespace GenerativePaths.OnnxRuntime;

/// <summary>How an ONNX Runtime session for a model is created and how batches are sent to it.</summary>
/// <remarks>
/// <para>A batch of <c>B</c> rows is sent in <c>ceil(B / MaxBatch)</c> calls of at most <see cref="MaxBatch"/> rows (the
/// conditions and times sliced with the rows); the results equal one call's because rows are independent.</para>
/// <para>Thread safety: an immutable record; safe to share. The <see cref="SessionOptions"/> object it may hold is the caller's.</para>
/// </remarks>
public sealed record OnnxModelOptions
{
    /// <summary>Threads ONNX Runtime uses inside one operator (<c>intra_op_num_threads</c>); 0 (the default) lets ONNX Runtime choose.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>The largest number of rows sent to the network in one call, or null (the default) for no limit.</summary>
    public int? MaxBatch { get; init; }

    /// <summary>Append the CUDA execution provider (needs the <c>Microsoft.ML.OnnxRuntime.Gpu</c> package in place of
    /// <c>Microsoft.ML.OnnxRuntime</c>, and a CUDA device). Off by default; never required.</summary>
    public bool UseCuda { get; init; }

    /// <summary>The CUDA device used with <see cref="UseCuda"/> (default 0).</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>
    /// Session options to use as given (escape hatch for providers and settings not surfaced here). When set,
    /// <see cref="IntraOpThreads"/>, <see cref="UseCuda"/> and <see cref="CudaDeviceId"/> are ignored, and the caller keeps ownership
    /// (the adapter does not dispose it).
    /// </summary>
    public SessionOptions? SessionOptions { get; init; }
}
