namespace GenerativePaths.Configs;

/// <summary>
/// The keyword arguments a diffusers pipeline passes to <c>scheduler.step(...)</c> (as a reference case's <c>step_kwargs</c>
/// lists them); null means the class's default.
/// </summary>
/// <param name="Eta">DDIM's and TCD's noise level <c>eta</c> (TCD: its gamma).</param>
/// <param name="SChurn">Euler's <c>s_churn</c>.</param>
/// <param name="STMin">Euler's <c>s_tmin</c>.</param>
/// <param name="STMax">Euler's <c>s_tmax</c>.</param>
/// <param name="SNoise">Euler's <c>s_noise</c>.</param>
/// <param name="Order">LMS's <c>order</c>.</param>
/// <remarks>Thread safety: an immutable value; may be shared by several threads.</remarks>
public sealed record DiffusersStepArguments(double? Eta = null, double? SChurn = null, double? STMin = null, double? STMax = null, double? SNoise = null, int? Order = null)
{
    /// <summary>No arguments: every class's defaults.</summary>
    public static DiffusersStepArguments Default { get; } = new();

    /// <summary>Reads the arguments from a JSON object such as a reference case's <c>step_kwargs</c> (unknown keys are ignored).</summary>
    /// <exception cref="DiffusersConfigException">A known key holds something other than a number.</exception>
    public static DiffusersStepArguments FromJson(System.Text.Json.JsonElement kwargs)
    {
        if (kwargs.ValueKind is System.Text.Json.JsonValueKind.Undefined or System.Text.Json.JsonValueKind.Null) return Default;
        if (kwargs.ValueKind != System.Text.Json.JsonValueKind.Object)
            throw new DiffusersConfigException("step_kwargs", kwargs.GetRawText(), "step_kwargs must be a JSON object.", unsupported: false);
        double? Get(string key)
        {
            if (!kwargs.TryGetProperty(key, out var v) || v.ValueKind == System.Text.Json.JsonValueKind.Null) return null;
            if (v.ValueKind != System.Text.Json.JsonValueKind.Number)
                throw new DiffusersConfigException(key, v.GetRawText(), $"step_kwargs.{key} = {v.GetRawText()} is invalid: must be a number.", unsupported: false);
            return v.GetDouble();
        }
        double? order = Get("order");
        if (order is { } o && (o != Math.Floor(o) || o < 1 || o > 16))
            throw new DiffusersConfigException("order", o.ToString(System.Globalization.CultureInfo.InvariantCulture), "step_kwargs.order must be an integer in [1, 16].", unsupported: false);
        return new DiffusersStepArguments(Get("eta"), Get("s_churn"), Get("s_tmin"), Get("s_tmax"), Get("s_noise"), order is null ? null : (int)order);
    }
}
