using Microsoft.AspNetCore.Authorization;

namespace SandboxBroker.Api.Http;

/// <summary>
/// The fallback authorization policy: an endpoint that says nothing about its callers (no RequireAuthorization, no
/// AllowAnonymous) needs a valid token, so a future endpoint is never public by accident. A request that matched no
/// route keeps routing's answer (404, or 405 for a known path with the wrong method): there is nothing to protect,
/// and lab scripts and probes expect those codes.
/// </summary>
internal sealed class DeclaredCallersRequirement : AuthorizationHandler<DeclaredCallersRequirement>, IAuthorizationRequirement
{
    public static AuthorizationPolicy Policy { get; } = new AuthorizationPolicyBuilder(TokenAuthenticationHandler.SchemeName)
        .AddRequirements(new DeclaredCallersRequirement())
        .Build();

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, DeclaredCallersRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        var matchedRoute = context.Resource is HttpContext http && http.GetEndpoint() is RouteEndpoint;
        if (!matchedRoute || context.User.Identity?.IsAuthenticated == true)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
