using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Models;

/// <summary>How <see cref="ClassifierFreeGuidance{T}"/> lays out the doubled batch it hands the model.</summary>
public enum GuidanceBatchOrder
{
    /// <summary>Rows <c>0 .. B-1</c> unconditional, rows <c>B .. 2B-1</c> conditional: the order of diffusers' pipelines
    /// (<c>torch.cat([negative, positive])</c>).</summary>
    UnconditionalFirst,

    /// <summary>Rows <c>0 .. B-1</c> conditional, rows <c>B .. 2B-1</c> unconditional.</summary>
    ConditionalFirst,
}

/// <summary>
/// Classifier-free guidance (Ho and Salimans 2022, "Classifier-free diffusion guidance") with guidance rescale (Lin et al. 2024,
/// "Common diffusion noise schedules and sample steps are flawed", section 3.4), evaluated with one batched call of the model
/// on the conditional and the unconditional rows.
/// </summary>
/// <remarks>
/// <para>For a batch of <c>B</c> samples with conditions <c>y_b</c> the wrapper calls <see cref="Model"/> once on <c>2B</c> rows: the
/// same <c>x</c> and time twice, with the conditions <c>y_b</c> on one half and the explicit unconditional condition
/// <see cref="Unconditional"/> (a "null" class, an empty-prompt embedding) on the other, in the order <see cref="Order"/>. With
/// <c>c</c> and <c>u</c> the conditional and unconditional outputs and <c>w</c> the guidance scale:</para>
/// <para><c>p_cfg = u + w (c - u)</c>;</para>
/// <para>with rescale <c>phi &gt; 0</c>, per sample: <c>p = phi (std(c) / std(p_cfg)) p_cfg + (1 - phi) p_cfg</c>, the standard deviations
/// taken over all elements of the sample (unbiased, as diffusers' <c>rescale_noise_cfg</c>).</para>
/// <para>At <c>w = 1</c> the result is <c>c</c> and at <c>w = 0</c> it is <c>u</c>; the wrapper then calls the model on <c>B</c> rows only.
/// The guidance acts on whatever the model predicts (epsilon, v, x0, velocity). Buffers for the doubled batch are allocated on the first
/// call (and again only if the batch shape changes), so steady-state calls allocate nothing.</para>
/// <para>Thread safety: not thread-safe (it owns the doubled-batch buffers); one instance per run at a time.</para>
/// </remarks>
public sealed class ClassifierFreeGuidance<T> : IGenerativeModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ModelCondition _unconditional;
    private readonly ConditionBuffer _conditions = new();
    private BatchTensor<T>? _input, _output;
    private double[] _times = [];

    /// <summary>Guides <paramref name="model"/> with scale <paramref name="guidanceScale"/>.</summary>
    /// <param name="model">The conditional model, called on the doubled batch.</param>
    /// <param name="guidanceScale">The guidance scale <c>w</c> (1 = the conditional model alone, 0 = the unconditional model alone).</param>
    /// <param name="unconditional">The condition of the unconditional rows: one row, broadcast to every sample (the null class, the
    /// empty-prompt embedding), or one row per sample (a per-sample negative prompt). It is copied.</param>
    /// <param name="order">Which half of the doubled batch is unconditional (default: first, as diffusers).</param>
    /// <param name="guidanceRescale">The rescale factor <c>phi</c> in [0, 1] (0 = plain guidance; Lin et al. suggest 0.7).</param>
    /// <exception cref="ArgumentException"><paramref name="unconditional"/> is <see cref="ModelCondition.None"/> or has no rows.</exception>
    public ClassifierFreeGuidance(IGenerativeModel<T> model, double guidanceScale, ModelCondition unconditional,
        GuidanceBatchOrder order = GuidanceBatchOrder.UnconditionalFirst, double guidanceRescale = 0.0)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!double.IsFinite(guidanceScale)) throw new ArgumentOutOfRangeException(nameof(guidanceScale), guidanceScale, "The guidance scale must be finite.");
        if (!(guidanceRescale >= 0 && guidanceRescale <= 1)) throw new ArgumentOutOfRangeException(nameof(guidanceRescale), guidanceRescale, "The guidance rescale must lie in [0, 1].");
        if (!Enum.IsDefined(order)) throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown batch order.");
        if (unconditional.Kind == ConditionKind.None || unconditional.RowCount == 0)
            throw new ArgumentException("Classifier-free guidance needs an explicit unconditional condition (a null class or an empty embedding) with at least one row.", nameof(unconditional));
        Model = model;
        GuidanceScale = guidanceScale;
        GuidanceRescale = guidanceRescale;
        Order = order;
        _unconditional = unconditional.Kind == ConditionKind.Class
            ? ModelCondition.FromClasses(unconditional.Classes.ToArray())
            : ModelCondition.FromTensor(unconditional.Values.ToArray(), unconditional.RowCount, unconditional.RowShape.ToArray());
    }

    /// <summary>The conditional model.</summary>
    public IGenerativeModel<T> Model { get; }

    /// <summary>The guidance scale <c>w</c>.</summary>
    public double GuidanceScale { get; }

    /// <summary>The rescale factor <c>phi</c>.</summary>
    public double GuidanceRescale { get; }

    /// <summary>The layout of the doubled batch.</summary>
    public GuidanceBatchOrder Order { get; }

    /// <summary>The condition of the unconditional rows (the wrapper's own copy).</summary>
    public ModelCondition Unconditional => _unconditional;

    /// <inheritdoc/>
    public Prediction Prediction => Model.Prediction;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Shapes or counts disagree, the condition is missing, or its kind differs from the unconditional one.</exception>
    public void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<T> output)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(output);
        if (!x.HasSameShape(output)) throw new ArgumentException($"Shape mismatch: output {output.ShapeString}, input {x.ShapeString}.", nameof(output));
        if (modelTime.Length != x.BatchSize) throw new ArgumentException($"{modelTime.Length} model times for a batch of {x.BatchSize}.", nameof(modelTime));
        if (condition.Kind == ConditionKind.None)
            throw new ArgumentException("Classifier-free guidance needs the condition of each sample; none was given.", nameof(condition));
        if (condition.Kind != _unconditional.Kind)
            throw new ArgumentException($"The samples' condition is a {condition.Kind} condition but the unconditional one is a {_unconditional.Kind} condition.", nameof(condition));
        condition.EnsureRows(x.BatchSize, nameof(condition));
        int b = x.BatchSize, n = x.Length;
        if (_unconditional.RowCount != 1 && _unconditional.RowCount != b)
            throw new ArgumentException($"The unconditional condition has {_unconditional.RowCount} rows for a batch of {b} (give one row or one per sample).", nameof(condition));
        if (GuidanceScale == 1) { Model.Evaluate(x, modelTime, condition, output); return; }
        if (GuidanceScale == 0)
        {
            var uncond = _unconditional.RowCount == b ? _unconditional : _conditions.Concat(_unconditional, _unconditional, b).Slice(0, b);
            Model.Evaluate(x, modelTime, uncond, output);
            return;
        }
        if (_input is null || _input.BatchSize != 2 * b || !_input.SampleShape.SequenceEqual(x.SampleShape))
        {
            _input?.Dispose(); _output?.Dispose();
            var shape = x.SampleShape.ToArray();
            _input = BatchTensor<T>.Allocate(2 * b, shape);
            _output = BatchTensor<T>.Allocate(2 * b, shape);
            _times = new double[2 * b];
        }
        x.Span.CopyTo(_input.Span);
        x.Span.CopyTo(_input.Span.Slice(n));
        modelTime.CopyTo(_times);
        modelTime.CopyTo(_times.AsSpan(b));
        bool uncondFirst = Order == GuidanceBatchOrder.UnconditionalFirst;
        var doubled = uncondFirst ? _conditions.Concat(_unconditional, condition, b) : _conditions.Concat(condition, _unconditional, b);
        Model.Evaluate(_input, _times, doubled, _output!);
        var cond = _output!.Span.Slice(uncondFirst ? n : 0, n);
        var uncondOut = _output.Span.Slice(uncondFirst ? 0 : n, n);
        T w = T.CreateTruncating(GuidanceScale);
        TensorKernels.LinearCombination(output.Span, T.One - w, uncondOut, w, cond);
        if (GuidanceRescale == 0) return;
        int d = x.RowLength;
        for (int s = 0; s < b; s++)
        {
            double stdCond = Std(cond.Slice(s * d, d)), stdCfg = Std(output.Row(s));
            if (!(stdCfg > 0)) continue;
            double factor = GuidanceRescale * stdCond / stdCfg + (1 - GuidanceRescale);
            TensorKernels.LinearCombination(output.Row(s), T.CreateTruncating(factor), output.Row(s));
        }
    }

    private static double Std(ReadOnlySpan<T> v)
    {
        if (v.Length < 2) return 0;
        double mean = 0;
        for (int i = 0; i < v.Length; i++) mean += double.CreateTruncating(v[i]);
        mean /= v.Length;
        double ss = 0;
        for (int i = 0; i < v.Length; i++) { double r = double.CreateTruncating(v[i]) - mean; ss += r * r; }
        return Math.Sqrt(ss / (v.Length - 1));
    }
}
