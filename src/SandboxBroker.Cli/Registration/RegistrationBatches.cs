using System.Text.Json.Nodes;

namespace SandboxBroker.Cli.Registration;

/// <summary>
/// Splits the rows into registration calls the broker accepts: at most 1,000 sandboxes (its per-call limit) and well
/// under its 1 MB body limit (long names and external ids can reach it before 1,000 items do).
/// </summary>
internal static class RegistrationBatches
{
    public const int MaxItems = 1000;
    public const int MaxBodyBytes = 900_000;

    public static IEnumerable<List<SandboxRow>> Split(IReadOnlyList<SandboxRow> rows)
    {
        var batch = new List<SandboxRow>();
        var bytes = 0;
        foreach (var row in rows)
        {
            var size = row.ToJson().ToJsonString().Length + 1;
            if (batch.Count == MaxItems || (batch.Count > 0 && bytes + size > MaxBodyBytes))
            {
                yield return batch;
                batch = [];
                bytes = 0;
            }

            batch.Add(row);
            bytes += size;
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    public static JsonObject Body(IEnumerable<SandboxRow> batch) =>
        new() { ["sandboxes"] = new JsonArray(batch.Select(r => (JsonNode)r.ToJson()).ToArray()) };
}
