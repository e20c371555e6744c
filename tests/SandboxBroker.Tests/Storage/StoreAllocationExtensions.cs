using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Tests.Storage;

/// <summary>
/// One allocation primitive at a time, each as a plan of its own on the store (the way the allocation policy reaches
/// them), so the contract tests can set up and probe claims and candidate windows directly.
/// </summary>
internal static class StoreAllocationExtensions
{
    public static Task<ClaimResult> TryClaimAsync(this ISandboxStore store, ClaimRequest request, CancellationToken ct) =>
        store.RunAllocationAsync((session, c) => session.TryClaimAsync(request, c), ct);

    /// <summary>A candidate window, read back as sandboxes (in the window's order).</summary>
    public static Task<List<Sandbox>> FindAvailableAsync(this ISandboxStore store, string? namePrefix, int limit, CancellationToken ct) =>
        store.RunAllocationAsync(async (session, c) =>
        {
            var sandboxes = new List<Sandbox>();
            foreach (var id in await session.FindCandidatesAsync(new CandidateQuery(namePrefix, limit), c))
            {
                sandboxes.Add(await session.ReadAsync(id, c) ?? throw new InvalidOperationException($"candidate {id} has no record"));
            }

            return sandboxes;
        }, ct);

    /// <summary>A lab's reserved-candidate window (ids).</summary>
    public static Task<IReadOnlyList<string>> FindReservedAsync(this ISandboxStore store, string lab, string? namePrefix, int limit, CancellationToken ct) =>
        store.RunAllocationAsync(async (session, c) => await session.FindCandidatesAsync(new CandidateQuery(namePrefix, limit, lab), c), ct);
}
