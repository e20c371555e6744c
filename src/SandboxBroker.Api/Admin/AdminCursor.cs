using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Admin;

/// <summary>
/// The client-facing list cursor: base64url of <c>{"v":1,"f":"&lt;filter hash&gt;","p":"&lt;store position&gt;"}</c>,
/// followed by <c>.&lt;HMAC-SHA256&gt;</c> when Broker:CursorKey is set. The filter hash ties a cursor to the filters it
/// was issued for; the shared key (never a per-process one) lets every replica verify every other's cursors.
/// Without a key the cursor is validated structurally, and the store still rejects positions it cannot parse.
/// </summary>
internal sealed class AdminCursor(IOptionsMonitor<BrokerOptions> options)
{
    public const int MaxLength = 4096;
    private const int Version = 1;

    public string Issue(ListFilters filters, string position)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new Payload(Version, Fingerprint(filters), position));
        var payload = Base64Url.EncodeToString(json);
        return Key() is { } key ? payload + "." + Base64Url.EncodeToString(Sign(key, payload)) : payload;
    }

    /// <summary>The store position inside a cursor issued for these filters, or null when it is garbled, forged or foreign.</summary>
    public string? TryRead(string cursor, ListFilters filters)
    {
        if (cursor.Length is 0 or > MaxLength)
        {
            return null;
        }

        var dot = cursor.IndexOf('.', StringComparison.Ordinal);
        var payload = dot < 0 ? cursor : cursor[..dot];
        if (Key() is { } key && (dot < 0 || !SignatureMatches(key, payload, cursor[(dot + 1)..])))
        {
            return null;
        }

        Payload? decoded;
        try
        {
            decoded = JsonSerializer.Deserialize<Payload>(Base64Url.DecodeFromChars(payload));
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
        {
            return null;
        }

        return decoded is { V: Version, P.Length: > 0 } && decoded.F == Fingerprint(filters) ? decoded.P : null;
    }

    private byte[]? Key() => options.CurrentValue.CursorKey is { Length: > 0 } key ? Encoding.UTF8.GetBytes(key) : null;

    private static byte[] Sign(byte[] key, string payload) => HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(payload));

    private static bool SignatureMatches(byte[] key, string payload, string signature)
    {
        Span<byte> presented = stackalloc byte[HMACSHA256.HashSizeInBytes];
        return Base64Url.TryDecodeFromChars(signature, presented, out var written)
            && written == presented.Length
            && CryptographicOperations.FixedTimeEquals(presented, Sign(key, payload));
    }

    /// <summary>A short hash of the filters (JSON array, so no separator can make two filter sets collide).</summary>
    private static string Fingerprint(ListFilters filters)
    {
        var canonical = JsonSerializer.SerializeToUtf8Bytes(new[]
        {
            filters.Status?.ToWire(), filters.NamePrefix, filters.TrackName, filters.Requester,
        });
        return Base64Url.EncodeToString(SHA256.HashData(canonical).AsSpan(0, 16));
    }

    private sealed record Payload(
        [property: JsonPropertyName("v")] int V,
        [property: JsonPropertyName("f")] string? F,
        [property: JsonPropertyName("p")] string? P);
}
