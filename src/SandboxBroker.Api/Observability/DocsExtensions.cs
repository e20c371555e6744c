using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace SandboxBroker.Api.Observability;

/// <summary>OpenAPI document at {base}/openapi.json and the interactive docs UI (Scalar) at {base}/docs.</summary>
internal static class DocsExtensions
{
    public static IServiceCollection AddBrokerOpenApi(this IServiceCollection services)
    {
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Sandbox Broker API",
                    Version = "1.0.0",
                    Description = "Hands pre-created CSP sandboxes to lab participants, one each, and gets every used sandbox deleted upstream. " +
                                  "Track endpoints take a track token, /admin endpoints an admin token: Authorization: Bearer <token>. " +
                                  "Errors are RFC 9457 problem+json with `code` and `request_id`.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["Bearer"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "Track or admin token",
                };
                return Task.CompletedTask;
            });
        });
        return services;
    }

    public static IEndpointRouteBuilder MapDocs(this IEndpointRouteBuilder app, string basePath)
    {
        app.MapOpenApi(basePath + "/openapi.json").ExcludeFromDescription().AllowAnonymous(); // public, like the original's /docs
        // Self-contained: no CDN fonts, telemetry or AI agent, so the docs page's CSP can stay same-origin.
        app.MapScalarApiReference(basePath + "/docs", options => options
            .WithTitle("Sandbox Broker API")
            .WithOpenApiRoutePattern(basePath + "/openapi.json")
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent())
            .AllowAnonymous();
        return app;
    }
}
