using SandboxBroker.Api.Http;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Allocation;

/// <summary>The caller of a track endpoint: the participant, its idempotency key, its lab and sub-pool.</summary>
public sealed record TrackCaller(string Requester, string IdempotencyKey, string? TrackName, string? NamePrefix)
{
    /// <summary>The token's actor name (track:&lt;token name&gt;), for history.</summary>
    public string Actor { get; init; } = BrokerRoles.Track;

    /// <summary>
    /// The token the caller presented: its name binds the sandboxes it allocates (allocated_via) and its quota
    /// counts them. In-process callers (tests, the raw-store benchmark) get an unscoped token without a quota.
    /// </summary>
    public BrokerToken Token { get; init; } = InProcessToken;

    /// <summary>The request's X-Request-ID, for history.</summary>
    public string? RequestId { get; init; }

    /// <summary>What a history event of this caller's change says about it.</summary>
    public ChangeCause Cause => new(Actor, RequestId) { Requester = Requester, TrackName = TrackName };

    internal static BrokerToken InProcessToken { get; } = new(BrokerRoles.Track, BrokerRoles.Track, new byte[32], [], int.MaxValue);
}

/// <summary>Reads and validates <see cref="TrackCaller"/> from the track headers.</summary>
public static class TrackCallers
{
    /// <summary>
    /// Returns a 400 problem when the requester is missing or any header is malformed, and 403 FORBIDDEN when a
    /// scoped token asks for a name prefix outside its scope (without the header, its first prefix applies).
    /// </summary>
    public static bool TryRead(HttpContext context, out TrackCaller caller, out IResult? problem)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        caller = null!;
        problem = null;
        var requester = TrackHeaders.RequesterOf(request);
        if (requester is null)
        {
            problem = Problems.BadRequest($"Either {TrackHeaders.Requester} or {TrackHeaders.LegacyRequester} header is required.", ErrorCodes.MissingSandboxId);
            return false;
        }

        var key = TrackHeaders.Optional(request, TrackHeaders.IdempotencyKey) ?? requester;
        var trackName = TrackHeaders.Optional(request, TrackHeaders.TrackName);
        var prefix = TrackHeaders.Optional(request, TrackHeaders.NamePrefix);
        problem = Invalid(TrackHeaders.Requester, requester, InputRules.IsValidId, InputRules.MaxIdLength)
            ?? Invalid(TrackHeaders.IdempotencyKey, key, InputRules.IsValidId, InputRules.MaxIdLength)
            ?? Invalid(TrackHeaders.TrackName, trackName, InputRules.IsValidId, InputRules.MaxIdLength)
            ?? Invalid(TrackHeaders.NamePrefix, prefix, InputRules.IsValidPrefix, InputRules.MaxPrefixLength);
        if (problem is not null)
        {
            return false;
        }

        var token = context.Features.Get<BrokerTokenFeature>()?.Token;
        if (token is { IsScoped: true })
        {
            prefix ??= token.NamePrefixes[0];
            if (!token.Covers(prefix))
            {
                problem = Problems.Result(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden,
                    $"{TrackHeaders.NamePrefix} '{prefix}' is outside the scope of token '{token.Name}'.");
                return false;
            }
        }

        caller = new TrackCaller(requester, key, trackName, prefix)
        {
            Token = token ?? TrackCaller.InProcessToken,
            Actor = BrokerRoles.ActorOf(context.User),
            RequestId = context.TraceIdentifier,
        };
        return true;
    }

    private static IResult? Invalid(string header, string? value, Func<string?, bool> valid, int maxLength) =>
        value is null || valid(value) ? null : Problems.BadRequest(InputRules.Describe(header, maxLength));
}
