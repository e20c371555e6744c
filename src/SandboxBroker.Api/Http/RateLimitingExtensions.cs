using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Observability;

namespace SandboxBroker.Api.Http;

internal static class RateLimitingExtensions
{
    /// <summary>Validated RateLimiting options and the shared limiter.</summary>
    public static IHostApplicationBuilder AddBrokerRateLimiting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitingOptions>()
            .BindConfiguration(RateLimitingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<BrokerRateLimiter>();
        return builder;
    }

    /// <summary>
    /// After authorization (auth, then validation, then the rate limit): the matched endpoint is noted for
    /// the HTTP metrics, then requests under the base path are rate limited unless RateLimiting:Enabled is false.
    /// </summary>
    public static WebApplication UseEdgeAfterAuthorization(this WebApplication app)
    {
        app.CaptureEndpointForHttpMetrics();
        if (app.Services.GetRequiredService<IOptions<RateLimitingOptions>>().Value.Enabled)
        {
            app.UseMiddleware<RateLimitingMiddleware>(app.Configuration.BasePath());
        }

        return app;
    }
}
