using System.Globalization;
using System.Text;
using System.Text.Json;
using GenerativePaths.Ode;
using GenerativePaths.Ode.Problems;
using GenerativePaths.Tensors;

namespace GenerativePaths.Cli;

/// <summary>
/// Runs the ODE reference cases of <c>shared/reference</c> (<c>ode_*.json</c>): every built-in adaptive pair at the case's
/// tolerances, compared with the reference end state and with the peer's work–precision points.
/// </summary>
internal static class OdeReference
{
    /// <summary>One of our work–precision points.</summary>
    internal sealed record Point(string Method, double Rtol, double Atol, long Nfe, double[] YEnd, double MaxAbsError, OdeStatus Status);

    /// <summary>One of the peer's work–precision points.</summary>
    internal sealed record PeerPoint(string Method, double Rtol, double Atol, long Nfe, double MaxAbsError);

    /// <summary>Everything a case run produced.</summary>
    internal sealed record CaseRun(string Name, IReadOnlyList<Point> Points, IReadOnlyList<PeerPoint> Peer, double[] Reference)
    {
        /// <summary>The tightest tolerance of the case.</summary>
        public double TightestRtol => Peer.Count > 0 ? Peer.Min(p => p.Rtol) : Points.Min(p => p.Rtol);

        /// <summary>The best error any method reached at the tightest tolerance.</summary>
        public double BestErrorAtTightest => Points.Where(p => p.Rtol == TightestRtol).Min(p => p.MaxAbsError);

        /// <summary>For each peer dopri5 point, the first of our points with no more evaluations and no larger error (or null).</summary>
        public IEnumerable<(PeerPoint Peer, Point? Ours)> Dopri5Comparison()
            => Peer.Where(p => p.Method == "dopri5")
                   .Select(pp => (pp, Points.Where(q => q.Nfe <= pp.Nfe && q.MaxAbsError <= pp.MaxAbsError)
                                            .OrderBy(q => q.Nfe).FirstOrDefault()));
    }

    public static ReferenceOutcome Run(string name, JsonElement root)
    {
        CaseRun run;
        try { run = RunCase(name, root); }
        catch (NotSupportedException e) { return ReferenceOutcome.NotSupported(e.Message); }

        var json = new StringBuilder();
        using (var stream = new MemoryStream())
        {
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("case", run.Name);
                w.WriteStartArray("work_precision");
                foreach (var p in run.Points)
                {
                    w.WriteStartObject();
                    w.WriteString("method", p.Method);
                    w.WriteNumber("rtol", p.Rtol);
                    w.WriteNumber("atol", p.Atol);
                    w.WriteNumber("nfe", p.Nfe);
                    w.WriteStartArray("y_end");
                    foreach (var v in p.YEnd) w.WriteNumberValue(v);
                    w.WriteEndArray();
                    if (double.IsFinite(p.MaxAbsError)) w.WriteNumber("max_abs_err", p.MaxAbsError);
                    else w.WriteNull("max_abs_err");
                    w.WriteString("status", p.Status.ToString());
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            json.Append(Encoding.UTF8.GetString(stream.ToArray()));
        }
        return new ReferenceOutcome(json.ToString(), run.BestErrorAtTightest, Table(run));
    }

    /// <summary>Runs every adaptive method at every tolerance of the case.</summary>
    /// <exception cref="NotSupportedException">The case's problem is not one the library knows.</exception>
    internal static CaseRun RunCase(string name, JsonElement root)
    {
        string problemName = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : name;
        double[] y0 = Doubles(root.GetProperty("y0"));
        double[] reference = Doubles(root.GetProperty("y_end_reference"));
        var span = Doubles(root.GetProperty("t_span"));
        if (span.Length != 2) throw new CommandLineException($"{name}: t_span must hold two times.");
        var (function, batch, rowLength) = ProblemOf(problemName, root, y0.Length);
        var peer = new List<PeerPoint>();
        if (root.TryGetProperty("peer_work_precision", out var pw))
            foreach (var e in pw.EnumerateArray())
                peer.Add(new PeerPoint(e.GetProperty("method").GetString()!, e.GetProperty("rtol").GetDouble(), e.GetProperty("atol").GetDouble(),
                    e.GetProperty("nfe").GetInt64(), e.GetProperty("max_abs_err").GetDouble()));
        var tolerances = peer.Select(p => (p.Rtol, p.Atol)).Distinct().OrderByDescending(p => p.Rtol).ToList();
        if (tolerances.Count == 0) tolerances = [(1e-3, 1e-3), (1e-5, 1e-5), (1e-7, 1e-7), (1e-9, 1e-9)];
        // The work-precision curve: the case's tolerances plus half-decade points between and one beyond the loosest.
        var sweep = new List<(double Rtol, double Atol)>();
        for (int i = 0; i < tolerances.Count; i++)
        {
            var (r, a) = tolerances[i];
            if (i == 0) sweep.Add((r * Math.Sqrt(10), a * Math.Sqrt(10)));
            else sweep.Add((Math.Sqrt(r * tolerances[i - 1].Rtol), Math.Sqrt(a * tolerances[i - 1].Atol)));
            sweep.Add((r, a));
        }

        using var init = BatchTensor<double>.Allocate(batch, rowLength);
        y0.CopyTo(init.Span);
        var problem = new OdeProblem<double>(function, init, span[0], span[1]);
        var points = new List<Point>();
        foreach (var method in EmbeddedTableau.AdaptiveMethods)
        {
            var integrator = new AdaptiveIntegrator<double>(method, batch, rowLength);
            foreach (var (rtol, atol) in sweep)
            {
                using var result = integrator.Solve(problem, new OdeOptions { RelativeTolerance = rtol, AbsoluteTolerance = atol, MaxEvaluations = 250_000 });
                var yEnd = result.FinalState.Span.ToArray();
                double err = 0;
                for (int i = 0; i < yEnd.Length; i++) err = Math.Max(err, Math.Abs(yEnd[i] - reference[i]));
                if (!double.IsFinite(err) || !result.Succeeded) err = double.PositiveInfinity;
                points.Add(new Point(method.Name, rtol, atol, result.Statistics.Evaluations, yEnd, err, result.Status));
            }
        }
        return new CaseRun(name, points, peer, reference);
    }

    private static (OdeFunction<double> F, int Batch, int Row) ProblemOf(string problemName, JsonElement root, int n)
    {
        switch (problemName)
        {
            case "lotka_volterra": return (ClassicProblems.LotkaVolterra<double>(), 1, n);
            case "van_der_pol_mu1": return (ClassicProblems.VanDerPol<double>(1), 1, n);
            case "arenstorf": return (ClassicProblems.Arenstorf<double>(), 1, n);
            case "gmm_probability_flow_ve":
            {
                var g = root.GetProperty("gmm");
                var weights = Doubles(g.GetProperty("weights"));
                var means = g.GetProperty("means").EnumerateArray().Select(Doubles).ToArray();
                var stds = Doubles(g.GetProperty("stds"));
                var gmm = new GaussianMixtureFlow(weights, means, stds);
                int d = gmm.Dimension;
                if (n % d != 0) throw new CommandLineException($"{problemName}: y0 has {n} values, not a whole number of samples of dimension {d}.");
                return (gmm.ProbabilityFlow<double>(), n / d, d);
            }
            default: throw new NotSupportedException($"the ODE problem '{problemName}' is not one of the library's problems.");
        }
    }

    private static string[] Table(CaseRun run)
    {
        var lines = new List<string>();
        var ci = CultureInfo.InvariantCulture;
        lines.Add($"{run.Name}: work-precision (max-abs error of the end state vs the reference; nfe = function evaluations)");
        var methods = run.Points.Select(p => p.Method).Distinct().ToList();
        var peerMethods = run.Peer.Select(p => p.Method).Distinct().ToList();
        var header = new StringBuilder("  rtol=atol ");
        foreach (var m in methods) header.Append(ci, $"| {m,-20}");
        foreach (var m in peerMethods) header.Append(ci, $"| torchdiffeq {m,-8} ");
        lines.Add(header.ToString());
        foreach (var tol in run.Points.Select(p => p.Rtol).Distinct())
        {
            var row = new StringBuilder(string.Format(ci, "  {0,-9:G3} ", tol));
            foreach (var m in methods)
            {
                var p = run.Points.First(q => q.Method == m && q.Rtol == tol);
                row.Append(p.Status == OdeStatus.Success
                    ? string.Format(ci, "| {0,7} {1,11:E2} ", p.Nfe, p.MaxAbsError)
                    : string.Format(ci, "| {0,7} {1,-11} ", p.Nfe, p.Status == OdeStatus.EvaluationBudgetExhausted ? "budget" : p.Status.ToString()));
            }
            foreach (var m in peerMethods)
            {
                var p = run.Peer.FirstOrDefault(q => q.Method == m && q.Rtol == tol);
                row.Append(p is null ? "|                      " : string.Format(ci, "| {0,7} {1,11:E2}  ", p.Nfe, p.MaxAbsError));
            }
            lines.Add(row.ToString());
        }
        foreach (var (peer, ours) in run.Dopri5Comparison())
            lines.Add(ours is null
                ? string.Format(ci, "  dopri5 at {0:G3} ({1} nfe, error {2:E2}): NOT matched by any of our points", peer.Rtol, peer.Nfe, peer.MaxAbsError)
                : string.Format(ci, "  dopri5 at {0:G3} ({1} nfe, error {2:E2}): beaten by {3} at {4:G3} ({5} nfe, error {6:E2})",
                    peer.Rtol, peer.Nfe, peer.MaxAbsError, ours.Method, ours.Rtol, ours.Nfe, ours.MaxAbsError));
        lines.Add(string.Format(ci, "  best error at the tightest tolerance {0:G3}: {1:E3}", run.TightestRtol, run.BestErrorAtTightest));
        return [.. lines];
    }

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
}
