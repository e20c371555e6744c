using System.Collections.Concurrent;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Admin;

/// <summary>
/// What operators do to the pool, on the store contract only, so it
/// works unchanged on every store. Every change is one conditional write on the state it expects; outcomes are values
/// that <see cref="AdminResults"/> maps to HTTP. Reads now once per operation from the injected clock.
/// </summary>
internal sealed partial class AdminService(ISandboxStore store, AdminCursor cursors, TimeProvider time, ILogger<AdminService> logger)
{
    /// <summary>Registrations in flight at once: fast on DynamoDB, harmless on SQLite (its writes are serialized anyway).</summary>
    private const int RegistrationParallelism = 8;

    public async Task<ListOutcome> ListAsync(ListRequest request, CancellationToken ct)
    {
        string? after = null;
        if (request.Cursor is not null && (after = cursors.TryRead(request.Cursor, request.Filters)) is null)
        {
            return new ListOutcome.InvalidCursor();
        }

        var query = new SandboxQuery
        {
            Status = request.Filters.Status,
            NamePrefix = request.Filters.NamePrefix,
            TrackName = request.Filters.TrackName,
            Requester = request.Filters.Requester,
            Limit = request.Limit,
            After = after,
        };
        SandboxPage page;
        try
        {
            page = await store.ListAsync(query, ct);
        }
        catch (InvalidCursorException)
        {
            // Only reachable without a CursorKey: a structurally valid cursor around a position the store never issued.
            return new ListOutcome.InvalidCursor();
        }

        var next = page.Next is null ? null : cursors.Issue(request.Filters, page.Next);
        return new ListOutcome.Page(page.Items, next);
    }

    public async Task<SandboxOutcome> GetAsync(string sandboxId, CancellationToken ct)
    {
        var sandbox = await store.GetAsync(sandboxId, ct);
        return sandbox is null || sandbox.IsTombstone ? new SandboxOutcome.NotFound() : new SandboxOutcome.Ok(sandbox);
    }

    /// <summary>The sandbox's history, tombstones included; null only when no record exists.</summary>
    public Task<SandboxHistory?> HistoryAsync(string sandboxId, CancellationToken ct) => store.GetHistoryAsync(sandboxId, ct);

    /// <summary>Exact counts from the store (read-your-writes, never a full-table scan).</summary>
    public Task<PoolCounts> StatsAsync(string? namePrefix, CancellationToken ct) => store.CountAsync(namePrefix, ct);

    /// <summary>
    /// Registers each sandbox as available when no record with its id exists. An existing record in any state,
    /// tombstones included, is never touched: a used sandbox must never reach a second participant.
    /// </summary>
    public async Task<RegistrationOutcome> RegisterAsync(IReadOnlyList<UpstreamSandbox> sandboxes, ChangeCause cause, CancellationToken ct)
    {
        var now = time.NowEpochSeconds();
        var created = 0;
        var skipped = new ConcurrentBag<string>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = RegistrationParallelism, CancellationToken = ct };
        await Parallel.ForEachAsync(sandboxes, parallel, async (sandbox, token) =>
        {
            var stamped = sandbox.CreatedAt > 0 ? sandbox : sandbox with { CreatedAt = now };
            if (await store.RegisterAsync(stamped, now, cause, token))
            {
                Interlocked.Increment(ref created);
            }
            else
            {
                skipped.Add(sandbox.SandboxId);
            }
        });

        var skippedIds = skipped.Order(StringComparer.Ordinal).ToList();
        LogRegistered(logger, created, skippedIds.Count);
        return new RegistrationOutcome(created, skippedIds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Admin registration: {Created} created, {Skipped} skipped (already known)")]
    private static partial void LogRegistered(ILogger logger, int created, int skipped);
}
