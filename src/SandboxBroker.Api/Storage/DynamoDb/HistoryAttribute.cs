using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// A sandbox's history on DynamoDB: the list attribute <c>history</c> inside the sandbox item (so SBX# items stay the
/// original's sandbox items and a change and its event are one conditional write). An append carries the condition
/// that the list has room; when it is full, the writer replaces it by its newest events plus the new one, conditional
/// on the size it read, so a history never holds more than <see cref="SandboxEvent.MaxPerSandbox"/>.
/// </summary>
internal static class HistoryAttribute
{
    /// <summary>How many of the oldest events a full list drops at once (so two writers cannot both trim one list).</summary>
    private const int TrimBy = 10;

    /// <summary>Adds to <paramref name="e"/> the append of <paramref name="sandboxEvent"/>; returns the room condition.</summary>
    public static string Append(Expr e, SandboxEvent sandboxEvent)
    {
        var history = e.Attr(History);
        e.SetRaw($"{history} = list_append(if_not_exists({history}, {e.Val(new AttributeValue { L = [], IsLSet = true })}), " +
                 $"{e.Val(new AttributeValue { L = [Of(sandboxEvent)] })})");
        return $"(attribute_not_exists({history}) OR size({history}) < {e.Val(SandboxEvent.MaxPerSandbox)})";
    }

    /// <summary>
    /// For an item whose history is full: sets the list to its newest events plus <paramref name="sandboxEvent"/>;
    /// returns the condition that the list is still as long as it was read.
    /// </summary>
    public static string Replace(Expr e, Dictionary<string, AttributeValue> item, SandboxEvent sandboxEvent)
    {
        var current = item[History].L;
        var kept = current.Skip(current.Count - (SandboxEvent.MaxPerSandbox - TrimBy)).Append(Of(sandboxEvent)).ToList();
        var history = e.Attr(History);
        e.SetRaw($"{history} = {e.Val(new AttributeValue { L = kept })}");
        return $"size({history}) = {e.Val(current.Count)}";
    }

    /// <summary>The list of a new item: its first event.</summary>
    public static AttributeValue First(SandboxEvent sandboxEvent) => new() { L = [Of(sandboxEvent)] };

    public static bool IsFull(Dictionary<string, AttributeValue>? item) =>
        item is not null && item.TryGetValue(History, out var history) && history.L is { Count: >= SandboxEvent.MaxPerSandbox };

    public static List<SandboxEvent> Read(Dictionary<string, AttributeValue> item) =>
        item.TryGetValue(History, out var history) && history.L is { } list
            ? [.. list.Where(v => v.M is { Count: > 0 }).Select(v => FromMap(v.M))]
            : [];

    private static AttributeValue Of(SandboxEvent e)
    {
        var map = new Dictionary<string, AttributeValue>(StringComparer.Ordinal)
        {
            ["at"] = N(e.At),
            ["to"] = S(e.To),
            ["actor"] = S(e.Actor),
        };
        Put(map, "from", e.From);
        Put(map, "reason", e.Reason);
        Put(map, "request_id", e.RequestId);
        Put(map, "requester", e.Requester);
        Put(map, "track_name", e.TrackName);
        Put(map, "error", e.Error);
        if (e.Attempt is { } attempt)
        {
            map["attempt"] = N(attempt);
        }

        if (e.NextAttemptAt is { } next)
        {
            map["next_attempt_at"] = N(next);
        }

        return new AttributeValue { M = map };
    }

    private static SandboxEvent FromMap(Dictionary<string, AttributeValue> m) => new()
    {
        At = Long(m, "at") ?? 0,
        From = Str(m, "from"),
        To = Str(m, "to") ?? "",
        Actor = Str(m, "actor") ?? "",
        Reason = Str(m, "reason"),
        RequestId = Str(m, "request_id"),
        Requester = Str(m, "requester"),
        TrackName = Str(m, "track_name"),
        Attempt = Long(m, "attempt") is { } attempt ? (int)attempt : null,
        Error = Str(m, "error"),
        NextAttemptAt = Long(m, "next_attempt_at"),
    };

    private static void Put(Dictionary<string, AttributeValue> map, string name, string? value)
    {
        if (value is not null)
        {
            map[name] = S(value);
        }
    }
}
