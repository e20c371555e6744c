using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Observability;

namespace SandboxBroker.Api.Http;

internal static class EdgeExtensions
{
    /// <summary>Maximum request body: registration of 1,000 sandboxes fits easily; larger bodies get 413.</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    /// <summary>Problem details for everything, bearer-token auth with roles, rate limits, CORS, request size limits.</summary>
    public static IHostApplicationBuilder AddEdge(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var status = context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode;
            context.ProblemDetails.Extensions.TryAdd("code", ErrorCodes.ForStatus(status));
            context.ProblemDetails.Type = Problems.TypeOf(context.ProblemDetails.Extensions["code"] as string ?? ErrorCodes.ForStatus(status));
            context.ProblemDetails.Extensions["request_id"] = context.HttpContext.TraceIdentifier;
            context.ProblemDetails.Extensions.Remove("traceId");
            context.ProblemDetails.Extensions.Remove("trace_id");
        });
        builder.Services.AddForwardedHeadersFromKnownNetworks();
        builder.Services.AddExceptionHandler<BrokerExceptionHandler>();
        builder.Services.AddTokenAuthentication();
        builder.AddBrokerRateLimiting();
        builder.Services.AddBrokerCors();
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(options =>
        {
            options.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            options.AddServerHeader = false;
        });
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            options.SerializerOptions.DictionaryKeyPolicy = null;
        });
        return builder;
    }

    /// <summary>
    /// The client address from a trusted load balancer first (everything after sees the client), then the request id
    /// (every response carries it), security headers and the HTTP metrics: outside the exception handler, so they see
    /// the final 500; then errors as problems.
    /// </summary>
    public static WebApplication UseEdgeBeforeRouting(this WebApplication app)
    {
        app.UseForwardedHeadersFromKnownNetworks();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<SecurityHeadersMiddleware>(app.Configuration.BasePath() + "/docs");
        app.UseKnownMethodsOnly();
        app.UseBrokerHttpMetrics();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}
