using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace SandboxBroker.Api.Http;

/// <summary>Roles a bearer token can carry.</summary>
public static class BrokerRoles
{
    public const string Track = "track";
    public const string Admin = "admin";
    public const string TrackPolicy = "track";
    public const string AdminPolicy = "admin";
    /// <summary>Claim with a short, non-reversible id of the token: a rate-limit partition that never logs the secret.</summary>
    public const string TokenIdClaim = "token_id";

    /// <summary>
    /// Claim with the token's name: list-form tokens are named by role and position (track-1, track-2, admin-1 ...).
    /// Names, never secrets, go into history, logs and admin views.
    /// </summary>
    public const string TokenNameClaim = "token_name";

    /// <summary>The actor a history event names for this request: "track:track-1", "admin:admin-1".</summary>
    public static string ActorOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var role = user.IsInRole(Admin) ? Admin : Track;
        return role + ":" + (user.FindFirst(TokenNameClaim)?.Value ?? role);
    }
}

/// <summary>
/// Bearer tokens of <see cref="TokenDirectory"/> (list and structured form), matched in constant time over SHA-256
/// digests. Unknown or missing → 401 with WWW-Authenticate: Bearer; a valid token of the other role → 403 FORBIDDEN,
/// both as problem bodies. The matched token travels with the request as a feature (<see cref="BrokerTokenFeature"/>).
/// </summary>
internal sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory logger,
    UrlEncoder encoder,
    TokenDirectory directory)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "Bearer";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length > 600)
        {
            return Task.FromResult(AuthenticateResult.Fail("malformed Authorization header"));
        }

        if (directory.Match(header.AsSpan(7).Trim()) is not { } token)
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown token"));
        }

        Context.Features.Set(new BrokerTokenFeature(token));
        var claims = new[]
        {
            new Claim(ClaimTypes.Role, token.Role),
            new Claim(BrokerRoles.TokenIdClaim, Convert.ToHexString(token.Digest, 0, 8)),
            new Claim(BrokerRoles.TokenNameClaim, token.Name),
        };
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized,
            "A valid bearer token is required (Authorization: Bearer <token>).");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, ErrorCodes.Forbidden,
            "This token is not allowed on this endpoint.");
}

/// <summary>The token that authenticated this request.</summary>
public sealed record BrokerTokenFeature(BrokerToken Token);

internal static class AuthenticationExtensions
{
    public static IServiceCollection AddTokenAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<TokenDirectory>();
        services.AddAuthentication(TokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, DeclaredCallersRequirement>();
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(DeclaredCallersRequirement.Policy)
            .AddPolicy(BrokerRoles.TrackPolicy, p => p.RequireRole(BrokerRoles.Track))
            .AddPolicy(BrokerRoles.AdminPolicy, p => p.RequireRole(BrokerRoles.Admin));
        return services;
    }
}
