namespace SandboxBroker.Api.Http;

internal static class RateLimitingExtensions
{
    /// <summary>Rate limiting runs after authentication (SPEC 5: auth, then validation, then the rate limit).</summary>
    public static WebApplication UseEdgeAfterAuthorization(this WebApplication app) => app;
}
