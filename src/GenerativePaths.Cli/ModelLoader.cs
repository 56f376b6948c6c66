using GenerativePaths.Models;
using GenerativePaths.OnnxRuntime;

namespace GenerativePaths.Cli;

/// <summary>Loads a denoiser for the commands: an ONNX file and its model card (<c>MODEL.onnx.json</c> beside it unless given).</summary>
internal static class ModelLoader
{
    /// <summary>Loads <paramref name="modelPath"/> with its card: <paramref name="cardPath"/>, else <c>MODEL.onnx.json</c> beside it,
    /// else the card stored in the model's metadata.</summary>
    /// <param name="modelPath">The ONNX file.</param>
    /// <param name="cardPath">The card, or null.</param>
    /// <param name="threads">ONNX Runtime's intra-op threads (0: its choice).</param>
    /// <exception cref="CommandLineException">A missing file, a card that is not a denoiser's.</exception>
    /// <exception cref="ModelCardException">A malformed card, or one that disagrees with the graph.</exception>
    public static GenerationModel Load(string modelPath, string? cardPath, int threads)
    {
        if (!File.Exists(modelPath)) throw new CommandLineException($"model file '{modelPath}' does not exist.");
        if (cardPath is not null && !File.Exists(cardPath)) throw new CommandLineException($"model card '{cardPath}' does not exist.");
        // A card file is read first, so that its errors are reported before ONNX Runtime looks at the graph.
        string? found = cardPath ?? (File.Exists(modelPath + ".json") ? modelPath + ".json" : null);
        if (found is not null) CheckKind(ModelCard.Load(found), found, ModelCardKind.Denoiser);
        var model = OnnxGenerativeModel<float>.Load(modelPath, cardPath, new OnnxModelOptions { IntraOpThreads = threads });
        try
        {
            CheckKind(model.Card, modelPath, ModelCardKind.Denoiser);
            return FromCard(model.Card, model, model, Path.GetFileNameWithoutExtension(modelPath));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Loads a classifier as a judge for <c>compare</c>.</summary>
    /// <exception cref="CommandLineException">A missing file or a card that is not a classifier's, or one without features.</exception>
    public static IJudge LoadJudge(string modelPath, string? cardPath = null)
    {
        if (!File.Exists(modelPath)) throw new CommandLineException($"judge model '{modelPath}' does not exist.");
        string? found = cardPath ?? (File.Exists(modelPath + ".json") ? modelPath + ".json" : null);
        if (found is not null) CheckKind(ModelCard.Load(found), found, ModelCardKind.Classifier);
        var classifier = OnnxClassifier.Load(modelPath, cardPath);
        if (classifier.FeatureLength < 1)
        {
            classifier.Dispose();
            throw new CommandLineException($"the judge '{modelPath}' has no feature output; the Fréchet distance needs one.");
        }
        return new OnnxJudge(classifier);
    }

    internal static void CheckKind(ModelCard card, string source, ModelCardKind kind)
    {
        if (card.Kind != kind)
            throw new CommandLineException($"'{source}' describes a {card.Kind.ToString().ToLowerInvariant()}, not a {kind.ToString().ToLowerInvariant()}.");
    }

    private sealed class OnnxJudge(OnnxClassifier classifier) : IJudge
    {
        public int Classes => classifier.Classes;

        public int FeatureLength => classifier.FeatureLength;

        public void Evaluate(ReadOnlySpan<float> x, int rows, Span<float> logits, Span<float> features) => classifier.Evaluate(x, rows, logits, features);

        public void Dispose() => classifier.Dispose();
    }

    /// <summary>The command-level description of a denoiser with a card.</summary>
    public static GenerationModel FromCard(ModelCard card, IGenerativeModel<float> model, IDisposable? owner, string name)
    {
        var image = card.Image is { } i ? new ImageLayout(i.Height, i.Width, i.Channels, i.RangeMin, i.RangeMax) : null;
        string defaultName = card.DefaultSamplerName;
        var entry = SamplerCatalog.Samplers.FirstOrDefault(s => s.Name == defaultName)
            ?? new SamplerEntry(defaultName, "the card's default sampler", card.CreateDefaultSampler, 1, false);
        return new GenerationModel(model, card.SampleShape.ToArray(), card.Classes ?? 0, card.UnconditionalClass, image,
            card.CreateSchedule, entry, name, owner);
    }
}
