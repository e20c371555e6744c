using System.Collections.Concurrent;

namespace SandboxBroker.GameDay.Infrastructure;

/// <summary>
/// What the clients were told, across every broker they talked to: each 200/201 allocation answer (requester →
/// sandbox), and each release a holder or an operator got confirmed. The single-use promise is checked on it directly:
/// no sandbox id was ever handed to two requesters.
/// </summary>
public sealed class Ledger
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<(string Id, int Status, double At, long ExpiresAt)>> byRequester = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> bySandbox = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> released = new(StringComparer.Ordinal);

    public int Answers => byRequester.Values.Sum(q => q.Count);

    public IReadOnlyCollection<string> Requesters => [.. byRequester.Keys];

    public void Allocated(string requester, Answer answer)
    {
        if (answer.Status is not (200 or 201))
        {
            return;
        }

        var body = answer.Json();
        var id = body.Id();
        var expiresAt = body.TryGetProperty("expires_at", out var e) && e.ValueKind == System.Text.Json.JsonValueKind.Number ? e.GetInt64() : long.MaxValue;
        byRequester.GetOrAdd(requester, _ => new()).Enqueue((id, answer.Status, answer.EndedMs, expiresAt));
        bySandbox.GetOrAdd(id, _ => new(StringComparer.Ordinal))[requester] = 0;
    }

    public void Released(string sandboxId) => released[sandboxId] = 0;

    public bool WasReleased(string sandboxId) => released.ContainsKey(sandboxId);

    /// <summary>
    /// The sandbox the requester was told last, when it was first told of it (its allocation, not a replay), and the
    /// expires_at the broker answered (epoch seconds).
    /// </summary>
    public (string Id, double At, long ExpiresAt)? Latest(string requester)
    {
        if (!byRequester.TryGetValue(requester, out var answers) || answers.LastOrDefault() is not { Id: not null } last)
        {
            return null;
        }

        var first = answers.First(a => a.Id == last.Id);
        return (last.Id, first.At, first.ExpiresAt);
    }

    public IReadOnlyList<string> SandboxesOf(string requester) =>
        byRequester.TryGetValue(requester, out var answers) ? [.. answers.Select(a => a.Id).Distinct()] : [];

    /// <summary>Sandboxes answered to more than one requester: each one a broken promise.</summary>
    public IReadOnlyList<string> HandedOutTwice() =>
        [.. bySandbox.Where(s => s.Value.Count > 1).Select(s => $"{s.Key} → {string.Join(", ", s.Value.Keys)}")];
}
