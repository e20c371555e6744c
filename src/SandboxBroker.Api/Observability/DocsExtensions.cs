using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using SandboxBroker.Api.Http;
using Scalar.AspNetCore;

namespace SandboxBroker.Api.Observability;

/// <summary>OpenAPI document at {base}/openapi.json and the interactive docs UI (Scalar) at {base}/docs.</summary>
internal static class DocsExtensions
{
    private const string BearerScheme = "Bearer";

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
                document.Servers = [new OpenApiServer { Url = "/", Description = "This broker (paths include the base path)" }];
                document.Tags = new HashSet<OpenApiTag>
                {
                    new() { Name = "Track", Description = "Lab scripts, with a track token: allocate, read, extend and release the participant's sandbox" },
                    new() { Name = "Capacity", Description = "Track or admin token: will an event fit, and when will the pool run dry" },
                    new() { Name = "Admin", Description = "Operators, with an admin token: pool, repairs, jobs, reservations, invariants" },
                    new() { Name = "Probes", Description = "No token: service facts for operators and scripts" },
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "Track or admin token",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(DescribeCallersAndHeaders);
        });
        return services;
    }

    /// <summary>
    /// What a generated client needs beyond the route: the bearer requirement on every operation that is not public,
    /// and the headers the handler reads (<see cref="HeaderParameter"/> metadata; the handlers validate them in code).
    /// </summary>
    private static Task DescribeCallersAndHeaders(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
        }
        else
        {
            operation.Security = [new OpenApiSecurityRequirement()]; // explicitly public: no token
        }

        foreach (var header in metadata.OfType<HeaderParameter>().DistinctBy(h => h.Name))
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = header.Name,
                In = ParameterLocation.Header,
                Description = header.Description,
                Deprecated = header.Deprecated,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }

        return Task.CompletedTask;
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
