using System.Numerics;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;

namespace GenerativePaths.Samplers;

/// <summary>
/// The model's denoised estimate <c>x0hat</c> at one evaluation, held as a formula over the evaluated sample and the raw model output
/// (<c>x0hat = c_x x + c_p p</c>) rather than as a tensor, so that an update written with it (<c>a * d + b * d.Eps + c * z</c>) fuses the
/// prediction conversion into its single pass. Made by <see cref="SamplerState{T}.Denoise(BatchTensor{T}, SchedulePoint)"/>.
/// </summary>
/// <remarks>
/// <para>Formulas: <c>x0hat = c_x x + c_p p</c> (<see cref="Models.PredictionConversion"/>, per row), <c>epshat = (x - alpha x0hat) / sigma =
/// ((1 - alpha c_x) / sigma) x - (alpha c_p / sigma) p</c>.</para>
/// <para>The estimate reads the evaluated sample and the model-output buffer of that evaluation: it is valid until either is overwritten.
/// The state checks this when the estimate is used (an <see cref="InvalidOperationException"/> names the step), so keep an estimate that
/// must outlive its inputs in a buffer (<c>state.Set(state.Buffer("x0"), d)</c>).</para>
/// <para>The model output's finite check is fused into the first combination that reads the estimate (a NaN from the model then raises
/// <see cref="NonFiniteModelOutputException"/>); an output no combination reads is scanned at the end of the step.</para>
/// <para>Thread safety: an immutable value; belongs to one run.</para>
/// </remarks>
public readonly struct Denoised<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly SamplerState<T>? _state;
    private readonly SampleCoefficients? _rowsX, _rowsP, _rowsEpsX, _rowsEpsP;

    internal Denoised(SamplerState<T> state, BatchTensor<T> x, BatchTensor<T> output, SchedulePoint point, double ofState, double ofOutput, long inputVersion, long outputVersion)
    {
        _state = state;
        Input = x;
        Output = output;
        Point = point;
        OfState = ofState;
        OfOutput = ofOutput;
        InputVersion = inputVersion;
        OutputVersion = outputVersion;
    }

    internal Denoised(SamplerState<T> state, BatchTensor<T> x, BatchTensor<T> output, SampleCoefficients ofX, SampleCoefficients ofP, SampleCoefficients epsX, SampleCoefficients epsP, long inputVersion, long outputVersion)
    {
        _state = state;
        Input = x;
        Output = output;
        _rowsX = ofX; _rowsP = ofP; _rowsEpsX = epsX; _rowsEpsP = epsP;
        PerSample = true;
        OfState = double.NaN;
        OfOutput = double.NaN;
        InputVersion = inputVersion;
        OutputVersion = outputVersion;
    }

    /// <summary>The sample the model was evaluated on.</summary>
    public BatchTensor<T> Input { get; }

    /// <summary>The raw model output of the evaluation.</summary>
    public BatchTensor<T> Output { get; }

    /// <summary>The point of the evaluation (for a per-sample evaluation, the default value: each row has its own).</summary>
    public SchedulePoint Point { get; }

    /// <summary>True when each row was evaluated at its own point (the coefficients are per row).</summary>
    public bool PerSample { get; }

    /// <summary><c>c_x</c> of <c>x0hat = c_x x + c_p p</c> (NaN for a per-sample evaluation).</summary>
    public double OfState { get; }

    /// <summary><c>c_p</c> of <c>x0hat = c_x x + c_p p</c> (NaN for a per-sample evaluation).</summary>
    public double OfOutput { get; }

    internal long InputVersion { get; }

    internal long OutputVersion { get; }

    internal SamplerState<T>? State => _state;

    /// <summary>The estimate as a combination, <c>c_x x + c_p p</c>.</summary>
    public TensorCombination<T> Estimate
    {
        get
        {
            Validate();
            return PerSample
                ? TensorCombination<T>.Guarded(1, _rowsX, Input, InputVersion, 1, _rowsP, Output, OutputVersion)
                : TensorCombination<T>.Guarded(OfState, null, Input, InputVersion, OfOutput, null, Output, OutputVersion);
        }
    }

    /// <summary>The noise estimate <c>epshat = (x - alpha x0hat) / sigma</c> as a combination.</summary>
    /// <exception cref="InvalidOperationException">The point has <c>sigma = 0</c> (no noise to estimate).</exception>
    public TensorCombination<T> Eps
    {
        get
        {
            Validate();
            if (PerSample)
                return TensorCombination<T>.Guarded(1, _rowsEpsX, Input, InputVersion, 1, _rowsEpsP, Output, OutputVersion);
            if (Point.Sigma == 0)
                throw new InvalidOperationException($"The noise estimate is undefined at sigma = 0 (model time {Point.ModelTime}).");
            return TensorCombination<T>.Guarded((1 - Point.Alpha * OfState) / Point.Sigma, null, Input, InputVersion,
                -Point.Alpha * OfOutput / Point.Sigma, null, Output, OutputVersion);
        }
    }

    private void Validate()
    {
        if (_state is null) throw new InvalidOperationException("This denoised estimate was not made by SamplerState.Denoise.");
    }

    /// <summary>The estimate with coefficient 1.</summary>
    public static implicit operator TensorCombination<T>(Denoised<T> value) => value.Estimate;

    /// <summary><c>a x0hat</c> as a combination.</summary>
    public static TensorCombination<T> operator *(double coefficient, Denoised<T> value) => value.Scaled(coefficient);

    /// <summary><c>a x0hat</c> as a combination.</summary>
    public static TensorCombination<T> operator *(Denoised<T> value, double coefficient) => value.Scaled(coefficient);

    // a x0hat built in one construction (the estimate's two terms with their coefficients scaled).
    private TensorCombination<T> Scaled(double a)
    {
        Validate();
        return PerSample
            ? TensorCombination<T>.Guarded(a, _rowsX, Input, InputVersion, a, _rowsP, Output, OutputVersion)
            : TensorCombination<T>.Guarded(a * OfState, null, Input, InputVersion, a * OfOutput, null, Output, OutputVersion);
    }

    /// <summary><c>a[b] x0hat[b]</c> as a combination (one coefficient per row).</summary>
    public static TensorCombination<T> operator *(SampleCoefficients coefficients, Denoised<T> value) => coefficients * value.Estimate;
}
