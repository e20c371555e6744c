using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace SandboxBroker.Api.Http;

/// <summary>Section "Cors" (alias CORS_ALLOWED_ORIGINS). No origin is allowed unless configured.</summary>
public sealed class BrokerCorsOptions : IValidatableObject
{
    public const string SectionName = "Cors";

    /// <summary>Origins such as https://lab.example; "*" allows any origin.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var origin in AllowedOrigins.Select(o => o.Trim()).Where(o => o != "*"))
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
            {
                yield return new ValidationResult(
                    $"Cors:AllowedOrigins: '{origin}' is not an origin (scheme://host[:port], e.g. https://lab.example) or \"*\".",
                    [nameof(AllowedOrigins)]);
            }
        }
    }
}

internal static class CorsExtensions
{
    /// <summary>Request headers a browser client may send.</summary>
    public static readonly string[] AllowedHeaders =
    [
        "Authorization", "Content-Type", RequestIdMiddleware.HeaderName, TrackHeaders.Requester, TrackHeaders.LegacyRequester,
        TrackHeaders.TrackName, TrackHeaders.NamePrefix, TrackHeaders.IdempotencyKey,
    ];

    /// <summary>Response headers a browser client may read.</summary>
    public static readonly string[] ExposedHeaders =
        [RequestIdMiddleware.HeaderName, "Retry-After", RateLimitingMiddleware.LimitHeader, RateLimitingMiddleware.RemainingHeader];

    /// <summary>Before routing and authentication, so preflights need no token.</summary>
    public static WebApplication UseBrokerCors(this WebApplication app)
    {
        app.UseCors();
        return app;
    }

    public static IServiceCollection AddBrokerCors(this IServiceCollection services)
    {
        services.AddOptions<BrokerCorsOptions>()
            .BindConfiguration(BrokerCorsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<BrokerCorsOptions>>((cors, broker) =>
            cors.AddDefaultPolicy(policy => Build(policy, broker.Value.AllowedOrigins)));
        return services;
    }

    private static void Build(CorsPolicyBuilder policy, IEnumerable<string> configured)
    {
        var origins = configured.Select(o => o.Trim().TrimEnd('/')).Where(o => o.Length > 0).ToArray();
        if (origins.Contains("*"))
        {
            policy.AllowAnyOrigin();
        }
        else
        {
            policy.WithOrigins(origins);
        }

        policy.WithMethods(HttpMethods.Get, HttpMethods.Post)
            .WithHeaders(AllowedHeaders)
            .WithExposedHeaders(ExposedHeaders)
            .SetPreflightMaxAge(TimeSpan.FromHours(1));
    }
}
