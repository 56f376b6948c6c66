using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>
/// The buffers of an adaptive solve (OrdinaryDiffEq.jl's "cache"): states, stages, per-sample step, norm, controller memory,
/// event and save bookkeeping. Allocated once per integrator; a solve writes nothing else per step.
/// </summary>
/// <remarks>Thread safety: one solve at a time. <see cref="Enter"/> takes the workspace with an interlocked flag, so a second
/// concurrent solve throws <see cref="InvalidOperationException"/> instead of corrupting the first.</remarks>
internal sealed class AdaptiveWorkspace<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly EmbeddedTableau Method;
    public readonly int Stages, Batch, Row;
    public readonly int[] Shape;
    public BatchTensor<T> Y, YNew;
    public readonly BatchTensor<T> YStage, Err;
    public readonly BatchTensor<T>[] K;
    public readonly StageWeights[] StageTerms;
    public readonly StageWeights BTerms, ETerms;
    public readonly double[] Time, H, Hs, HTaken, TStage, Norm, G, Weights, TEnd, Theta, EventNaN;
    public readonly bool[] Active, LastRejected, Accepted, NonFinite, Lands, Crossed;
    public readonly long[] Evals, Acc, Rej;
    public readonly int[] NextSave;
    public readonly T[][] Coef;
    public readonly T[] Ones, RowBuf;
    public double[] AtolExpanded = [];
    public double[] Memory = [];
    private int _busy;

    public AdaptiveWorkspace(EmbeddedTableau method, int batchSize, int[] sampleShape)
    {
        Method = method;
        int s = Stages = method.Stages;
        Y = BatchTensor<T>.Allocate(batchSize, sampleShape);
        Shape = (int[])sampleShape.Clone();
        Batch = batchSize;
        Row = Y.RowLength;
        YNew = BatchTensor<T>.Allocate(batchSize, sampleShape);
        YStage = BatchTensor<T>.Allocate(batchSize, sampleShape);
        Err = BatchTensor<T>.Allocate(batchSize, sampleShape);
        K = new BatchTensor<T>[s + 1];
        for (int i = 0; i < s; i++) K[i] = BatchTensor<T>.Allocate(batchSize, sampleShape);
        K[s] = method.IsFsal ? K[s - 1] : BatchTensor<T>.Allocate(batchSize, sampleShape);
        StageTerms = new StageWeights[s];
        for (int i = 0; i < s; i++) StageTerms[i] = new StageWeights(method.ARow(i));
        BTerms = new StageWeights(method.B);
        ETerms = new StageWeights(method.ErrorWeights);
        Time = new double[batchSize]; H = new double[batchSize]; Hs = new double[batchSize]; HTaken = new double[batchSize];
        TStage = new double[batchSize]; Norm = new double[batchSize]; G = new double[batchSize];
        TEnd = new double[batchSize]; Theta = new double[batchSize]; EventNaN = new double[batchSize];
        Weights = new double[s + 1];
        Active = new bool[batchSize]; LastRejected = new bool[batchSize]; Accepted = new bool[batchSize];
        NonFinite = new bool[batchSize]; Lands = new bool[batchSize]; Crossed = new bool[batchSize];
        Evals = new long[batchSize]; Acc = new long[batchSize]; Rej = new long[batchSize];
        NextSave = new int[batchSize];
        Coef = new T[6][];
        for (int i = 0; i < 6; i++) Coef[i] = new T[batchSize];
        Ones = new T[batchSize];
        Array.Fill(Ones, T.One);
        RowBuf = new T[Row];
    }

    /// <summary>Takes the workspace for one solve.</summary>
    /// <exception cref="InvalidOperationException">Another solve is using it.</exception>
    public void Enter()
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            throw new InvalidOperationException(
                "This AdaptiveIntegrator is already solving on another thread; an integrator (its workspace) serves one solve at a time. " +
                "Create one integrator per thread, or call OdeSolver.Solve, which makes its own.");
    }

    /// <summary>Releases the workspace.</summary>
    public void Exit() => Volatile.Write(ref _busy, 0);

    /// <summary>Sizes the controller memory (once per controller shape) and resets it for every sample.</summary>
    public Span<double> PrepareMemory(IStepSizeController controller)
    {
        int m = controller.MemoryLength;
        if (Memory.Length != m * Batch) Memory = new double[m * Batch];
        for (int b = 0; b < Batch; b++) controller.Reset(Memory.AsSpan(b * m, m));
        return Memory;
    }

    public bool AnyActive()
    {
        foreach (var a in Active) if (a) return true;
        return false;
    }

    public bool AllAcceptedOrInactive()
    {
        for (int b = 0; b < Batch; b++) if (!Accepted[b] && Math.Abs(Hs[b]) > 0 && Active[b]) return false;
        return true;
    }

    /// <summary>Makes the accepted states current: swaps the buffers when every row moved (or under shared control), else copies the accepted rows.</summary>
    public void CommitAccepted(bool perSample)
    {
        int s = Stages;
        if (!perSample || AllAcceptedOrInactive())
        {
            (Y, YNew) = (YNew, Y);
            if (Method.IsFsal) { (K[0], K[s - 1]) = (K[s - 1], K[0]); K[s] = K[s - 1]; }
            else (K[0], K[s]) = (K[s], K[0]);
        }
        else
        {
            var first = Method.IsFsal ? K[s - 1] : K[s];
            for (int b = 0; b < Batch; b++)
            {
                if (!Accepted[b]) continue;
                YNew.Row(b).CopyTo(Y.Row(b));
                first.Row(b).CopyTo(K[0].Row(b));
            }
        }
    }
}
