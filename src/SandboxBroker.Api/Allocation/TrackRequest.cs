using SandboxBroker.Api.Http;

namespace SandboxBroker.Api.Allocation;

/// <summary>The caller of a track endpoint, read from the headers of SPEC section 4.</summary>
public sealed record TrackCaller(string Requester, string IdempotencyKey, string? TrackName, string? NamePrefix);

public static class TrackHeaders
{
    public const string SandboxId = "X-Instruqt-Sandbox-ID";
    public const string LegacyTrackId = "X-Track-ID";
    public const string TrackName = "X-Instruqt-Track-ID";
    public const string NamePrefix = "X-Sandbox-Name-Prefix";
    public const string IdempotencyKey = "Idempotency-Key";

    /// <summary>Reads and validates the caller headers; returns a 400 problem when they are missing or malformed.</summary>
    public static bool TryRead(HttpRequest request, out TrackCaller caller, out IResult? problem)
    {
        caller = null!;
        problem = null;
        var requester = Optional(request, SandboxId) ?? Optional(request, LegacyTrackId);
        if (requester is null)
        {
            problem = Problems.BadRequest($"Either {SandboxId} or {LegacyTrackId} header is required.", ErrorCodes.MissingSandboxId);
            return false;
        }

        if (!InputRules.IsValidId(requester))
        {
            problem = Problems.BadRequest($"{SandboxId} must be 1-{InputRules.MaxIdLength} printable ASCII characters without spaces.");
            return false;
        }

        var key = Optional(request, IdempotencyKey) ?? requester;
        var trackName = Optional(request, TrackName);
        var prefix = Optional(request, NamePrefix);
        if (!InputRules.IsValidId(key))
        {
            problem = Problems.BadRequest($"{IdempotencyKey} must be 1-{InputRules.MaxIdLength} printable ASCII characters without spaces.");
            return false;
        }

        if (trackName is not null && !InputRules.IsValidId(trackName))
        {
            problem = Problems.BadRequest($"{TrackName} must be 1-{InputRules.MaxIdLength} printable ASCII characters without spaces.");
            return false;
        }

        if (prefix is not null && !InputRules.IsValidPrefix(prefix))
        {
            problem = Problems.BadRequest($"{NamePrefix} must be 1-{InputRules.MaxPrefixLength} printable ASCII characters without spaces.");
            return false;
        }

        caller = new TrackCaller(requester, key, trackName, prefix);
        return true;
    }

    /// <summary>A header value, trimmed; blank or absent is null (the original treated blank as absent).</summary>
    private static string? Optional(HttpRequest request, string name)
    {
        if (!request.Headers.TryGetValue(name, out var values) || values.Count == 0)
        {
            return null;
        }

        var value = values.Count == 1 ? values[0] : string.Join(",", values.ToArray());
        value = value?.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }
}
