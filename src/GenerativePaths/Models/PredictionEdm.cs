using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Models;

/// <summary>
/// The EDM preconditioning of Karras, Aittala, Aila and Laine (2022, "Elucidating the Design Space of Diffusion-Based Generative
/// Models", Table 1 and eq. 7): the raw network output <c>F</c> (diffusers' and the model card's <c>edm_F</c>) and the denoiser
/// <c>D = c_skip x + c_out F(c_in x; c_noise)</c> on the variance-exploding path <c>x = x0 + sigma eps</c>.
/// </summary>
/// <remarks>
/// <para><c>c_skip = sigma_data^2 / (sigma^2 + sigma_data^2)</c>, <c>c_out = sigma sigma_data / sqrt(sigma^2 + sigma_data^2)</c> (negated for a
/// network trained on v-prediction targets, as diffusers' EDM schedulers with <c>prediction_type="v_prediction"</c>),
/// <c>c_in = 1 / sqrt(sigma^2 + sigma_data^2)</c>, <c>c_noise = log(sigma) / 4</c>, so <c>sigma = exp(4 c_noise)</c>.</para>
/// <para>An <c>edm_F</c> network is used through <see cref="EdmPreconditionedModel{T}"/>, which presents it as a
/// <see cref="Prediction.Data"/> model (the denoiser), so every sampler and conversion works on it unchanged.</para>
/// <para>Thread safety: stateless static methods; safe from any thread.</para>
/// </remarks>
public static class EdmPreconditioning
{
    /// <summary>The scalings <c>(c_skip, c_out, c_in)</c> at noise level <paramref name="sigma"/>.</summary>
    /// <param name="sigma">The noise level, finite and non-negative.</param>
    /// <param name="sigmaData">The data standard deviation <c>sigma_data</c>, positive and finite.</param>
    /// <param name="negateOutput">Negate <c>c_out</c> (a v-prediction-trained network).</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite sigma, or a non-positive sigma_data.</exception>
    public static (double Skip, double Out, double In) Scalings(double sigma, double sigmaData, bool negateOutput = false)
    {
        if (!(sigma >= 0) || double.IsInfinity(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "sigma must be finite and non-negative.");
        if (!(sigmaData > 0) || double.IsInfinity(sigmaData)) throw new ArgumentOutOfRangeException(nameof(sigmaData), sigmaData, "sigma_data must be positive and finite.");
        double s2 = sigma * sigma, d2 = sigmaData * sigmaData, r = Math.Sqrt(s2 + d2);
        double cout = sigma * sigmaData / r;
        return (d2 / (s2 + d2), negateOutput ? -cout : cout, 1 / r);
    }

    /// <summary>The network's noise input <c>c_noise = log(sigma) / 4</c>.</summary>
    public static double NoiseInput(double sigma) => 0.25 * Math.Log(sigma);

    /// <summary>The noise level of a network noise input: <c>sigma = exp(4 c_noise)</c>.</summary>
    public static double SigmaFromNoiseInput(double noiseInput) => Math.Exp(4 * noiseInput);
}

/// <summary>
/// An EDM network that outputs <c>F</c> (<c>edm_F</c>) presented as the denoiser it parametrises: called with the state <c>x</c> on the
/// variance-exploding path and the model time <c>c_noise = log(sigma) / 4</c> (the time diffusers' EDM schedulers list), it calls the
/// network with <c>c_in x</c> and the same time and returns <c>D = c_skip x + c_out F</c> (<see cref="EdmPreconditioning"/>).
/// </summary>
/// <remarks>
/// <para>Formula (Karras et al. 2022, eq. 7): <c>D(x; sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x; c_noise(sigma))</c>.</para>
/// <para>Allocation: one scratch tensor of the batch's shape, allocated on the first call and reused while the shape stays.
/// Thread safety: one instance is for one thread at a time (it owns that scratch); the wrapped network is called from that thread.</para>
/// </remarks>
public sealed class EdmPreconditionedModel<T> : IGenerativeModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private BatchTensor<T>? _scaled;

    /// <summary>Wraps <paramref name="network"/>.</summary>
    /// <param name="network">The network; it receives <c>c_in x</c> and <c>c_noise</c> and writes <c>F</c> (its own <see cref="IGenerativeModel{T}.Prediction"/> is not used).</param>
    /// <param name="sigmaData">The data standard deviation the network was trained with (diffusers' <c>sigma_data</c>).</param>
    /// <param name="negateOutput">Negate <c>c_out</c> (diffusers' <c>prediction_type="v_prediction"</c> for an EDM scheduler).</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive or non-finite sigma_data.</exception>
    public EdmPreconditionedModel(IGenerativeModel<T> network, double sigmaData, bool negateOutput = false)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!(sigmaData > 0) || double.IsInfinity(sigmaData)) throw new ArgumentOutOfRangeException(nameof(sigmaData), sigmaData, "sigma_data must be positive and finite.");
        Network = network;
        SigmaData = sigmaData;
        NegateOutput = negateOutput;
    }

    /// <summary>The wrapped network.</summary>
    public IGenerativeModel<T> Network { get; }

    /// <summary>The data standard deviation.</summary>
    public double SigmaData { get; }

    /// <summary>Whether <c>c_out</c> is negated.</summary>
    public bool NegateOutput { get; }

    /// <summary>The denoiser: <see cref="Prediction.Data"/>.</summary>
    public Prediction Prediction => Prediction.Data;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Shapes or counts disagree.</exception>
    public void Evaluate(BatchTensor<T> x, ReadOnlySpan<double> modelTime, in ModelCondition condition, BatchTensor<T> output)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(output);
        if (modelTime.Length != x.BatchSize) throw new ArgumentException($"{modelTime.Length} model times for a batch of {x.BatchSize}.", nameof(modelTime));
        if (!x.HasSameShape(output)) throw new ArgumentException($"Shape mismatch: output {output.ShapeString}, x {x.ShapeString}.", nameof(output));
        if (_scaled is null || !_scaled.HasSameShape(x)) _scaled = BatchTensor<T>.Allocate(x.BatchSize, x.SampleShape.ToArray());
        for (int b = 0; b < x.BatchSize; b++)
        {
            var (_, _, cin) = EdmPreconditioning.Scalings(EdmPreconditioning.SigmaFromNoiseInput(modelTime[b]), SigmaData, NegateOutput);
            System.Numerics.Tensors.TensorPrimitives.Multiply(x.Row(b), T.CreateTruncating(cin), _scaled.Row(b));
        }
        Network.Evaluate(_scaled, modelTime, condition, output);
        for (int b = 0; b < x.BatchSize; b++)
        {
            var (skip, cout, _) = EdmPreconditioning.Scalings(EdmPreconditioning.SigmaFromNoiseInput(modelTime[b]), SigmaData, NegateOutput);
            TensorKernels.LinearCombination(output.Row(b), T.CreateTruncating(skip), x.Row(b), T.CreateTruncating(cout), output.Row(b));
        }
    }
}
