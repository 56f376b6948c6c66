using System.Numerics;
using GenerativePaths.Tensors;

namespace GenerativePaths.Ode;

/// <summary>How each sample of a solve ended, and the first failure (sample and time).</summary>
/// <remarks>Thread safety: one per solve; not shared.</remarks>
internal sealed class SolveOutcome
{
    public SolveOutcome(int batch)
    {
        Status = new OdeStatus[batch];
        EventTimes = new double[batch];
        Array.Fill(EventTimes, double.NaN);
    }

    public OdeStatus[] Status { get; }

    public double[] EventTimes { get; }

    public int FailedSample { get; set; } = -1;

    public double FailedTime { get; private set; } = double.NaN;

    public bool HasFailed => FailedSample >= 0;

    /// <summary>Ends sample <paramref name="b"/> with <paramref name="status"/>; the first failure names the sample and time.</summary>
    public void Fail(bool[] active, int b, OdeStatus status, double time)
    {
        active[b] = false;
        Status[b] = status;
        if (FailedSample < 0) { FailedSample = b; FailedTime = time; }
    }

    /// <summary>Ends every sample still running with <paramref name="status"/>.</summary>
    public void EndAll(bool[] active, OdeStatus status)
    {
        for (int b = 0; b < active.Length; b++)
            if (active[b]) { active[b] = false; Status[b] = status; }
    }

    /// <summary>The overall status: the first failure's, else <see cref="OdeStatus.TerminatedByEvent"/> if an event fired, else success.</summary>
    public OdeStatus Overall()
    {
        OdeStatus overall = OdeStatus.Success;
        for (int b = 0; b < Status.Length; b++)
        {
            if (Status[b] is OdeStatus.Success) continue;
            if (Status[b] is OdeStatus.TerminatedByEvent) { if (overall == OdeStatus.Success) overall = Status[b]; continue; }
            overall = Status[FailedSample >= 0 ? FailedSample : b];
            if (FailedSample < 0) FailedSample = b;
            break;
        }
        return overall;
    }
}

/// <summary>Step-size bookkeeping around one step: the sizes to attempt, the accept/reject decision with the controller's
/// factor, and the commit of accepted samples (OrdinaryDiffEq.jl's <c>step_accept_controller!</c> / <c>step_reject_controller!</c> call sites).</summary>
/// <remarks>
/// <para>Attempt: <c>h = min(h, MaxStep)</c>, shortened to land on t1; a NaN size ends the sample with <see cref="OdeStatus.NonFiniteStepSize"/>,
/// a size with <c>t + h == t</c> with <see cref="OdeStatus.StepSizeUnderflow"/>.</para>
/// <para>Accept when finite and <c>err &lt;= 1</c> (any finite step without error control): <c>h = |h| min(q_accept, 1 if just rejected)</c>,
/// kept when the step was shortened to land. Reject: <c>h = |h| q_reject</c> (<c>q_min</c> for a non-finite step); below
/// <c>max(MinStep, 16 eps_min + 1e-14 max(|t|, |t1|))</c> the sample ends with underflow (or non-finite state).</para>
/// <para>Thread safety: stateless; writes only the workspace and the outcome.</para>
/// </remarks>
internal static class StepAcceptance<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Writes the signed step <c>Hs</c> of each active sample; false when the solve cannot go on.</summary>
    public static bool ChooseSteps(AdaptiveWorkspace<T> w, SolveOutcome outcome, double maxStep, double t1, double dir, bool perSample)
    {
        for (int b = 0; b < w.Batch; b++)
        {
            if (!w.Active[b]) { w.Hs[b] = 0; w.Lands[b] = false; continue; }
            double remaining = Math.Abs(t1 - w.Time[b]);
            double hb = Math.Min(w.H[b], maxStep);
            if (double.IsNaN(hb) || double.IsInfinity(hb)) { outcome.Fail(w.Active, b, OdeStatus.NonFiniteStepSize, w.Time[b]); w.Hs[b] = 0; continue; }
            w.Lands[b] = hb >= remaining;
            if (w.Lands[b]) hb = remaining;
            else if (w.Time[b] + dir * hb == w.Time[b]) { outcome.Fail(w.Active, b, OdeStatus.StepSizeUnderflow, w.Time[b]); w.Hs[b] = 0; continue; }
            w.Hs[b] = dir * hb;
        }
        if (outcome.HasFailed && !perSample) { outcome.EndAll(w.Active, outcome.Status[outcome.FailedSample]); return false; }
        return w.AnyActive();
    }

    /// <summary>Accepts or rejects each active sample's step (identical decisions under shared control); true when any was accepted.</summary>
    public static bool Decide(AdaptiveWorkspace<T> w, SolveOutcome outcome, IStepSizeController controller, OdeOptions o,
        double order, in StepSizeLimits limits, double t1, bool perSample)
    {
        bool adaptive = controller.IsAdaptive, anyAccepted = false;
        int ml = controller.MemoryLength;
        for (int b = 0; b < w.Batch; b++)
        {
            w.Accepted[b] = false;
            if (!w.Active[b]) continue;
            double hb = Math.Abs(w.Hs[b]);
            double err = w.Norm[b];
            if (!w.NonFinite[b] && (err <= 1 || !adaptive))
            {
                w.Accepted[b] = true;
                anyAccepted = true;
                continue;
            }
            w.Rej[b]++;
            double fac = w.NonFinite[b] ? o.MinFactor : controller.RejectFactor(err, order, w.Memory.AsSpan(b * ml, ml), limits);
            w.H[b] = hb * fac;
            w.LastRejected[b] = true;
            double hMin = Math.Max(o.MinStep, 16 * double.Epsilon + 1e-14 * Math.Max(Math.Abs(w.Time[b]), Math.Abs(t1)));
            // Under shared control the whole batch fails together; the culprit is the first sample with a non-finite value.
            int culprit = perSample || !w.NonFinite[b] ? b : RungeKuttaStep<T>.NonFiniteCulprit(w);
            if (w.NonFinite[b] && (!TensorReductions.IsFinite<T>(w.K[0].Row(b)) || !adaptive))
                outcome.Fail(w.Active, culprit, OdeStatus.NonFiniteState, w.Time[b]);
            else if (double.IsNaN(w.H[b]))
                outcome.Fail(w.Active, culprit, OdeStatus.NonFiniteStepSize, w.Time[b]);
            else if (w.H[b] < hMin)
                outcome.Fail(w.Active, culprit, w.NonFinite[b] ? OdeStatus.NonFiniteState : OdeStatus.StepSizeUnderflow, w.Time[b]);
            if (!perSample && outcome.HasFailed) break;
        }
        if (!perSample && outcome.HasFailed) outcome.EndAll(w.Active, outcome.Status[outcome.FailedSample]);
        return anyAccepted;
    }

    /// <summary>Advances the accepted samples to their step ends, asks the controller for the next step, and ends samples
    /// that landed on t1 or met their event.</summary>
    public static void Commit(AdaptiveWorkspace<T> w, SolveOutcome outcome, IStepSizeController controller, double order, in StepSizeLimits limits)
    {
        int ml = controller.MemoryLength;
        for (int b = 0; b < w.Batch; b++)
        {
            w.HTaken[b] = 0;
            if (!w.Accepted[b]) continue;
            w.Acc[b]++;
            double hb = Math.Abs(w.Hs[b]);
            w.HTaken[b] = w.TEnd[b] - w.Time[b];
            w.Time[b] = w.TEnd[b];
            if (controller.IsAdaptive)
            {
                double fac = controller.AcceptFactor(w.Norm[b], order, w.Memory.AsSpan(b * ml, ml), limits);
                if (w.LastRejected[b]) fac = Math.Min(fac, 1);
                // A step shortened to land on t1 says little about the step the solution allows.
                w.H[b] = w.Lands[b] ? w.H[b] : hb * fac;
            }
            w.LastRejected[b] = false;
            if (w.Theta[b] < 1 || w.Crossed[b])
            {
                // Under shared control the batch stops with the first event; only samples whose function crossed record a time.
                w.Active[b] = false;
                outcome.Status[b] = OdeStatus.TerminatedByEvent;
                if (w.Crossed[b]) outcome.EventTimes[b] = w.TEnd[b];
            }
            else if (w.Lands[b]) { w.Active[b] = false; outcome.Status[b] = OdeStatus.Success; }
        }
    }
}
