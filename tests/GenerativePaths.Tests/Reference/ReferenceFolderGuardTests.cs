using GenerativePaths.Cli;
using Xunit;

namespace GenerativePaths.Tests.Reference;

/// <summary>
/// The guard that every k-diffusion and ODE case in <c>../shared/reference</c> is run through <c>gpaths reference</c>: a supported case
/// must pass (exit 0), an expected-unsupported one must exit 3 and moves to the supported list once its sampler lands (the test then
/// fails, saying so). The diffusers cases have their own guard in <c>DiffusersReferenceScheduleTests</c>.
/// </summary>
public class ReferenceFolderGuardTests
{
    internal static readonly string[] Supported =
    [
        "kdiffusion_dpm_2_ancestral_karras_10_eta10.json",
        "kdiffusion_dpm_2_karras_10.json",
        "kdiffusion_dpm_adaptive_adaptive_default.json",
        "kdiffusion_dpm_fast_10_default.json",
        "kdiffusion_dpmpp_2m_sde_exponential_12_eta05_solver_typeheun.json",
        "kdiffusion_dpmpp_2m_sde_karras_10_eta10.json",
        "kdiffusion_dpmpp_2s_ancestral_karras_10_eta10.json",
        "kdiffusion_dpmpp_3m_sde_karras_12_eta10.json",
        "kdiffusion_dpmpp_sde_karras_8_eta10.json",
        "kdiffusion_dpmpp_2m_karras_10.json",
        "kdiffusion_euler_ancestral_karras_10.json",
        "kdiffusion_euler_karras_10.json",
        "kdiffusion_heun_karras_10.json",
        "kdiffusion_lms_exponential_12.json",
        "kdiffusion_sigmas_exponential_12.json",
        "kdiffusion_sigmas_karras_10.json",
        "ode_arenstorf.json",
        "ode_gmm_probability_flow_ve.json",
        "ode_lotka_volterra.json",
        "ode_van_der_pol_mu1.json",
    ];

    /// <summary>Cases whose sampler the library does not have yet (issue: every sampler users reach for). The list ends empty.</summary>
    internal static readonly string[] ExpectedUnsupported = [];

    public static TheoryData<string> SupportedCases => new(Supported);

    [Fact]
    public void EveryKDiffusionAndOdeCaseInTheFolderIsListed()
    {
        var files = Directory.GetFiles(ReferenceCases.Folder, "*.json").Select(f => Path.GetFileName(f)!)
            .Where(f => f.StartsWith("kdiffusion_", StringComparison.Ordinal) || f.StartsWith("ode_", StringComparison.Ordinal)).Order().ToArray();
        Assert.Equal(Supported.Concat(ExpectedUnsupported).Order().ToArray(), files);
        Assert.Empty(Supported.Intersect(ExpectedUnsupported));
        // Every k-diffusion sampler has landed: nothing is expected to be unsupported any more.
        Assert.Empty(ExpectedUnsupported);
    }

    [Theory]
    [MemberData(nameof(SupportedCases))]
    public void SupportedCasesPassThroughTheCommand(string file)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = ReferenceCommand.Run([ReferenceCases.PathOf(file)], stdout, stderr);
        Assert.True(code == ReferenceCommand.ExitWithin, $"{file} exits {code}; stdout: {stdout}; stderr: {stderr}");
    }
}
