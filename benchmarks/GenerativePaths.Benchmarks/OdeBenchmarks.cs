using BenchmarkDotNet.Attributes;
using GenerativePaths.Ode;
using GenerativePaths.Ode.Problems;
using GenerativePaths.Tensors;

namespace GenerativePaths.Benchmarks;

/// <summary>
/// Lotka–Volterra (2 states) from t = 0 to 10 at rtol = atol = 1e-8. The baseline evaluates the right-hand side as many
/// times as the solve does, so the ratio is the cost of the integrator per evaluation relative to the function itself.
/// Divide the mean by the evaluation count printed in the setup for microseconds per evaluation.
/// </summary>
[MemoryDiagnoser]
public class OdeLotkaVolterraBenchmarks
{
    private AdaptiveIntegrator<double> _integrator = null!;
    private OdeProblem<double> _problem = null!;
    private OdeOptions _options = null!;
    private BatchTensor<double> _y = null!, _dy = null!;
    private readonly double[] _t = [0.5];
    private long _evaluations;

    [Params("DP5", "Tsit5")]
    public string Method { get; set; } = "DP5";

    [GlobalSetup]
    public void Setup()
    {
        _y = BatchTensor<double>.FromRows([[1.0, 1.0]]);
        _dy = BatchTensor<double>.Allocate(1, 2);
        _problem = new OdeProblem<double>(ClassicProblems.LotkaVolterra<double>(), _y, 0, 10);
        _options = new OdeOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-8 };
        _integrator = new AdaptiveIntegrator<double>(EmbeddedTableau.FromName(Method), 1, 2);
        using var r = _integrator.Solve(_problem, _options);
        _evaluations = r.Statistics.Evaluations;
        Console.WriteLine($"// {Method}: {r.Statistics.Evaluations} evaluations, {r.Statistics.AcceptedSteps} accepted, {r.Statistics.RejectedSteps} rejected steps per solve");
    }

    [Benchmark(Baseline = true, Description = "f alone, same evaluation count")]
    public double FunctionOnly()
    {
        var f = _problem.Function;
        for (long i = 0; i < _evaluations; i++) f(_t, _y, _dy);
        return _dy.Span[0];
    }

    [Benchmark(Description = "adaptive solve")]
    public double Solve()
    {
        using var r = _integrator.Solve(_problem, _options);
        return r.FinalState.Span[0];
    }
}

/// <summary>
/// A 1,048,576-element linear problem <c>y' = -y</c> with Tsit5: time per accepted step against a memory copy of the
/// bytes one step must move (stage sums, function reads and writes, the fused error estimate, norm and finite check).
/// The baseline copies between twelve 8 MiB buffers in turn (96 MiB, like the integrator's eleven work tensors plus the
/// initial state): the solve streams from main memory, so its limit is a copy that does too. The earlier baseline copied
/// one 8 MiB buffer into another again and again; those 16 MiB stay in the 32 MiB L3 cache and run about 4x faster than
/// main memory, which is kept here as "cached copy" for comparison.
/// </summary>
[MemoryDiagnoser]
public class OdeLargeStateBenchmarks
{
    private const int N = 1 << 20;
    private AdaptiveIntegrator<double> _integrator = null!;
    private OdeProblem<double> _problem = null!;
    private OdeOptions _options = null!;
    private double[] _src = null!, _dst = null!;
    private long _steps, _evaluations;
    private int _copies;

    [GlobalSetup]
    public void Setup()
    {
        var y0 = BatchTensor<double>.Allocate(1, N);
        y0.Span.Fill(1);
        OdeFunction<double> f = (t, y, d) => TensorKernels.LinearCombination(d.Span, -1.0, y.Span);
        _problem = new OdeProblem<double>(f, y0, 0, 1);
        _options = new OdeOptions { RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-6, InitialStep = 0.05 };
        var m = EmbeddedTableau.Tsitouras54;
        _integrator = new AdaptiveIntegrator<double>(m, 1, N);
        using var r = _integrator.Solve(_problem, _options);
        _steps = r.Statistics.AcceptedSteps + r.Statistics.RejectedSteps;
        _evaluations = r.Statistics.Evaluations;
        // Passes over an N-element tensor per step, as the integrator makes them: each stage sum reads y and its nonzero k's
        // and writes one tensor, in chunks of at most six inputs (a chunk after the first re-reads the partial sum); each
        // evaluation reads one and writes one; the error sum likewise without y; the fused norm and finite check reads three.
        static long SumPasses(int terms, bool withBase)
        {
            long p = 0;
            int left = terms;
            bool first = true;
            while (left > 0)
            {
                bool lead = !first || withBase;
                int take = Math.Min(lead ? 5 : 6, left);
                p += (lead ? 1 : 0) + take + 1;
                left -= take;
                first = false;
            }
            return p;
        }
        long passes = 0;
        for (int i = 1; i < m.Stages; i++) { int nnz = 0; foreach (var a in m.ARow(i)) if (a != 0) nnz++; passes += SumPasses(nnz, true); }
        passes += 2L * (m.Stages - 1);
        int e = 0; foreach (var w in m.ErrorWeights) if (w != 0) e++;
        passes += e + 2; // the fused error norm reads the stages it weights, y and y_new, and writes nothing
        _copies = (int)((passes + 1) / 2); // a copy moves two passes (read + write)
        _src = new double[N]; _dst = new double[N];
        _ring = new double[Ring][];
        for (int i = 0; i < Ring; i++) { _ring[i] = new double[N]; _ring[i].AsSpan().Fill(i); }
        Console.WriteLine($"// {_steps} step attempts, {_evaluations} evaluations per solve; {passes} tensor passes per step = {passes * 8.0 * N / 1e6:F0} MB");
    }

    private const int Ring = 12;
    private double[][] _ring = null!;

    [Benchmark(Baseline = true, Description = "memory copy of the solve's bytes (96 MiB ring)")]
    public double CopyBaseline()
    {
        // Once per solve (the 3): copying y0 in, the first evaluation, copying the final state out.
        long total = _steps * _copies + 3;
        int from = 0;
        for (long c = 0; c < total; c++)
        {
            _ring[from].AsSpan().CopyTo(_ring[(from + 5) % Ring]);
            from = (from + 1) % Ring;
        }
        return _ring[0][0];
    }

    [Benchmark(Description = "cached copy (16 MiB, the earlier baseline)")]
    public double CachedCopy()
    {
        for (long s = 0; s < _steps; s++)
            for (int c = 0; c < _copies; c++) _src.AsSpan().CopyTo(_dst);
        for (int c = 0; c < 3; c++) _src.AsSpan().CopyTo(_dst);
        return _dst[0];
    }

    [Benchmark(Description = "Tsit5 solve")]
    public double Solve()
    {
        using var r = _integrator.Solve(_problem, _options);
        return r.FinalState.Span[0];
    }
}
