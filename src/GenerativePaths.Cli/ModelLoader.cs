using GenerativePaths.Models;

namespace GenerativePaths.Cli;

/// <summary>Loads a denoiser for the commands: an ONNX file and its model card (<c>MODEL.onnx.json</c> beside it unless given).</summary>
internal static class ModelLoader
{
    /// <exception cref="CommandLineException">A missing file, a card that is not a denoiser's.</exception>
    /// <exception cref="ModelCardException">A malformed card.</exception>
    public static GenerationModel Load(string modelPath, string? cardPath, int threads)
    {
        if (!File.Exists(modelPath)) throw new CommandLineException($"model file '{modelPath}' does not exist.");
        cardPath ??= modelPath + ".json";
        if (!File.Exists(cardPath)) throw new CommandLineException($"model card '{cardPath}' does not exist (give one with --card).");
        var card = ModelCard.Load(cardPath);
        if (card.Kind != ModelCardKind.Denoiser)
            throw new CommandLineException($"'{cardPath}' describes a {card.Kind.ToString().ToLowerInvariant()}, not a denoiser.");
        var model = LoadOnnx(modelPath, cardPath, threads);
        return FromCard(card, model.Model, model.Owner, Path.GetFileNameWithoutExtension(modelPath));
    }

    /// <summary>The command-level description of a denoiser with a card.</summary>
    public static GenerationModel FromCard(ModelCard card, IGenerativeModel<float> model, IDisposable? owner, string name)
    {
        var image = card.Image is { } i ? new ImageLayout(i.Height, i.Width, i.Channels, i.RangeMin, i.RangeMax) : null;
        string defaultName = card.DefaultSamplerName;
        var entry = SamplerCatalog.Samplers.FirstOrDefault(s => s.Name == defaultName)
            ?? new SamplerEntry(defaultName, "the card's default sampler", card.CreateDefaultSampler, 1, false);
        return new GenerationModel(model, card.SampleShape.ToArray(), card.Classes ?? 0, card.UnconditionalClass, image,
            card.CreateSchedule, entry, name, owner, ThreadSafe: false);
    }

    private static (IGenerativeModel<float> Model, IDisposable? Owner) LoadOnnx(string modelPath, string cardPath, int threads)
        => throw new CommandLineException("this build has no ONNX Runtime adapter yet.");
}
