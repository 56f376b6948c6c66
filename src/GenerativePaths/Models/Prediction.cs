namespace GenerativePaths.Models;

/// <summary>What a model's output means, for a sample <c>x = alpha x0 + sigma eps</c>.</summary>
public enum Prediction
{
    /// <summary>The noise <c>eps</c> (diffusers <c>epsilon</c>).</summary>
    Epsilon,

    /// <summary>The clean data <c>x0</c>: the data prediction of DPM-Solver++ (diffusers <c>prediction_type: "sample"</c>; k-diffusion's
    /// denoiser <c>D(x; sigma)</c>). Named <c>Data</c>, not <c>Sample</c>, because a run's output is its sample.</summary>
    Data,

    /// <summary>The velocity <c>v = alpha eps - sigma x0</c> of Salimans and Ho (2022) (diffusers <c>v_prediction</c>).</summary>
    Velocity,

    /// <summary>The flow-matching velocity <c>dx/dt = alpha'(t) x0 + sigma'(t) eps</c>; on the rectified-flow path <c>eps - x0</c>.</summary>
    FlowVelocity,

    /// <summary>The score <c>grad log p_t(x) = -eps / sigma</c>.</summary>
    Score,
}
