using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics.Tensors;
using GenerativePaths.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GenerativePaths.OnnxRuntime;

/// <summary>Session creation, card lookup and graph checks shared by the adapters.</summary>
/// <remarks>Thread safety: stateless.</remarks>
internal static class OnnxSessions
{
    /// <summary>The ONNX metadata_props key a card may be stored under.</summary>
    public const string MetadataKey = "gpaths";

    public static InferenceSession Create(string modelPath, OnnxModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"ONNX model not found: {Path.GetFullPath(modelPath)}", modelPath);
        if (options.SessionOptions is not null) return Open(modelPath, options.SessionOptions);
        using var so = new SessionOptions();
        if (options.IntraOpThreads > 0) so.IntraOpNumThreads = options.IntraOpThreads;
        if (options.UseCuda)
        {
            try { so.AppendExecutionProvider_CUDA(options.CudaDeviceId); }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or TypeInitializationException)
            {
                throw new InvalidOperationException(
                    $"The CUDA execution provider could not be added for device {options.CudaDeviceId}: {e.Message} " +
                    "CUDA needs the Microsoft.ML.OnnxRuntime.Gpu package (in place of Microsoft.ML.OnnxRuntime), a CUDA device and the CUDA/cuDNN runtime that package was built for; " +
                    "leave UseCuda off to run on the CPU.", e);
            }
        }
        return Open(modelPath, so);
    }

    private static InferenceSession Open(string modelPath, SessionOptions so)
    {
        try { return new InferenceSession(modelPath, so); }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException($"ONNX Runtime could not load '{modelPath}': {e.Message}", e);
        }
    }

    /// <summary>The card: <paramref name="cardPath"/>; else <c>NAME.onnx.json</c> beside the model; else metadata_props key <c>gpaths</c>.</summary>
    public static ModelCard ResolveCard(string modelPath, string? cardPath, InferenceSession session)
    {
        if (cardPath is not null) return ModelCard.Load(cardPath);
        string beside = modelPath + ".json";
        if (File.Exists(beside)) return ModelCard.Load(beside);
        string name = Path.GetFileName(modelPath);
        if (session.ModelMetadata.CustomMetadataMap.TryGetValue(MetadataKey, out var json))
            return ModelCard.Parse(json, Path.GetDirectoryName(Path.GetFullPath(modelPath)), $"{name} metadata_props '{MetadataKey}'");
        throw new ModelCardException(name + ".json", null,
            $"no model card for '{modelPath}': pass the card's path, put '{name}.json' beside the model, or store the card's JSON in the model's metadata_props under the key '{MetadataKey}'.");
    }

    public static string Names(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    public static NodeMetadata Input(InferenceSession s, ModelCard card, string role, string name)
    {
        if (s.InputMetadata.TryGetValue(name, out var m)) return m;
        throw card.Error($"inputs.{role}", $"the graph has no input '{name}'; its inputs are {Names(s.InputMetadata.Keys)}");
    }

    public static NodeMetadata Output(InferenceSession s, ModelCard card, string key, string name)
    {
        if (s.OutputMetadata.TryGetValue(name, out var m)) return m;
        throw card.Error(key, $"the graph has no output '{name}'; its outputs are {Names(s.OutputMetadata.Keys)}");
    }

    public static void RequireTensor(ModelCard card, string key, string name, NodeMetadata m, params TensorElementType[] types)
    {
        if (!m.IsTensor) throw card.Error(key, $"graph value '{name}' is a {m.OnnxValueType}, not a tensor");
        if (!types.Contains(m.ElementDataType))
            throw card.Error(key, $"graph value '{name}' has element type {m.ElementDataType}; expected {string.Join(" or ", types)}");
    }

    /// <summary>Checks <c>[batch, ...sampleShape]</c> against the graph's dims (-1 = dynamic); returns the static batch size or 0.</summary>
    public static int CheckSampleDims(ModelCard card, string key, string name, NodeMetadata m)
    {
        var dims = m.Dimensions;
        var shape = card.SampleShape;
        if (dims.Length != shape.Count + 1)
            throw card.Error(key, $"graph value '{name}' has rank {dims.Length} ({Dims(dims)}); sample_shape [{string.Join(", ", shape)}] needs rank {shape.Count + 1} (batch first)");
        for (int i = 0; i < shape.Count; i++)
            if (dims[i + 1] > 0 && dims[i + 1] != shape[i])
                throw card.Error("sample_shape", $"graph value '{name}' has shape {Dims(dims)}; sample_shape is [{string.Join(", ", shape)}]");
        return dims[0] > 0 ? dims[0] : 0;
    }

    public static string Dims(int[] dims) => "[" + string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    public static int SizeOf(TensorElementType t) => t switch
    {
        TensorElementType.Float16 => 2,
        TensorElementType.Float or TensorElementType.Int32 => 4,
        _ => 8,
    };

    /// <summary>Pinned storage of <paramref name="count"/> elements of graph type <paramref name="type"/>.</summary>
    public static Array AllocatePinned(TensorElementType type, int count) => type switch
    {
        TensorElementType.Float16 => GC.AllocateArray<Half>(Math.Max(count, 1), pinned: true),
        TensorElementType.Float => GC.AllocateArray<float>(Math.Max(count, 1), pinned: true),
        TensorElementType.Double => GC.AllocateArray<double>(Math.Max(count, 1), pinned: true),
        TensorElementType.Int32 => GC.AllocateArray<int>(Math.Max(count, 1), pinned: true),
        _ => GC.AllocateArray<long>(Math.Max(count, 1), pinned: true),
    };

    public static unsafe nint AddressOf(Array pinned) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    /// <summary>Converts <paramref name="source"/> to graph type <paramref name="type"/> at <paramref name="destination"/>.</summary>
    public static unsafe void ToGraph<T>(ReadOnlySpan<T> source, TensorElementType type, nint destination) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        switch (type)
        {
            case TensorElementType.Float16: TensorPrimitives.ConvertTruncating(source, new Span<Half>((void*)destination, source.Length)); break;
            case TensorElementType.Float: TensorPrimitives.ConvertTruncating(source, new Span<float>((void*)destination, source.Length)); break;
            default: TensorPrimitives.ConvertTruncating(source, new Span<double>((void*)destination, source.Length)); break;
        }
    }

    /// <summary>Converts graph-typed values at <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public static unsafe void FromGraph<T>(nint source, TensorElementType type, Span<T> destination) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        switch (type)
        {
            case TensorElementType.Float16: TensorPrimitives.ConvertTruncating(new ReadOnlySpan<Half>((void*)source, destination.Length), destination); break;
            case TensorElementType.Float: TensorPrimitives.ConvertTruncating(new ReadOnlySpan<float>((void*)source, destination.Length), destination); break;
            default: TensorPrimitives.ConvertTruncating(new ReadOnlySpan<double>((void*)source, destination.Length), destination); break;
        }
    }

    public static OrtValue Tensor(TensorElementType type, nint address, long[] shape)
    {
        long n = 1;
        foreach (long d in shape) n *= d;
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, shape, address, n * SizeOf(type));
    }
}
