using SandboxBroker.Api.Observability;

namespace SandboxBroker.Api.Csp;

internal static class CspExtensions
{
    /// <summary>
    /// Registers the CSP provider of the chosen mode (Live: typed HttpClient behind a circuit breaker). Without a
    /// token or an explicit mode, the embedded store runs Simulated (so a fresh clone shows the whole lifecycle).
    /// </summary>
    public static IHostApplicationBuilder AddCsp(this IHostApplicationBuilder builder, bool embeddedStore)
    {
        builder.Services.AddOptions<CspOptions>()
            .BindConfiguration(CspOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(CspOptions.SectionName).Get<CspOptions>() ?? new CspOptions();
        var mode = CspModeSelection.Choose(options, embeddedStore, builder.Environment);
        if (mode == CspOptions.LiveMode)
        {
            builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<CspOptions>, CspOptionsValidator>();
            LiveCspRegistration.Register(builder.Services);
        }
        else
        {
            builder.Services.AddSingleton<ICspProvider, SimulatedCspProvider>();
        }

        builder.Services.AddSingleton(new ServiceFact("csp_mode", mode));
        builder.Services.AddHostedService<CspModeAnnouncer>();
        return builder;
    }
}
