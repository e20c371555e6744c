using System.Globalization;

namespace SandboxBroker.Api.Http;

/// <summary>
/// Charges every request under the base path to its caller's bucket and its token's ceiling. It runs after
/// authorization, so 401/403 come first; probes and /metrics live outside the base path and are never
/// charged. Every charged response carries X-RateLimit-Limit (the per-second rate, as the original sent) and
/// X-RateLimit-Remaining; a refusal is a 429 problem with Retry-After.
/// </summary>
internal sealed class RateLimitingMiddleware(RequestDelegate next, BrokerRateLimiter limiter, string basePath)
{
    public const string LimitHeader = "X-RateLimit-Limit";
    public const string RemainingHeader = "X-RateLimit-Remaining";

    private readonly string adminPath = basePath + "/admin";

    public Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(basePath, StringComparison.OrdinalIgnoreCase))
        {
            return next(context);
        }

        var decision = limiter.Check(KeyFor(context));
        var limit = limiter.PermitsPerSecond.ToString(CultureInfo.InvariantCulture);
        var remaining = decision.Remaining.ToString(CultureInfo.InvariantCulture);
        // Set when the response starts, so they survive the exception handler clearing the headers of a 500.
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[LimitHeader] = limit;
            context.Response.Headers[RemainingHeader] = remaining;
            return Task.CompletedTask;
        });
        return decision.Allowed
            ? next(context)
            : Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimitExceeded,
                $"Too many requests; retry after {decision.RetryAfterSeconds} s.", decision.RetryAfterSeconds);
    }

    /// <summary>
    /// Track endpoints: (token, requester); admin endpoints: the token; unauthenticated: the client address.
    /// A missing or malformed requester header falls back to the token's own bucket (the endpoint answers 400).
    /// </summary>
    private RateLimitKey KeyFor(HttpContext context)
    {
        var tokenId = context.User.FindFirst(BrokerRoles.TokenIdClaim)?.Value;
        if (tokenId is null)
        {
            return new RateLimitKey("ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"), null);
        }

        if (context.Request.Path.StartsWithSegments(adminPath, StringComparison.OrdinalIgnoreCase))
        {
            return new RateLimitKey("admin:" + tokenId, tokenId);
        }

        return TrackHeaders.RequesterOf(context.Request) is { } requester && InputRules.IsValidId(requester)
            ? new RateLimitKey($"track:{tokenId}:{requester}", tokenId)
            : new RateLimitKey("token:" + tokenId, tokenId);
    }
}
