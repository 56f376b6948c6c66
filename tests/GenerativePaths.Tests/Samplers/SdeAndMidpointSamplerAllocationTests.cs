using GenerativePaths.Models;
using GenerativePaths.Samplers;
using GenerativePaths.Tensors;
using Xunit;
using static GenerativePaths.Tests.Samplers.SamplerTestSupport;

namespace GenerativePaths.Tests.Samplers;

/// <summary>
/// The SDE, ancestral, midpoint and stochastic-Adams samplers keep their buffers and history rings in the state: a second run on a
/// reused state allocates nothing (named buffers, tagged rings, no per-step allocation).
/// </summary>
public class SdeAndMidpointSamplerAllocationTests
{
    /// <summary>A model that costs nothing, for the allocation check.</summary>
    private sealed class FreeModel : IGenerativeModel<float>
    {
        public Prediction Prediction => Prediction.Epsilon;
        public void Evaluate(BatchTensor<float> x, ReadOnlySpan<double> t, in ModelCondition condition, BatchTensor<float> output) { }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void ReusedStateRunAllocatesNothing(int k)
    {
        Sampler sampler = k switch
        {
            0 => new DpmSolverPlusPlus2MSdeSampler(),
            1 => new DpmSolverPlusPlus2MSdeSampler(secondOrder: DpmSolverSecondOrder.Heun, lowerOrderFinal: true),
            2 => new DpmSolverPlusPlus3MSdeSampler(),
            3 => new DpmSolverPlusPlusSdeSampler(),
            4 => new DpmSolverPlusPlus2SAncestralSampler(),
            5 => new DpmSolver2AncestralSampler(),
            6 => new DpmSolver2Sampler(),
            7 => new SaSolverSampler(3, 3),
            _ => new SaSolverSampler(),
        };
        var path = new TestCosinePath();
        var schedule = Schedule(path, Linspace(0.99, 0, 21));
        using var x = BatchTensor<float>.Allocate(2, 64);
        var state = new SamplerState<float>(new FreeModel(), schedule, x, new GenerativePaths.Noise.PhiloxNoise(1));
        SamplingLoop.Run(state, sampler);
        long before = GC.GetAllocatedBytesForCurrentThread();
        SamplingLoop.Run(state, sampler);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{sampler.Name}: a reused-state run of 20 steps allocated {allocated} bytes.");
    }
}
