using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2.Model;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// The list position token: base64url of a small JSON object, <c>{"v":1,"q":"&lt;query fingerprint&gt;","k":{"PK":"s:SBX#…",
/// "allocated_at":"n:0",…}}</c>. Values are typed strings (never JSON numbers, so nothing is lost or mis-encoded as the
/// original's Decimal was); the key names must be exactly those of the access path, the PK a sandbox key and the
/// fingerprint that of the same filters. Anything else is an <see cref="InvalidCursorException"/>.
/// </summary>
internal static class ListCursor
{
    private const int Version = 1;
    private const int MaxLength = 2048;

    public static string Encode(string fingerprint, IReadOnlyCollection<string> keyNames, Dictionary<string, AttributeValue> item)
    {
        var key = new JsonObject();
        foreach (var name in keyNames)
        {
            var value = item[name];
            key[name] = value.N is not null ? "n:" + value.N : "s:" + value.S;
        }

        var json = new JsonObject { ["v"] = Version, ["q"] = fingerprint, ["k"] = key };
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json.ToJsonString()));
    }

    public static Dictionary<string, AttributeValue> Decode(string token, string fingerprint, IReadOnlyCollection<string> keyNames)
    {
        JsonObject json;
        try
        {
            if (token.Length is 0 or > MaxLength)
            {
                throw Invalid();
            }

            json = JsonNode.Parse(Base64Url.DecodeFromChars(token)) as JsonObject ?? throw Invalid();
        }
        catch (Exception ex) when (ex is FormatException or JsonException or ArgumentException)
        {
            throw Invalid();
        }

        if (Int(json["v"]) != Version || Text(json["q"]) != fingerprint || json["k"] is not JsonObject key || key.Count != keyNames.Count)
        {
            throw Invalid();
        }

        var result = new Dictionary<string, AttributeValue>(StringComparer.Ordinal);
        foreach (var name in keyNames)
        {
            var text = Text(key[name]) ?? throw Invalid();
            result[name] = text switch
            {
                _ when text.StartsWith("s:", StringComparison.Ordinal) && name != AllocatedAt => new AttributeValue { S = text[2..] },
                _ when text.StartsWith("n:", StringComparison.Ordinal) && name == AllocatedAt && long.TryParse(text[2..], out var n)
                    => new AttributeValue { N = n.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                _ => throw Invalid(),
            };
        }

        if (result[PartitionKey].S is not { } pk || !pk.StartsWith(SandboxPkPrefix, StringComparison.Ordinal) || pk.Length == SandboxPkPrefix.Length
            || result[TableLayout.SortKey].S != SandboxSk)
        {
            throw Invalid();
        }

        return result;
    }

    /// <summary>A short digest of the access path and filters: a cursor only continues the query that issued it.</summary>
    public static string Fingerprint(params string?[] parts)
    {
        var joined = string.Join('\u001f', parts.Select(p => p is null ? "\u0000" : p));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(joined)).AsSpan(0, 8));
    }

    private static int? Int(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<int>(out var number) ? number : null;

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static InvalidCursorException Invalid() => new("the cursor is not valid for this query");
}
