using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Csp;

internal static class CspExtensions
{
    /// <summary>Registers the CSP provider of the chosen mode (Live: typed HttpClient behind a circuit breaker).</summary>
    public static IHostApplicationBuilder AddCsp(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CspOptions>()
            .BindConfiguration(CspOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var options = builder.Configuration.GetSection(CspOptions.SectionName).Get<CspOptions>() ?? new CspOptions();
        var embedded = StoreSelection.Choose(builder.Configuration, builder.Environment) == StorageOptions.SqliteProvider;
        var mode = CspModeSelection.Choose(options, embedded, builder.Environment);
        if (mode == CspOptions.LiveMode)
        {
            LiveCspRegistration.Register(builder.Services);
        }
        else
        {
            builder.Services.AddSingleton<ICspProvider, SimulatedCspProvider>();
        }

        builder.Services.AddHostedService<CspModeAnnouncer>();
        return builder;
    }
}
