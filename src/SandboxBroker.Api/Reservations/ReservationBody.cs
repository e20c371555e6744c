using System.Text.Json;
using SandboxBroker.Api.Http;

namespace SandboxBroker.Api.Reservations;

/// <summary>
/// Reads and validates POST /admin/reservations {track_name, count, name_prefix?, ends_at, partial?} by hand, so every
/// malformed body is a 400 problem (nothing written), never a binder 500.
/// </summary>
internal static class ReservationBody
{
    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(30);
    private const int MaxCount = 100_000;

    public static async Task<(ReservationRequest? Request, string? Error)> ReadAsync(HttpRequest request, long now, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
        {
            return (null, "The body must be application/json.");
        }

        try
        {
            var root = await request.ReadFromJsonAsync<JsonElement>(ct);
            return Parse(root, now);
        }
        catch (Exception ex) when (ex is JsonException or BadHttpRequestException or InvalidOperationException or NotSupportedException)
        {
            return (null, "The body is not valid JSON.");
        }
    }

    private static (ReservationRequest?, string?) Parse(JsonElement root, long now)
    {
        const string shape = "The body must be {\"track_name\", \"count\", \"ends_at\", \"name_prefix\"?, \"partial\"?}.";
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, shape);
        }

        var track = String(root, "track_name");
        if (!InputRules.IsValidId(track))
        {
            return (null, InputRules.Describe("track_name", InputRules.MaxIdLength));
        }

        if (!root.TryGetProperty("count", out var c) || c.ValueKind != JsonValueKind.Number || !c.TryGetInt32(out var count)
            || count is < 1 or > MaxCount)
        {
            return (null, $"count must be an integer from 1 to {MaxCount}.");
        }

        var prefix = String(root, "name_prefix");
        if (prefix is not null && !InputRules.IsValidPrefix(prefix))
        {
            return (null, InputRules.Describe("name_prefix", InputRules.MaxPrefixLength));
        }

        if (!root.TryGetProperty("ends_at", out var e) || e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var endsAt))
        {
            return (null, "ends_at must be epoch seconds.");
        }

        if (endsAt <= now || endsAt > now + (long)MaxAhead.TotalSeconds)
        {
            return (null, "ends_at must be in the future and at most 30 days ahead.");
        }

        var partial = false;
        if (root.TryGetProperty("partial", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            if (p.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return (null, "partial must be true or false.");
            }

            partial = p.GetBoolean();
        }

        return (new ReservationRequest(track!, count, prefix, endsAt, partial), null);
    }

    /// <summary>A string member; "" and null count as absent, any other kind as invalid ("\u0000" fails the id rules).</summary>
    private static string? String(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? (value.GetString() is { Length: > 0 } s ? s : null)
        : "\u0000";
}
