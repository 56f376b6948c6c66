using System.Text.Json;
using System.Text.Json.Nodes;
using GenerativePaths.Configs;
using GenerativePaths.Models;
using GenerativePaths.Ode;
using GenerativePaths.Samplers;
using GenerativePaths.Schedules;
using GenerativePaths.Tensors;
using Xunit;

namespace GenerativePaths.Tests.Docs;

/// <summary>
/// Every snippet of <c>docs/migration.md</c>, copied verbatim between the <c>// snippet</c> markers, run against an independent
/// oracle: the shared diffusers and k-diffusion reference runs, and the closed-form solution of a rotation ODE.
/// <see cref="EverySnippetOfThePageIsInThisFile"/> fails when the page and this file drift apart.
/// </summary>
public sealed class MigrationSnippetTests
{
    private static double[][] Rows(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();

    private static GaussianMixture Mixture(JsonElement root)
    {
        var g = root.GetProperty("gmm");
        return GaussianMixture.Isotropic(g.GetProperty("weights").EnumerateArray().Select(v => v.GetDouble()).ToArray(),
            Rows(g.GetProperty("means")), g.GetProperty("stds").EnumerateArray().Select(v => v.GetDouble()).ToArray());
    }

    private static double MaxAbs(ReadOnlySpan<float> actual, double[][] expected)
    {
        double worst = 0;
        int k = 0;
        foreach (var row in expected)
            foreach (double e in row) worst = Math.Max(worst, Math.Abs(actual[k++] - e));
        Assert.Equal(k, actual.Length);
        return worst;
    }

    // The shared diffusers run: EulerDiscreteScheduler with Karras sigmas, 15 steps, on an epsilon model of a Gaussian mixture.
    // Its configuration is shipped here as another class (PNDM), so that the snippet's from_config swap has to produce it.
    private static (string SchedulerConfigJson, float[][] Randn, GaussianMixture Mixture, JsonElement Root) DiffusersCase(JsonDocument doc)
    {
        var root = doc.RootElement;
        Assert.Equal("epsilon", root.GetProperty("model_output").GetString());
        var cfg = JsonObject.Create(root.GetProperty("config"))!;
        Assert.True(cfg.Remove("use_karras_sigmas"));
        cfg["_class_name"] = "PNDMScheduler";
        var randn = Rows(root.GetProperty("x_init")).Select(r => r.Select(v => (float)v).ToArray()).ToArray();
        return (cfg.ToJsonString(), randn, Mixture(root), root);
    }

    [Fact]
    public void DiffusersFromConfigAndStepLoopGiveThePeersLatents()
    {
        using var doc = ReferenceCases.Load("diffusers_euler_karras_15.json");
        var (schedulerConfigJson, randn, mixture, root) = DiffusersCase(doc);

        // snippet 1
        // scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config, use_karras_sigmas=True)
        var shipped = DiffusersSchedulerConfig.Parse(schedulerConfigJson);
        var config = shipped.WithClass("EulerDiscreteScheduler", new Dictionary<string, JsonNode?> { ["use_karras_sigmas"] = true });

        // scheduler.set_timesteps(15)
        var schedule = config.CreateSchedule(15);
        var sampler = config.CreateSampler();                 // the class's step rule (here EulerSampler)

        // latents = torch.randn(shape) * scheduler.init_noise_sigma
        using var latents = BatchTensor<float>.FromRows(randn);
        float initNoiseSigma = (float)config.InitNoiseSigma(schedule);
        foreach (ref float v in latents.Span) v *= initNoiseSigma;

        // for t in scheduler.timesteps: latents = scheduler.step(unet(scheduler.scale_model_input(latents, t), t), t, latents).prev_sample
        var unet = new GaussianMixtureModel<float>(mixture, config.Prediction, config.ModelTimeMap);   // your network
        SamplingLoop.Run(unet, latents, schedule, sampler);
        // end snippet

        Assert.Equal(typeof(EulerSampler), sampler.GetType());
        Assert.Equal(14.614645004272461, config.PeerInitNoiseSigma(schedule), 5); // diffusers' attribute, as the run lists it
        double worst = MaxAbs(latents.Span, Rows(root.GetProperty("x_final")));
        Assert.True(worst <= 1e-3, $"max abs difference to diffusers' final latents: {worst:E3}");

        // The peer's attribute as a factor of the library's state: the wrong scale, far outside the tolerance.
        using var wrong = BatchTensor<float>.FromRows(randn);
        foreach (ref float v in wrong.Span) v *= (float)config.PeerInitNoiseSigma(schedule);
        SamplingLoop.Run(unet, wrong, schedule, sampler);
        Assert.True(MaxAbs(wrong.Span, Rows(root.GetProperty("x_final"))) > 0.1);
    }

    [Fact]
    public void OwningTheLoopGivesDiffusersLatentsAtEveryStep()
    {
        using var doc = ReferenceCases.Load("diffusers_euler_karras_15.json");
        var (schedulerConfigJson, randn, mixture, root) = DiffusersCase(doc);
        var config = DiffusersSchedulerConfig.Parse(schedulerConfigJson)
            .WithClass("EulerDiscreteScheduler", new Dictionary<string, JsonNode?> { ["use_karras_sigmas"] = true });
        var unet = new GaussianMixtureModel<float>(mixture, config.Prediction, config.ModelTimeMap);

        // snippet 2
        var plan = config.CreatePlan(15);                     // schedule, sampler, time map and start scale in one object
        using var x = BatchTensor<float>.FromRows(randn);
        foreach (ref float v in x.Span) v *= (float)plan.InitialScale;   // = config.InitNoiseSigma(plan.Schedule)

        var state = new SamplerState<float>(plan.PrepareModel(unet), plan.Schedule, x);
        var trajectory = new List<float[]>();
        for (int i = 0; i < plan.Schedule.StepCount; i++)     // for i, t in enumerate(scheduler.timesteps)
        {
            state.BeginStep(i);
            plan.Sampler.Step(state, i);                      // latents = scheduler.step(noise_pred, t, latents).prev_sample
            float toDiffusers = (float)plan.PeerSampleScale(i + 1);   // 1 / alpha for the Euler family, else 1
            trajectory.Add(state.X.Span.ToArray().Select(v => v * toDiffusers).ToArray());   // diffusers' latents after step i
        }
        // end snippet

        var peer = root.GetProperty("trajectory").EnumerateArray().Select(Rows).ToArray();
        Assert.Equal(peer.Length, trajectory.Count);
        for (int i = 0; i < peer.Length; i++)
        {
            double worst = MaxAbs(trajectory[i], peer[i]);
            Assert.True(worst <= 1e-3 * Math.Max(1, 1 / plan.Schedule[i + 1].Alpha), $"step {i}: max abs difference to diffusers' latents {worst:E3}");
        }
    }

    [Fact]
    public void KDiffusionSampleEulerGivesThePeersSamples()
    {
        using var doc = ReferenceCases.Load("kdiffusion_euler_karras_10.json");
        var root = doc.RootElement;
        Assert.Equal("k-diffusion sample_euler", root.GetProperty("peer").GetString());
        Assert.Equal("denoised_x0_ve", root.GetProperty("model_output").GetString());
        var randn = Rows(root.GetProperty("x_init"));
        var mixture = Mixture(root);

        // snippet 3
        // sigmas = K.sampling.get_sigmas_karras(10, sigma_min, sigma_max, device=...)   (the numbers k-diffusion printed)
        double[] sigmas = [14.614602088928223, 9.103404998779297, 5.4790263175964355, 3.169205904006958, 1.7499018907546997,
            0.9144204258918762, 0.4471447765827179, 0.20153193175792694, 0.08198097348213196, 0.02920001931488514, 0.0];
        var schedule = StepSchedules.FromVeSigmas(sigmas);    // alpha = 1, model time = sigma

        // x = torch.randn(shape) * sigmas[0]
        using var x = BatchTensor<double>.FromRows(randn);
        schedule.Start(x);

        // x = K.sampling.sample_euler(denoiser, x, sigmas)   where denoiser(x, sigma) returns the denoised x0
        var denoiser = new GaussianMixtureModel<double>(mixture, Prediction.Data, ModelTimeMaps.VarianceExploding());
        var sampler = SamplerCatalog.Find("sample_euler").Create();
        SamplingLoop.Run(denoiser, x, schedule, sampler);
        // end snippet

        Assert.Equal(root.GetProperty("sigmas").EnumerateArray().Select(v => v.GetDouble()).ToArray(), sigmas);
        var expected = Rows(root.GetProperty("x_final"));
        double worst = 0;
        for (int b = 0; b < expected.Length; b++)
            for (int j = 0; j < expected[b].Length; j++) worst = Math.Max(worst, Math.Abs(x.Row(b)[j] - expected[b][j]));
        Assert.True(worst <= 1e-9, $"max abs difference to k-diffusion's samples: {worst:E3}");
    }

    [Fact]
    public void OdeintMapsToSolveWithSaveTimesAndToSolveFixed()
    {
        // snippet 4
        // y = odeint(func, y0, t=torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0]), method="dopri5", rtol=1e-8, atol=1e-10)
        OdeFunction<double> func = (t, y, dydt) =>           // func(t, y) -> dy/dt, for every row (sample) of the batch
        {
            for (int b = 0; b < y.BatchSize; b++)
            {
                var s = y.Row(b); var d = dydt.Row(b);
                d[0] = s[1];                                  // a rotation: y = (cos t, -sin t) from (1, 0)
                d[1] = -s[0];
            }
        };
        using var y0 = BatchTensor<double>.FromRows([[1.0, 0.0]]);
        var problem = new OdeProblem<double>(func, y0, t0: 0.0, t1: 2.0);
        var options = new OdeOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10, SaveTimes = [0.5, 1.0, 1.5, 2.0] };
        using var solution = OdeSolver.Solve(problem, EmbeddedTableau.DormandPrince54, options);
        // torchdiffeq's y[k] for k >= 1 is solution.SavedStates[k - 1]; y[0] is y0; solution.FinalState is y(2).

        // odeint(func, y0, t, method="rk4", options=dict(step_size=0.01))
        using var fixedStep = OdeSolver.SolveFixed(problem, ButcherTableau.ThreeEighths, steps: 200);
        // end snippet

        Assert.Equal(OdeStatus.Success, solution.Status);
        double[] times = [0.5, 1.0, 1.5, 2.0];
        Assert.Equal(times.Length, solution.SavedStates.Count);
        for (int k = 0; k < times.Length; k++)
        {
            // The closed form of y0' = y1, y1' = -y0 from (1, 0).
            Assert.True(Math.Abs(solution.SavedStates[k].Span[0] - Math.Cos(times[k])) <= 1e-7, $"y0({times[k]})");
            Assert.True(Math.Abs(solution.SavedStates[k].Span[1] + Math.Sin(times[k])) <= 1e-7, $"y1({times[k]})");
        }
        Assert.True(Math.Abs(solution.FinalState.Span[0] - Math.Cos(2)) <= 1e-7);
        Assert.Equal(OdeStatus.Success, fixedStep.Status);
        Assert.True(Math.Abs(fixedStep.FinalState.Span[0] - Math.Cos(2)) <= 1e-7);
        Assert.True(Math.Abs(fixedStep.FinalState.Span[1] + Math.Sin(2)) <= 1e-7);
    }

    [Fact]
    public void EverySnippetOfThePageIsInThisFile()
    {
        string page = File.ReadAllText(Path.Combine(ReferenceCases.RepositoryRoot, "docs", "migration.md"));
        string self = File.ReadAllText(Path.Combine(ReferenceCases.RepositoryRoot, "tests", "GenerativePaths.Tests", "Docs", "MigrationSnippetTests.cs"));
        static string Norm(string s) => string.Join("\n", s.Replace("\r", "").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
        var blocks = System.Text.RegularExpressions.Regex.Matches(page.Replace("\r", ""), "```csharp\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.Equal(4, blocks.Count);
        var snippets = System.Text.RegularExpressions.Regex.Matches(self.Replace("\r", ""), "// snippet \\d\n(.*?)// end snippet", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.Equal(4, snippets.Count);
        for (int i = 0; i < 4; i++)
            Assert.True(Norm(blocks[i].Groups[1].Value) == Norm(snippets[i].Groups[1].Value), $"snippet {i + 1} of docs/migration.md differs from its test");
    }
}
