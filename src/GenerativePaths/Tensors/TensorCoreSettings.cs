using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GenerativePaths.Tensors;

/// <summary>
/// Settings of the tensor core shared by <see cref="TensorKernels"/> and <see cref="TensorReductions"/>:
/// when a call is large enough to be split across cores, and onto how many.
/// </summary>
/// <remarks>
/// <para>Splitting never changes a result: element-wise kernels compute each element from its own inputs,
/// and reductions always sum in chunks of <see cref="TensorReductions.ChunkLength"/> elements whose partial
/// sums are added in chunk order, whatever the number of threads. A split call runs chunks on the calling
/// thread and on up to <c>MaxDegreeOfParallelism - 1</c> thread-pool workers, and returns when all chunks are done.</para>
/// <para>The settings are process-wide and may be changed at any time; a call reads them once when it starts.</para>
/// </remarks>
public static class TensorCoreSettings
{
    private static int s_parallelThreshold = 1 << 20;
    private static int s_maxDegree = Environment.ProcessorCount;

    /// <summary>
    /// The number of elements (summed over all rows of one call) from which a kernel or reduction is split
    /// across cores. Default 1,048,576; <see cref="int.MaxValue"/> keeps every call on the calling thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int ParallelThreshold
    {
        get => Volatile.Read(ref s_parallelThreshold);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref s_parallelThreshold, value);
        }
    }

    /// <summary>The most threads one call uses, the calling thread included. Default <see cref="Environment.ProcessorCount"/>; 1 disables splitting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int MaxDegreeOfParallelism
    {
        get => Volatile.Read(ref s_maxDegree);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref s_maxDegree, value);
        }
    }

    private static long s_nonTemporalThreshold = 8L << 20;

    /// <summary>
    /// Output size in bytes from which the linear combinations write with non-temporal (streaming) stores.
    /// Default 8 MiB: such outputs rarely stay in cache until their next use, and streaming stores save the
    /// read of each destination line before it is written. <see cref="long.MaxValue"/> turns them off.
    /// </summary>
    /// <remarks>Results are the same either way; only the memory traffic differs.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static long NonTemporalThreshold
    {
        get => Volatile.Read(ref s_nonTemporalThreshold);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref s_nonTemporalThreshold, value);
        }
    }

    /// <summary>The widest SIMD vector, in bits, the kernels use on this machine (512, 256, 128), or 0 for the scalar loop.</summary>
    public static int VectorBits => SimdWidth.Bytes * 8;

    /// <summary>How many threads a call over <paramref name="elements"/> elements in <paramref name="chunks"/> independent chunks should use.</summary>
    internal static int DegreeFor(long elements, int chunks)
    {
        if (elements < ParallelThreshold || chunks < 2) return 1;
        return Math.Min(Math.Min(MaxDegreeOfParallelism, Environment.ProcessorCount), chunks);
    }
}

/// <summary>
/// Which vector width the kernels use. <see cref="Forced"/> lets tests run every width (a width the hardware
/// lacks is then emulated in software, slowly but with the same results); 0 means "the widest accelerated".
/// </summary>
internal static class SimdWidth
{
    /// <summary>0: automatic; 64, 32, 16: that many bytes per vector; -1: scalar.</summary>
    internal static int Forced;

    /// <summary>The width in bytes in use now (0 = scalar).</summary>
    internal static int Bytes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            int f = Forced;
            if (f != 0) return f < 0 ? 0 : f;
            if (Vector512.IsHardwareAccelerated) return 64;
            if (Vector256.IsHardwareAccelerated) return 32;
            if (Vector128.IsHardwareAccelerated) return 16;
            return 0;
        }
    }
}

/// <summary>
/// Runs <c>count</c> independent chunks of work on the calling thread and thread-pool workers without
/// allocating in steady state: each calling thread owns one reusable job object, queued with
/// <see cref="ThreadPool.UnsafeQueueUserWorkItem(IThreadPoolWorkItem, bool)"/>; the work is a function
/// pointer and a pointer to state on the caller's stack.
/// </summary>
/// <remarks>
/// Workers take a ticket before touching the job; the caller, once every chunk has been claimed, withdraws
/// the tickets not yet taken and waits only for workers that hold one. A worker that starts late finds no
/// ticket and returns at once (or helps a later call of the same thread), so the caller never waits for
/// the thread pool to schedule anything.
/// </remarks>
internal sealed unsafe class ParallelJob : IThreadPoolWorkItem
{
    [ThreadStatic] private static ParallelJob? t_job;

    private delegate*<void*, int, void> _body;
    private void* _state;
    private int _count;
    private int _next;
    // High 32 bits: tickets left; low 32 bits: workers holding a ticket.
    private long _tickets;

    /// <summary>Runs <paramref name="body"/>(state, k) for k = 0..count-1 on up to <paramref name="degree"/> threads.</summary>
    public static void Run(delegate*<void*, int, void> body, void* state, int count, int degree)
    {
        if (degree <= 1 || count <= 1)
        {
            for (int k = 0; k < count; k++) body(state, k);
            return;
        }
        var job = t_job ??= new ParallelJob();
        job._body = body;
        job._state = state;
        job._count = count;
        Volatile.Write(ref job._next, 0);
        int helpers = Math.Min(degree, count) - 1;
        Interlocked.Exchange(ref job._tickets, (long)helpers << 32);
        for (int i = 0; i < helpers; i++) ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
        job.Work();
        // Withdraw unused tickets, then wait for the workers that hold one to finish their last chunk.
        long t;
        do t = Volatile.Read(ref job._tickets);
        while (Interlocked.CompareExchange(ref job._tickets, t & 0xFFFFFFFFL, t) != t);
        var spin = new SpinWait();
        while ((Volatile.Read(ref job._tickets) & 0xFFFFFFFFL) != 0) spin.SpinOnce();
        job._body = null;
        job._state = null;
    }

    /// <inheritdoc/>
    public void Execute()
    {
        long t;
        do
        {
            t = Volatile.Read(ref _tickets);
            if ((t >> 32) == 0) return;
        }
        while (Interlocked.CompareExchange(ref _tickets, t - (1L << 32) + 1, t) != t);
        try { Work(); }
        finally { Interlocked.Decrement(ref _tickets); }
    }

    private void Work()
    {
        var body = _body;
        var state = _state;
        int count = _count;
        int k;
        while ((k = Interlocked.Increment(ref _next) - 1) < count) body(state, k);
    }
}
