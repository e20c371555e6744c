using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;

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
/// Bearer tokens from Broker:TrackTokens / Broker:AdminTokens, compared in constant time over SHA-256 digests
/// (equal lengths, so neither content nor length leaks through timing). Unknown or missing → 401 with
/// WWW-Authenticate: Bearer; a valid token of the other role → 403 FORBIDDEN, both as problem bodies.
/// </summary>
internal sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<BrokerOptions> brokerOptions)
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

        var presented = Digest(header.AsSpan(7).Trim());
        var options = brokerOptions.CurrentValue;
        var admin = IndexOf(presented, options.AdminTokens);
        var track = IndexOf(presented, options.TrackTokens);
        var (role, index) = admin >= 0 ? (BrokerRoles.Admin, admin) : track >= 0 ? (BrokerRoles.Track, track) : (null, -1);
        if (role is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown token"));
        }

        var claims = new[]
        {
            new Claim(ClaimTypes.Role, role),
            new Claim(BrokerRoles.TokenIdClaim, Convert.ToHexString(presented, 0, 8)),
            new Claim(BrokerRoles.TokenNameClaim, $"{role}-{index + 1}"),
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

    private static byte[] Digest(ReadOnlySpan<char> token)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(token.Length)];
        var length = Encoding.UTF8.GetBytes(token, utf8);
        return SHA256.HashData(utf8[..length]);
    }

    /// <summary>The position of the matching token in the list, or -1.</summary>
    private static int IndexOf(byte[] presented, List<string> tokens)
    {
        // Check every token, so the time taken does not depend on which one matched.
        var match = -1;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(presented, Digest(tokens[i])) && match < 0)
            {
                match = i;
            }
        }

        return match;
    }
}

internal static class AuthenticationExtensions
{
    public static IServiceCollection AddTokenAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(TokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(BrokerRoles.TrackPolicy, p => p.RequireRole(BrokerRoles.Track))
            .AddPolicy(BrokerRoles.AdminPolicy, p => p.RequireRole(BrokerRoles.Admin));
        return services;
    }
}
