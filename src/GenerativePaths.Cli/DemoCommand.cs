using System.Diagnostics;
using GenerativePaths.Noise;
using GenerativePaths.Tensors;

namespace GenerativePaths.Cli;

/// <summary><c>gpaths demo</c>: shows the library at work on its built-in analytic model.</summary>
internal static class DemoCommand
{
    public static int Run(string[] args, TextWriter w)
    {
        if (args.Length > 0) throw new CommandLineException($"unknown option '{args[0]}' for 'demo'.");
        const int batch = 4, dim = 16384;
        using var x = BatchTensor<float>.Allocate(batch, dim);
        using var eps = BatchTensor<float>.Allocate(batch, dim);
        var noise = new PhiloxNoise(seed: 42);
        noise.Fill(x, stream: 0);
        noise.Fill(eps, stream: 1);
        w.WriteLine($"Tensor core: {x} filled with Philox4x32-10 normals (seed 42).");
        Span<double> ss = stackalloc double[batch];
        TensorReductions.SumOfSquares(x, ss);
        for (int b = 0; b < batch; b++)
            w.WriteLine($"  sample {b}: mean square {ss[b] / dim:F4} (expected 1)");
        var sw = Stopwatch.StartNew();
        for (int k = 0; k < 100; k++)
            TensorKernels.LinearCombination(x.Span, 0.9f, x.Span, 0.1f, eps.Span);
        sw.Stop();
        w.WriteLine($"  100 fused updates x = 0.9 x + 0.1 eps over {batch * dim} floats: {sw.Elapsed.TotalMicroseconds / 100:F1} us each");
        return 0;
    }
}
