using System.Numerics;
using GenerativePaths.Schedules;

namespace GenerativePaths.Samplers;

/// <summary>
/// DPM-Solver++(2M) SDE as diffusers' <c>DPMSolverMultistepScheduler</c> with <c>algorithm_type="sde-dpmsolver++"</c> runs it (Lu et al.
/// 2022, "DPM-Solver++", section 5 and appendix; Gonzalez et al. 2023, "SEEDS"). Internal to the importer: the public k-diffusion sampler
/// of the same rule (the k-diffusion work's <c>DpmSolverPlusPlus2MSdeSampler</c>) is meant to replace it when the branches meet.
/// </summary>
/// <remarks>
/// <para>With <c>lambda = log(alpha / sigma)</c>, <c>h = lambda' - lambda</c>, <c>m</c> the denoised estimates and <c>D1 = (m0 - m1) / r</c>,
/// <c>r = (lambda - lambda_prev) / h</c>:</para>
/// <para><c>x' = (sigma'/sigma) e^{-h} x + alpha' (1 - e^{-2h}) m0 + w alpha' D1 + sigma' sqrt(1 - e^{-2h}) z</c>, with <c>w = (1 - e^{-2h}) / 2</c>
/// (midpoint) or <c>w = (1 - e^{-2h}) / (-2h) + 1</c> (Heun), <c>w = 0</c> at first order (the first step, the last step of schedules of
/// fewer than 15 steps with <c>lowerOrderFinal</c>, and every step to <c>sigma' = 0</c>, which returns <c>alpha' m0</c>).
/// <c>e^{-h} = alpha sigma' / (alpha' sigma)</c> is computed as that ratio. Noise (stream = step index) is drawn on every step, as diffusers does.</para>
/// <para>Thread safety: immutable (it holds only its options); one instance may serve several threads and runs at once, each run with its own SamplerState.</para>
/// </remarks>
internal sealed class DiffusersDpmSolverPlusPlus2MSdeSampler(DpmSolverSecondOrder secondOrder, bool lowerOrderFinal) : Sampler
{
    public DpmSolverSecondOrder SecondOrder { get; } = secondOrder;

    public bool LowerOrderFinal { get; } = lowerOrderFinal;

    public override string Name => "dpmpp_2m_sde_diffusers";

    public override void Step<T>(SamplerState<T> state, int index)
    {
        CheckIndex(state, index);
        var schedule = state.Schedule;
        var from = schedule[index];
        var to = schedule[index + 1];
        if (StepFromCleanPoint(state, from, to)) { state.LastHistoryStep = -1; return; }
        var x = state.X;
        var (cx, cp) = state.EvaluateDeferred(x, from, state.ModelOutput);
        int history = MultistepHistory.Available(state, index, 1);
        state.LastHistoryStep = index;
        var m0 = MultistepHistory.Slot(state, index);
        state.CombineConsuming(state.ModelOutput, from, m0, cx, x, cp, state.ModelOutput);
        var z = state.Scratch(0);
        state.DrawNoise(index, z);
        if (to.Alpha == 0)
        {
            // Between zero-SNR points: x' = (sigma'/sigma) x (the noise term vanishes with e^{-2h} = 1).
            state.Combine(x, to.Sigma / from.Sigma, x);
            return;
        }
        double eh = from.Alpha * to.Sigma / (to.Alpha * from.Sigma); // e^{-h}
        double oneMinusE2 = 1 - eh * eh;
        double ofX = to.Sigma / from.Sigma * eh, ofM = to.Alpha * oneMinusE2, ofZ = to.Sigma * Math.Sqrt(Math.Max(0, oneMinusE2));
        int n = schedule.StepCount;
        bool firstOrder = history == 0 || to.Sigma == 0 || (LowerOrderFinal && index == n - 1 && n < 15);
        double h = to.LogSnr - from.LogSnr, r = 0;
        if (!firstOrder)
        {
            r = (from.LogSnr - schedule[index - 1].LogSnr) / h;
            firstOrder = !(r > 0) || double.IsInfinity(r) || !double.IsFinite(h);
        }
        if (firstOrder)
        {
            state.Combine(x, ofX, x, ofM, m0, ofZ, z);
            return;
        }
        double w = SecondOrder == DpmSolverSecondOrder.Midpoint ? 0.5 * oneMinusE2 : oneMinusE2 / (-2 * h) + 1;
        double ofD = to.Alpha * w / r;
        state.Combine(x, ofX, x, ofM + ofD, m0, -ofD, MultistepHistory.Slot(state, index - 1), ofZ, z);
    }
}
