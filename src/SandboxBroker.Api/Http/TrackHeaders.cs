namespace SandboxBroker.Api.Http;

/// <summary>
/// The headers lab scripts send to the track endpoints. The requester is the participant (Instruqt's sandbox id of the
/// participant's lab environment, or the original's X-Track-ID); it owns what it allocates.
/// </summary>
public static class TrackHeaders
{
    public const string Requester = "X-Instruqt-Sandbox-ID";
    public const string LegacyRequester = "X-Track-ID";
    public const string TrackName = "X-Instruqt-Track-ID";
    public const string NamePrefix = "X-Sandbox-Name-Prefix";
    public const string IdempotencyKey = "Idempotency-Key";

    /// <summary>The requester as sent (either header), not yet validated; null when neither is sent.</summary>
    public static string? RequesterOf(HttpRequest request) => Optional(request, Requester) ?? Optional(request, LegacyRequester);

    /// <summary>A header value, trimmed; blank or absent is null (the original treated blank as absent).</summary>
    public static string? Optional(HttpRequest request, string name)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Headers.TryGetValue(name, out var values) || values.Count == 0)
        {
            return null;
        }

        var value = values.Count == 1 ? values[0] : string.Join(",", values.ToArray());
        value = value?.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }
}
