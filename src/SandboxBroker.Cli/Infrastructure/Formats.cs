using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SandboxBroker.Cli.Infrastructure;

/// <summary>How broker values look in tables: epoch seconds as UTC times, absent values as "-".</summary>
internal static class Formats
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string? Text(JsonNode? node, string property) => node?[property] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        var other => other.ToJsonString(),
    };

    public static long? Number(JsonNode? node, string property) =>
        node?[property] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var number) ? number : null;

    public static string? Time(JsonNode? node, string property) =>
        Number(node, property) is { } seconds
            ? DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : null;

    public static string Json(JsonNode? node) => node?.ToJsonString(Indented) ?? "null";
}
