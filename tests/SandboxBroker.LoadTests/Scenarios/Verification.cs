using SandboxBroker.LoadTests.Harness;

namespace SandboxBroker.LoadTests.Scenarios;

/// <summary>
/// After the load: the pool as the admin API lists it, compared with what the clients were told. Double allocation:
/// two successful answers named the same sandbox, or a sandbox the store records under another holder than the client
/// it was handed to. Lost: a registered sandbox that is missing, or one that has a holder but was never handed out.
/// </summary>
public static class Verification
{
    public static async Task<VerifyOutcome> RunAsync(
        LoadClient client, IReadOnlyCollection<string> registered, IReadOnlyCollection<Allocation> handedOut, CancellationToken ct)
    {
        var listed = await client.ListAsync(null, ct);
        var byId = new Dictionary<string, ListedSandbox>(StringComparer.Ordinal);
        var listedTwice = 0;
        foreach (var sandbox in listed)
        {
            if (!byId.TryAdd(sandbox.SandboxId, sandbox))
            {
                listedTwice++;
            }
        }

        var notes = new List<string>();
        var sameSandboxTwice = handedOut.GroupBy(a => a.SandboxId, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
        foreach (var group in sameSandboxTwice.Take(5))
        {
            notes.Add($"{group.Key} handed to {string.Join(", ", group.Select(a => a.Requester))}");
        }

        var otherHolder = 0;
        foreach (var allocation in handedOut)
        {
            if (!byId.TryGetValue(allocation.SandboxId, out var sandbox) || !string.Equals(sandbox.Holder, allocation.Requester, StringComparison.Ordinal))
            {
                otherHolder++;
                if (notes.Count < 10)
                {
                    notes.Add($"{allocation.SandboxId} handed to {allocation.Requester} but the store says {sandbox?.Holder ?? "(absent)"} / {sandbox?.Status ?? "-"}");
                }
            }
        }

        var handedIds = handedOut.Select(a => a.SandboxId).ToHashSet(StringComparer.Ordinal);
        var heldNotHanded = listed.Where(s => s.Holder is not null && !handedIds.Contains(s.SandboxId)).ToList();
        foreach (var sandbox in heldNotHanded.Take(5))
        {
            notes.Add($"{sandbox.SandboxId} is {sandbox.Status} for {sandbox.Holder}, but no client was given it");
        }

        var missing = registered.Where(id => !byId.ContainsKey(id)).ToList();
        foreach (var id in missing.Take(5))
        {
            notes.Add($"{id} was registered but is not listed");
        }

        var violations = await client.InvariantViolationsAsync(ct);
        return new VerifyOutcome
        {
            Listed = listed.Count,
            HandedOut = handedOut.Count,
            DoubleAllocations = sameSandboxTwice.Sum(g => g.Count() - 1) + otherHolder + listedTwice,
            LostSandboxes = heldNotHanded.Count + missing.Count,
            InvariantViolations = violations,
            Notes = notes,
        };
    }
}

public sealed record VerifyOutcome
{
    public int Listed { get; init; }

    public int HandedOut { get; init; }

    public int DoubleAllocations { get; init; }

    public int LostSandboxes { get; init; }

    /// <summary>GET /v1/admin/invariants after the load.</summary>
    public int InvariantViolations { get; init; }

    public IReadOnlyList<string> Notes { get; init; } = [];
}
