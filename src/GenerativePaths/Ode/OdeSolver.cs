using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>Entry points of the ODE integrators.</summary>
/// <remarks>
/// <para><see cref="Solve{T}(OdeProblem{T}, EmbeddedTableau, OdeOptions?, EventFunction{T}?, OdeObserver{T}?)"/>: adaptive embedded Runge–Kutta pairs with error
/// control, dense output, save times, terminal events, shared or per-sample step control
/// (see <see cref="AdaptiveIntegrator{T}"/>; reuse one integrator to avoid the per-solve setup).</para>
/// <para><see cref="SolveFixed{T}(OdeProblem{T}, ButcherTableau, int, bool, long)"/>: any explicit tableau on the uniform grid
/// <c>t_n = t0 + n (t1 - t0)/N</c>.</para>
/// <para>Thread safety: stateless; every call makes its own workspace, so calls may run on several threads at once.</para>
/// </remarks>
public static class OdeSolver
{
    /// <summary>Solves <paramref name="problem"/> adaptively with <paramref name="method"/>.</summary>
    /// <inheritdoc cref="AdaptiveIntegrator{T}.Solve(OdeProblem{T}, OdeOptions?, EventFunction{T}?, OdeObserver{T}?)"/>
    public static OdeResult<T> Solve<T>(OdeProblem<T> problem, EmbeddedTableau method, OdeOptions? options = null, EventFunction<T>? terminalEvent = null,
        OdeObserver<T>? observer = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(problem);
        var y0 = problem.InitialState;
        return new AdaptiveIntegrator<T>(method, y0.BatchSize, y0.SampleShape.ToArray()).Solve(problem, options, terminalEvent, observer);
    }

    /// <summary>Integrates with a fixed step: <paramref name="steps"/> steps of <c>h = (t1 - t0)/steps</c>.</summary>
    /// <param name="problem">The problem.</param>
    /// <param name="method">Any explicit tableau.</param>
    /// <param name="steps">The number of steps, at least 1.</param>
    /// <param name="saveSteps">True to return the state at every grid point <c>t_1 .. t_N</c> in <see cref="OdeResult{T}.SavedStates"/>.</param>
    /// <param name="maxEvaluations">Stops with <see cref="OdeStatus.EvaluationBudgetExhausted"/> before a step that would exceed it.</param>
    /// <remarks>Each step: <c>k_i = f(t + c_i h, y + h sum_j a_ij k_j)</c>, <c>y += h sum_i b_i k_i</c>. A NaN or infinity in a
    /// state ends the solve with <see cref="OdeStatus.NonFiniteState"/>, the time of the last finite state and the sample.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="steps"/> or <paramref name="maxEvaluations"/> is not positive.</exception>
    public static OdeResult<T> SolveFixed<T>(OdeProblem<T> problem, ButcherTableau method, int steps, bool saveSteps = false, long maxEvaluations = long.MaxValue)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(method);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvaluations, 1);
        var y0 = problem.InitialState;
        int B = y0.BatchSize, s = method.Stages;
        var shape = y0.SampleShape.ToArray();
        var y = y0.Clone();
        using var stage = BatchTensor<T>.Allocate(B, shape);
        var k = new BatchTensor<T>[s];
        for (int i = 0; i < s; i++) k[i] = BatchTensor<T>.Allocate(B, shape);
        var rows = new StageWeights[s];
        for (int i = 0; i < s; i++) rows[i] = new StageWeights(method.ARow(i));
        var bt = new StageWeights(method.B);
        var t = new double[B];
        var saveTimes = saveSteps ? new double[steps] : null;
        var saved = new BatchTensor<T>[saveSteps ? steps : 0];
        double t0 = problem.T0, t1 = problem.T1, h = (t1 - t0) / steps;
        long evals = 0, done = 0;
        var status = OdeStatus.Success;
        int failed = -1;
        double failedTime = double.NaN, tn = t0;
        for (int n = 0; n < steps; n++)
        {
            if (evals + s > maxEvaluations) { status = OdeStatus.EvaluationBudgetExhausted; break; }
            tn = t0 + n * h;
            for (int i = 0; i < s; i++)
            {
                var rowTerms = rows[i];
                BatchTensor<T> input = y;
                if (rowTerms.Count > 0)
                {
                    LinearSums.Combine(stage.Span, y.Span, h, rowTerms.Index, rowTerms.Weight, rowTerms.Count, k);
                    input = stage;
                }
                Array.Fill(t, tn + method.C[i] * h);
                problem.Function(t, input, k[i]);
                evals++;
            }
            LinearSums.Combine(stage.Span, y.Span, h, bt.Index, bt.Weight, bt.Count, k);
            int bad = TensorReductions.FirstNonFiniteSample(stage);
            if (bad >= 0) { status = OdeStatus.NonFiniteState; failed = bad; failedTime = tn; break; }
            stage.Span.CopyTo(y.Span);
            done++;
            tn = n == steps - 1 ? t1 : t0 + (n + 1) * h;
            if (saveSteps) { saveTimes![n] = tn; saved[n] = y.Clone(); }
        }
        foreach (var kk in k) kk.Dispose();
        if (saveSteps && done < steps)
        {
            for (int n = (int)done; n < steps; n++)
            {
                saveTimes![n] = n == steps - 1 ? t1 : t0 + (n + 1) * h;
                saved[n] = BatchTensor<T>.Allocate(B, shape);
                saved[n].Span.Fill(T.NaN);
            }
        }
        var times = new double[B];
        Array.Fill(times, tn);
        var statuses = new OdeStatus[B];
        Array.Fill(statuses, status);
        var stats = new OdeStatistics[B];
        Array.Fill(stats, new OdeStatistics(evals, done, 0));
        return new OdeResult<T>(status, y, times, statuses, new OdeStatistics(evals, done, 0), stats, failed, failedTime,
            saveTimes, saved, Enumerable.Repeat(double.NaN, B).ToArray(), null);
    }
}
