using System.Text.Json;
using System.Text.Json.Serialization;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>
/// A sandbox's history on the embedded store: a JSON array in the row's own history column, appended to by the same
/// UPDATE (or INSERT) that makes the change, so no change lands without its event and no event without its change.
/// </summary>
internal static class SqliteHistory
{
    /// <summary>SET clause that appends $ev (one event's JSON), dropping the oldest once the array holds the maximum.</summary>
    public static readonly string Append =
        $"history = CASE WHEN json_array_length(history) >= {SandboxEvent.MaxPerSandbox} " +
        "THEN json_insert(json_remove(history, '$[0]'), '$[#]', json($ev)) ELSE json_insert(history, '$[#]', json($ev)) END";

    /// <summary>The history of a new record: its creation event ($ev).</summary>
    public const string First = "json_array(json($ev))";

    public static string Serialize(SandboxEvent sandboxEvent) => JsonSerializer.Serialize(sandboxEvent, HistoryJsonContext.Default.SandboxEvent);

    public static IReadOnlyList<SandboxEvent> Parse(string json) =>
        JsonSerializer.Deserialize(json, HistoryJsonContext.Default.ListSandboxEvent) ?? [];
}

/// <summary>The stored shape of events: the wire names of the history API, nulls left out.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SandboxEvent))]
[JsonSerializable(typeof(List<SandboxEvent>))]
internal sealed partial class HistoryJsonContext : JsonSerializerContext;
