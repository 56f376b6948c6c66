using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Models;

/// <summary>
/// Classifier-free guidance (Ho and Salimans 2022) with guidance rescale (Lin et al. 2024, "Common diffusion noise
/// schedules and sample steps are flawed", section 3.4), evaluated with one batched call of the underlying model.
/// </summary>
/// <remarks>
/// <para>For a batch of <c>B</c> samples the wrapper calls <see cref="PairedModel"/> once on <c>2B</c> rows: rows
/// <c>b &lt; B</c> are the conditional half, rows <c>B + b</c> the unconditional half (the same <c>x</c> and time); the paired
/// model applies the condition by row position. With <c>c</c> and <c>u</c> the two halves of its output and <c>w</c>
/// the guidance scale:</para>
/// <para><c>p_cfg = u + w (c - u)</c>;</para>
/// <para>with rescale <c>phi &gt; 0</c>, per sample: <c>p = phi (std(c) / std(p_cfg)) p_cfg + (1 - phi) p_cfg</c>, the standard deviations
/// taken over all elements of the sample (unbiased, as diffusers' <c>rescale_noise_cfg</c>).</para>
/// <para>The guidance acts on whatever the model predicts (epsilon, v, ...). Buffers for the doubled batch are allocated on the
/// first call (and again only if the batch shape changes), so steady-state calls allocate nothing.</para>
/// </remarks>
public sealed class ClassifierFreeGuidance<T> : IGenerativeModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private BatchTensor<T>? _input, _output;
    private double[] _times = [];

    /// <summary>Guides <paramref name="pairedModel"/> with scale <paramref name="guidanceScale"/> and rescale <paramref name="guidanceRescale"/>.</summary>
    /// <param name="pairedModel">The model evaluated on the doubled batch (conditional rows first).</param>
    /// <param name="guidanceScale">The guidance scale <c>w</c> (1 = the conditional model alone).</param>
    /// <param name="guidanceRescale">The rescale factor <c>phi</c> in [0, 1] (0 = plain guidance; Lin et al. suggest 0.7).</param>
    public ClassifierFreeGuidance(IGenerativeModel<T> pairedModel, double guidanceScale, double guidanceRescale = 0.0)
    {
        ArgumentNullException.ThrowIfNull(pairedModel);
        if (!double.IsFinite(guidanceScale)) throw new ArgumentOutOfRangeException(nameof(guidanceScale), guidanceScale, "The guidance scale must be finite.");
        if (!(guidanceRescale >= 0 && guidanceRescale <= 1)) throw new ArgumentOutOfRangeException(nameof(guidanceRescale), guidanceRescale, "The guidance rescale must lie in [0, 1].");
        PairedModel = pairedModel;
        GuidanceScale = guidanceScale;
        GuidanceRescale = guidanceRescale;
    }

    /// <summary>The model evaluated on the doubled batch.</summary>
    public IGenerativeModel<T> PairedModel { get; }

    /// <summary>The guidance scale <c>w</c>.</summary>
    public double GuidanceScale { get; }

    /// <summary>The rescale factor <c>phi</c>.</summary>
    public double GuidanceRescale { get; }

    /// <inheritdoc/>
    public Prediction Prediction => PairedModel.Prediction;

    /// <inheritdoc/>
    public void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, BatchTensor<T> output)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(output);
        if (!x.HasSameShape(output)) throw new ArgumentException($"Shape mismatch: output {output.ShapeString}, input {x.ShapeString}.", nameof(output));
        if (modelTime.Length != x.BatchSize) throw new ArgumentException($"{modelTime.Length} model times for a batch of {x.BatchSize}.", nameof(modelTime));
        int b = x.BatchSize, n = x.Length;
        if (_input is null || _input.BatchSize != 2 * b || !_input.SampleShape.SequenceEqual(x.SampleShape))
        {
            var shape = x.SampleShape.ToArray();
            _input = BatchTensor<T>.Allocate(2 * b, shape);
            _output = BatchTensor<T>.Allocate(2 * b, shape);
            _times = new double[2 * b];
        }
        x.Span.CopyTo(_input.Span);
        x.Span.CopyTo(_input.Span.Slice(n));
        modelTime.CopyTo(_times);
        modelTime.CopyTo(_times.AsSpan(b));
        PairedModel.Evaluate(_input, _times, _output!);
        var cond = _output!.Span.Slice(0, n);
        var uncond = _output.Span.Slice(n, n);
        T w = T.CreateTruncating(GuidanceScale);
        TensorKernels.LinearCombination(output.Span, T.One - w, uncond, w, cond);
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
