using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Configs;

/// <summary>
/// The multistep solvers on integer timesteps in the path's own coordinates: <c>DPMSolverMultistepScheduler</c> and
/// <c>UniPCMultistepScheduler</c> (scheduling_dpmsolver_multistep.py, scheduling_unipc_multistep.py, <c>set_timesteps</c>): the
/// timesteps of <c>linspace(0, T - 1 - clipped, N + 1)</c> without the last, or a Karras/exponential plan whose timesteps are
/// rounded (DPM-Solver) or truncated (UniPC exponential), ending at sigma 0 or at the smallest training sigma.
/// </summary>
internal sealed class DiffusersMultistepFamily : DiffusersSchedulerFamily
{
    public static DiffusersMultistepFamily Instance { get; } = new();

    public override IReadOnlyDictionary<string, (SamplerKind Sampler, SampleCoordinates Coordinates)> Classes { get; } =
        new Dictionary<string, (SamplerKind, SampleCoordinates)>
        {
            ["DPMSolverMultistepScheduler"] = (SamplerKind.DpmSolverMultistep, SampleCoordinates.Path),
            ["UniPCMultistepScheduler"] = (SamplerKind.UniPc, SampleCoordinates.Path),
            ["DEISMultistepScheduler"] = (SamplerKind.Deis, SampleCoordinates.Path),
            ["DPMSolverSinglestepScheduler"] = (SamplerKind.DpmSolverSinglestep, SampleCoordinates.Path),
            ["SASolverScheduler"] = (SamplerKind.SaSolver, SampleCoordinates.Path),
        };

    public override bool ReplacesZeroTerminal(SamplerKind kind) => true;

    public override void CheckPrediction(DiffusersSchedulerConfig c, string value)
    {
        if (value == "flow_prediction")
            throw c.Unsupported("prediction_type", value, "flow prediction needs use_flow_sigmas, which is not supported");
    }

    public override bool VarianceTypeMeansLearnedChannels(SamplerKind kind) => kind is SamplerKind.DpmSolverMultistep or SamplerKind.DpmSolverSinglestep;

    // DPM-Solver single-step defaults to lower_order_final = false (and turns it on for a final sigma of 0, see CreateSampler).
    public override bool DefaultLowerOrderFinal(SamplerKind kind) => kind != SamplerKind.DpmSolverSinglestep;

    public override string DefaultSolverType(SamplerKind kind) => kind switch
    {
        SamplerKind.UniPc => "bh2",
        SamplerKind.Deis => "logrho",
        _ => "midpoint",
    };

    // diffusers maps the other family's names: DPM-Solver turns logrho/bh1/bh2 into midpoint; UniPC turns midpoint/heun/logrho
    // into bh2; DEIS turns every name into logrho.
    public override SolverType MapSolverType(SamplerKind kind, SolverType value) => kind switch
    {
        SamplerKind.UniPc => value is SolverType.Midpoint or SolverType.Heun or SolverType.LogRho ? SolverType.Bh2 : value,
        SamplerKind.Deis => SolverType.LogRho,
        _ => value is SolverType.Bh1 or SolverType.Bh2 or SolverType.LogRho ? SolverType.Midpoint : value,
    };

    // DEIS has no final_sigmas_type: its plan always ends at the smallest training sigma (or repeats the last Karras sigma).
    private static bool EndsAtSigmaMin(SamplerKind kind) => kind is SamplerKind.Deis or SamplerKind.SaSolver;

    public override bool ReadsThresholding(SamplerKind kind) => true;

    public override void ReadFields(DiffusersSchedulerConfig c)
    {
        if (EndsAtSigmaMin(c.Sampler)) c.FinalSigmasType = FinalSigmasType.SigmaMin;
        if (c.Sampler == SamplerKind.SaSolver)
        {
            c.PredictorOrder = c.Int("predictor_order", 2);
            c.CorrectorOrder = c.Int("corrector_order", 2);
            if (c.PredictorOrder is < 1 or > 3) throw c.Unsupported("predictor_order", c.PredictorOrder.ToString(System.Globalization.CultureInfo.InvariantCulture), "the library's SA-Solver has predictor orders 1 to 3");
            if (c.CorrectorOrder is < 1 or > 3) throw c.Unsupported("corrector_order", c.CorrectorOrder.ToString(System.Globalization.CultureInfo.InvariantCulture), "the library's SA-Solver has corrector orders 1 to 3");
            if (c.UseExponentialSigmas) throw c.Unsupported("use_exponential_sigmas", "true", "SASolverScheduler's exponential plan (fractional timesteps) is not supported");
        }
        if (c.Sampler == SamplerKind.Deis && c.AlgorithmType != DpmAlgorithmType.Deis)
            throw c.Unsupported("algorithm_type", c.AlgorithmType.ToString(), "DEISMultistepScheduler implements only algorithm_type deis");
        if (c.UseExponentialSigmas && c.Sampler is SamplerKind.DpmSolverMultistep or SamplerKind.DpmSolverSinglestep)
            throw c.Unsupported("use_exponential_sigmas", "true", $"exponential sigmas are not supported for {c.ClassName}");
    }

    public override StepSchedule CreateSchedule(DiffusersSchedulerConfig c, int steps, double? mu)
    {
        int T = c.NumTrainTimesteps;
        int lastTimestep = T;
        if (c.Sampler is SamplerKind.DpmSolverMultistep or SamplerKind.DpmSolverSinglestep or SamplerKind.SaSolver && double.IsFinite(c.LambdaMinClipped))
        {
            // searchsorted(flip(lambda_t), lambda_min_clipped): how many timesteps have lambda below the clip.
            int clipped = 0;
            for (int t = 0; t < T; t++)
            {
                double a = (float)c.AlphasCumprod[t];
                double lambda = 0.5 * Math.Log(a) - 0.5 * Math.Log(1 - a);
                if (lambda < c.LambdaMinClipped) clipped++;
            }
            lastTimestep = T - clipped;
            if (lastTimestep < 2)
                throw c.Invalid("lambda_min_clipped", c.LambdaMinClipped, $"clips {clipped} of the {T} training timesteps, leaving fewer than 2");
        }
        var tables = c.Tables;
        double[] ts, sig;
        if (c.UseKarrasSigmas)
        {
            sig = DiffusersSchedulerConfig.KarrasNoPin(steps, tables.Sigmas[0], tables.Sigmas[^1], c.KarrasRho);
            ts = sig.Select(s => Math.Round(tables.SigmaToT(s))).ToArray();
        }
        else if (c.UseExponentialSigmas)
        {
            // UniPC: log-uniform over the whole table; its timesteps are truncated to integers (astype int64), not rounded.
            sig = DiffusersSchedulerConfig.ExponentialNoPin(steps, tables.Sigmas[0], tables.Sigmas[^1]);
            ts = sig.Select(s => Math.Truncate(tables.SigmaToT(s))).ToArray();
        }
        else
        {
            ts = DiscreteTimesteps.IntegerDropLast(T, steps, c.TimestepSpacing, c.StepsOffset, lastTimestep);
            sig = ts.Select(tables.Interp).ToArray();
        }
        double last = c.FinalSigmasType == FinalSigmasType.Zero ? 0.0
            : c.Sampler is SamplerKind.UniPc or SamplerKind.Deis or SamplerKind.SaSolver && (c.UseKarrasSigmas || c.UseExponentialSigmas) ? sig[^1]
            : Math.Sqrt((1 - c.AlphasCumprod[0]) / c.AlphasCumprod[0]);
        return c.VeSchedule(sig, ts, last);
    }

    public override StepSchedule CreateScheduleFromTimesteps(DiffusersSchedulerConfig c, IReadOnlyList<double> timesteps)
        => DiffusersEulerFamily.FromTimesteps(c, timesteps, fractional: false);

    public override StepSchedule CreateScheduleFromSigmas(DiffusersSchedulerConfig c, IReadOnlyList<double> sigmas, double? mu)
        => DiffusersEulerFamily.FromSigmas(c, sigmas, round: true);

    public override DiffusersSchedulerOptions CreateOptions(DiffusersSchedulerConfig c)
        => new MultistepSolverOptions(c.SolverOrder, c.AlgorithmType, c.SolverType, c.LowerOrderFinal, c.EulerAtFinal, c.FinalSigmasType, c.LambdaMinClipped,
            c.PredictX0, c.DisableCorrector, c.PredictorOrder, c.CorrectorOrder, c.UseKarrasSigmas, c.UseExponentialSigmas, X0(c));

    public override Sampler? CreateSampler(DiffusersSchedulerConfig c, DiffusersStepArguments arguments, out string? why)
    {
        why = null;
        if (c.Sampler == SamplerKind.UniPc)
        {
            if (c.PredictX0)
                return new UniPcSampler(c.SolverOrder, c.SolverType == SolverType.Bh1 ? UniPcVariant.Bh1 : UniPcVariant.Bh2, c.LowerOrderFinal, c.DisableCorrector);
            why = $"UniPC order {c.SolverOrder} {c.SolverType} with noise prediction (predict_x0 = false)";
            return null;
        }
        if (c.Sampler == SamplerKind.Deis) return new DeisSampler(c.SolverOrder, c.LowerOrderFinal);
        if (c.Sampler == SamplerKind.SaSolver)
        {
            if (c.AlgorithmType == DpmAlgorithmType.DpmSolverPlusPlus) return new SaSolverSampler(c.PredictorOrder, c.CorrectorOrder, null, c.LowerOrderFinal);
            why = "SA-Solver with algorithm_type noise_prediction";
            return null;
        }
        var second = c.SolverType == SolverType.Heun ? DpmSolverSecondOrder.Heun : DpmSolverSecondOrder.Midpoint;
        if (c.Sampler == SamplerKind.DpmSolverSinglestep)
        {
            if (c.AlgorithmType == DpmAlgorithmType.DpmSolverPlusPlus)
                return new DpmSolverPlusPlusSinglestepSampler(c.SolverOrder, second, c.LowerOrderFinal || c.FinalSigmasType == FinalSigmasType.Zero);
            why = $"DPM-Solver single-step {c.AlgorithmType} order {c.SolverOrder}";
            return null;
        }
        if (c.Sampler == SamplerKind.DpmSolverMultistep && c.EulerAtFinal && c.FinalSigmasType != FinalSigmasType.Zero)
        {
            // The library's multistep samplers lower the last step's order for a final sigma of 0 or a short plan, not by this flag.
            why = "DPM-Solver with euler_at_final and final_sigmas_type sigma_min";
            return null;
        }
        if (c.AlgorithmType == DpmAlgorithmType.DpmSolverPlusPlus && c.SolverOrder == 2)
            return new DpmSolverPlusPlus2MSampler(second, c.LowerOrderFinal);
        if (c.AlgorithmType == DpmAlgorithmType.DpmSolverPlusPlus && c.SolverOrder == 3)
            return new DpmSolverPlusPlus3MSampler(second, c.LowerOrderFinal);
        if (c.AlgorithmType == DpmAlgorithmType.DpmSolverPlusPlus && c.SolverOrder == 1)
            return new DdimSampler();
        if (c.AlgorithmType == DpmAlgorithmType.SdeDpmSolverPlusPlus && c.SolverOrder == 2)
            return new DpmSolverPlusPlus2MSdeSampler(eta: 1.0, secondOrder: second, lowerOrderFinal: c.LowerOrderFinal);
        why = $"DPM-Solver {c.AlgorithmType} order {c.SolverOrder} {c.SolverType}";
        return null;
    }
}
