namespace SandboxBroker.Api.Configuration;

internal static class ConfigurationExtensions
{
    /// <summary>Broker options, validated at start (Production refuses to start without real tokens).</summary>
    public static IHostApplicationBuilder AddBrokerOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<BrokerOptions>, BrokerOptionsValidator>();
        builder.Services.AddOptions<BrokerOptions>()
            .BindConfiguration(BrokerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        return builder;
    }

    /// <summary>The base path, read once for route mapping (a validated option; /v1 by default).</summary>
    public static string BasePath(this IConfiguration configuration) =>
        configuration.GetSection(BrokerOptions.SectionName)["BasePath"]?.TrimEnd('/') is { Length: > 0 } path ? path : "/v1";
}
