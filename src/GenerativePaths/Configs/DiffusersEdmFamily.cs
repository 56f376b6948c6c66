using System.Globalization;
using GenerativePaths.Models;
using GenerativePaths.Paths;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;

namespace GenerativePaths.Configs;

/// <summary>
/// The EDM classes <c>EDMEulerScheduler</c> and <c>EDMDPMSolverMultistepScheduler</c> (scheduling_edm_euler.py,
/// scheduling_edm_dpmsolver_multistep.py; Karras et al. 2022): the variance-exploding path <c>x = x0 + sigma eps</c>, a Karras
/// (<c>rho</c>) or exponential plan from <c>sigma_max</c> to <c>sigma_min</c> (float32), model time <c>c_noise = log(sigma) / 4</c>, the
/// model an <c>edm_F</c> network behind the preconditioning with <c>sigma_data</c> (<see cref="EdmPreconditionedModel{T}"/>).
/// </summary>
internal sealed class DiffusersEdmFamily : DiffusersSchedulerFamily
{
    public static DiffusersEdmFamily Instance { get; } = new();

    public override IReadOnlyDictionary<string, (SamplerKind Sampler, SampleCoordinates Coordinates)> Classes { get; } =
        new Dictionary<string, (SamplerKind, SampleCoordinates)>
        {
            ["EDMEulerScheduler"] = (SamplerKind.EdmEuler, SampleCoordinates.Path),
            ["EDMDPMSolverMultistepScheduler"] = (SamplerKind.EdmDpmSolverMultistep, SampleCoordinates.Path),
        };

    public override bool HasTrainingTable => false;

    public override void ReadFields(DiffusersSchedulerConfig c)
    {
        double lo = c.Double("sigma_min", 0.002), hi = c.Double("sigma_max", 80.0);
        if (!(lo > 0) || double.IsInfinity(lo)) throw c.Invalid("sigma_min", lo, "must be positive and finite");
        if (!(hi > lo) || double.IsInfinity(hi)) throw c.Invalid("sigma_max", hi, $"must be finite and larger than sigma_min = {lo.ToString(CultureInfo.InvariantCulture)}");
        c.SigmaMin = lo;
        c.SigmaMax = hi;
        c.SigmaData = c.Double("sigma_data", 0.5);
        if (!(c.SigmaData > 0) || double.IsInfinity(c.SigmaData)) throw c.Invalid("sigma_data", c.SigmaData, "must be positive and finite");
        c.Rho = c.Double("rho", 7.0);
        if (!(c.Rho > 0) || double.IsInfinity(c.Rho)) throw c.Invalid("rho", c.Rho, "must be positive and finite");
        string schedule = c.String("sigma_schedule", "karras");
        c.ExponentialSigmaSchedule = schedule switch
        {
            "karras" => false,
            "exponential" => true,
            _ => throw c.Unsupported("sigma_schedule", schedule, "use karras or exponential"),
        };
        string prediction = c.String("prediction_type", "epsilon");
        // diffusers' EDM schedulers use prediction_type only for the sign of c_out.
        c.EdmNegatedOutput = prediction switch
        {
            "epsilon" or "sample" => false,
            "v_prediction" => true,
            _ => throw c.Unsupported("prediction_type", prediction, "use epsilon or v_prediction"),
        };
        c.EdmPreconditioned = true;
        c.Prediction = Prediction.Data;
        string final = c.String("final_sigmas_type", "zero");
        c.FinalSigmasType = final switch
        {
            "zero" => FinalSigmasType.Zero,
            "sigma_min" => FinalSigmasType.SigmaMin,
            _ => throw c.Unsupported("final_sigmas_type", final, "use zero or sigma_min"),
        };
        c.SolverOrder = c.Int("solver_order", 2);
        if (c.SolverOrder is < 1 or > 3) throw c.Unsupported("solver_order", c.SolverOrder.ToString(CultureInfo.InvariantCulture), "solver_order must be 1, 2 or 3");
        string algorithm = c.String("algorithm_type", "dpmsolver++");
        c.AlgorithmType = algorithm switch
        {
            "dpmsolver++" => DpmAlgorithmType.DpmSolverPlusPlus,
            "sde-dpmsolver++" => DpmAlgorithmType.SdeDpmSolverPlusPlus,
            _ => throw c.Unsupported("algorithm_type", algorithm, "use dpmsolver++ or sde-dpmsolver++"),
        };
        string solver = c.String("solver_type", "midpoint");
        c.SolverType = solver switch
        {
            "midpoint" => SolverType.Midpoint,
            "heun" => SolverType.Heun,
            _ => throw c.Unsupported("solver_type", solver, "use midpoint or heun"),
        };
        c.LowerOrderFinal = c.Bool("lower_order_final", true);
        c.EulerAtFinal = c.Bool("euler_at_final", false);
        c.TimestepSpacing = TimestepSpacing.Linspace;
        c.Path = new VarianceExplodingPath(0.0, hi);
    }

    public override StepSchedule CreateSchedule(DiffusersSchedulerConfig c, int steps, double? mu)
    {
        double lo = c.SigmaMin!.Value, hi = c.SigmaMax!.Value;
        // EDMEuler builds the ramp in float64, EDMDPMSolverMultistep in float32 (torch.linspace's default); both store float32 sigmas.
        bool single = c.Sampler == SamplerKind.EdmDpmSolverMultistep;
        var sig = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            double ramp = DiscreteTimesteps.Linspace(0, 1, steps, i);
            if (c.ExponentialSigmaSchedule)
            {
                double l = DiscreteTimesteps.Linspace(Math.Log(lo), Math.Log(hi), steps, steps - 1 - i);
                sig[i] = single ? MathF.Exp((float)l) : Math.Exp(l);
            }
            else if (single)
            {
                float a = (float)Math.Pow(hi, 1 / c.Rho), d = (float)(Math.Pow(lo, 1 / c.Rho) - Math.Pow(hi, 1 / c.Rho));
                sig[i] = MathF.Pow(a + (float)ramp * d, (float)c.Rho);
            }
            else
            {
                double a = Math.Pow(hi, 1 / c.Rho), b = Math.Pow(lo, 1 / c.Rho);
                sig[i] = Math.Pow(a + ramp * (b - a), c.Rho);
            }
            sig[i] = (float)sig[i];
        }
        var points = sig.Select(s => new SchedulePoint(1.0, s, (float)(0.25 * Math.Log((float)s)))).ToList();
        double last = c.FinalSigmasType == FinalSigmasType.Zero ? 0.0 : single ? (float)lo : sig[^1];
        points.Add(new SchedulePoint(1.0, last, last == 0 ? 0.0 : (float)(0.25 * Math.Log(last))));
        return new StepSchedule(c.Path, points);
    }

    public override StepSchedule CreateScheduleFromTimesteps(DiffusersSchedulerConfig c, IReadOnlyList<double> timesteps)
        => throw new NotSupportedException($"{c.ClassName} takes sigmas, not timesteps.");

    public override StepSchedule CreateScheduleFromSigmas(DiffusersSchedulerConfig c, IReadOnlyList<double> sigmas, double? mu)
    {
        StepSchedules.ValidateDecreasing(sigmas, nameof(sigmas), "sigma", 0);
        var body = (sigmas[^1] == 0 ? sigmas.Take(sigmas.Count - 1) : sigmas).Select(s => (double)(float)s).ToList();
        if (body.Count > 0 && body[^1] == 0) throw new ArgumentException("Only the last sigma may be 0.", nameof(sigmas));
        var points = body.Select(s => new SchedulePoint(1.0, s, (float)(0.25 * Math.Log(s)))).ToList();
        points.Add(new SchedulePoint(1.0, 0.0, 0.0));
        return new StepSchedule(c.Path, points);
    }

    public override double InitNoiseSigma(DiffusersSchedulerConfig c, StepSchedule schedule)
        => Math.Sqrt(c.SigmaMax!.Value * c.SigmaMax.Value + 1);

    public override DiffusersSchedulerOptions CreateOptions(DiffusersSchedulerConfig c)
        => new EdmOptions(c.SigmaMin!.Value, c.SigmaMax!.Value, c.SigmaData, c.Rho, c.ExponentialSigmaSchedule, c.EdmNegatedOutput, c.FinalSigmasType,
            c.SolverOrder, c.AlgorithmType, c.SolverType, c.LowerOrderFinal);

    public override Sampler? CreateSampler(DiffusersSchedulerConfig c, DiffusersStepArguments arguments, out string? why)
    {
        why = null;
        if (c.Sampler == SamplerKind.EdmEuler)
            return new EulerSampler(arguments.SChurn ?? 0, arguments.STMin ?? 0, arguments.STMax ?? double.PositiveInfinity, arguments.SNoise ?? 1);
        var second = c.SolverType == SolverType.Heun ? DpmSolverSecondOrder.Heun : DpmSolverSecondOrder.Midpoint;
        if (c.AlgorithmType == DpmAlgorithmType.DpmSolverPlusPlus)
            return c.SolverOrder switch
            {
                1 => new DdimSampler(),
                2 => new DpmSolverPlusPlus2MSampler(second, c.LowerOrderFinal),
                _ => new DpmSolverPlusPlus3MSampler(second, c.LowerOrderFinal),
            };
        why = $"EDM DPM-Solver {c.AlgorithmType} order {c.SolverOrder}";
        return null;
    }
}
