namespace GenerativePaths.Models;

/// <summary>What a model card describes (the card's <c>"kind"</c>).</summary>
public enum ModelCardKind
{
    /// <summary><c>denoiser</c>: a diffusion or flow network called with a noisy sample and its time.</summary>
    Denoiser,

    /// <summary><c>classifier</c>: a network that maps a sample to class logits (and optionally a feature vector).</summary>
    Classifier,

    /// <summary><c>causal_lm</c>: a token model that maps a token sequence to next-token logits.</summary>
    CausalLm,
}

/// <summary>What a card's network outputs (the card's <c>"prediction"</c>), before the adapter's output map.</summary>
public enum CardPrediction
{
    /// <summary><c>epsilon</c>: the noise.</summary>
    Epsilon,

    /// <summary><c>x0</c>: the clean sample.</summary>
    X0,

    /// <summary><c>v</c>: the velocity <c>alpha eps - sigma x0</c>.</summary>
    V,

    /// <summary><c>flow_velocity</c>: a rectified-flow velocity, signed as <see cref="FlowVelocitySign"/> says.</summary>
    FlowVelocity,

    /// <summary><c>score</c>: <c>grad log p(x) = -eps / sigma</c>.</summary>
    Score,

    /// <summary><c>edm_F</c>: the raw EDM network output <c>F</c>, with <c>D = c_skip x + c_out F</c> (Karras et al. 2022).</summary>
    EdmF,
}

/// <summary>The sign convention of a rectified-flow velocity (the card's <c>"velocity"</c>).</summary>
public enum FlowVelocitySign
{
    /// <summary><c>data_minus_noise</c>: the network outputs <c>x0 - eps</c> (the flow from noise towards data).</summary>
    DataMinusNoise,

    /// <summary><c>noise_minus_data</c>: the network outputs <c>eps - x0 = dx/dsigma</c> (the library's convention, diffusers').</summary>
    NoiseMinusData,
}

/// <summary>The path a card's network was trained on (the card's <c>"path.kind"</c>).</summary>
public enum CardPathKind
{
    /// <summary><c>rectified_flow</c>: <c>x = (1 - s) x0 + s eps</c>.</summary>
    RectifiedFlow,

    /// <summary><c>discrete_vp</c>: a diffusers discrete VP schedule given by a scheduler config.</summary>
    DiscreteVp,

    /// <summary><c>edm</c>: variance exploding with the EDM preconditioning.</summary>
    Edm,

    /// <summary><c>continuous_vp</c>: the linear-beta VP SDE of Song et al. (2021).</summary>
    ContinuousVp,

    /// <summary><c>ve</c>: variance exploding, network called with sigma.</summary>
    Ve,
}

/// <summary>Which end of a rectified-flow card's time is noise (the card's <c>"path.time"</c>).</summary>
public enum FlowTimeConvention
{
    /// <summary><c>noise_at_1</c>: time input <c>time_scale * s</c> (diffusers, SD3, Flux).</summary>
    NoiseAt1,

    /// <summary><c>noise_at_0</c>: time input <c>time_scale * (1 - s)</c> (the flow_matching and torchcfm convention).</summary>
    NoiseAt0,
}

/// <summary>How a card's samples read as images (the card's <c>"image"</c>).</summary>
/// <param name="Height">Rows of pixels.</param>
/// <param name="Width">Columns of pixels.</param>
/// <param name="Channels">Channels per pixel.</param>
/// <param name="RangeMin">The sample value of black.</param>
/// <param name="RangeMax">The sample value of white.</param>
/// <remarks>Thread safety: an immutable value.</remarks>
public sealed record ModelCardImage(int Height, int Width, int Channels, double RangeMin, double RangeMax);
