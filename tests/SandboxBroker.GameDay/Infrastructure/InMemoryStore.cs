using System.Runtime.CompilerServices;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;

namespace SandboxBroker.GameDay.Infrastructure;

/// <summary>
/// A store whose records a test sets directly, broken on purpose where a real store cannot be: what the invariant
/// checker reads (scans, counts, point reads, idempotency records) and nothing else. Hooks let a test change the
/// pool between the checker's reads, as a live broker would.
/// </summary>
internal sealed class InMemoryStore : ISandboxStore
{
    private readonly Dictionary<string, Sandbox> sandboxes = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), string> idempotency = [];
    private readonly Dictionary<string, List<SandboxEvent>> histories = new(StringComparer.Ordinal);
    private int scans;

    /// <summary>Added to the real count of a state (a store whose counter drifted).</summary>
    public Dictionary<SandboxStatus, long> CountSkew { get; } = [];

    /// <summary>Called before every CountAsync: lets a test move the pool while the checker walks it.</summary>
    public Action<InMemoryStore>? BeforeCount { get; set; }

    /// <summary>Called before every GetAsync (the checker's confirmation reads).</summary>
    public Action<InMemoryStore, string>? BeforeGet { get; set; }

    public Exception? FailWith { get; set; }

    public int Scans => Volatile.Read(ref scans);

    public TimeSpan ScanDelay { get; set; }

    public void Put(Sandbox sandbox, bool recordIdempotency = true)
    {
        lock (sandboxes)
        {
            sandboxes[sandbox.SandboxId] = sandbox;
            if (recordIdempotency && sandbox is { Status: SandboxStatus.Allocated, AllocatedTo: { } holder, IdempotencyKey: { } key })
            {
                idempotency[(holder, key)] = sandbox.SandboxId;
            }
        }
    }

    /// <summary>Sets a sandbox's history (a record without one has none, as records from before histories).</summary>
    public void SetHistory(string sandboxId, params SandboxEvent[] events)
    {
        lock (sandboxes)
        {
            histories[sandboxId] = [.. events];
        }
    }

    public Task<SandboxHistory?> GetHistoryAsync(string sandboxId, CancellationToken ct)
    {
        Fail();
        lock (sandboxes)
        {
            return Task.FromResult(sandboxes.TryGetValue(sandboxId, out var sandbox)
                ? new SandboxHistory(sandboxId, sandbox.Status, histories.GetValueOrDefault(sandboxId) ?? [])
                : null);
        }
    }

    public async IAsyncEnumerable<SandboxHistory> ScanHistoriesAsync(SandboxStatus status, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var sandbox in ScanByStatusAsync(status, ct))
        {
            SandboxHistory history;
            lock (sandboxes)
            {
                history = new SandboxHistory(sandbox.SandboxId, status, histories.GetValueOrDefault(sandbox.SandboxId) ?? []);
            }

            yield return history;
        }
    }

    public void Record(string requester, string key, string sandboxId)
    {
        lock (sandboxes)
        {
            idempotency[(requester, key)] = sandboxId;
        }
    }

    public static Sandbox Available(string id) => new()
    {
        SandboxId = id, Name = "gd-" + id, ExternalId = "identity/accounts/" + id, Status = SandboxStatus.Available, CreatedAt = 1, UpdatedAt = 1,
    };

    public static Sandbox Allocated(string id, string holder, string? key = null, long allocatedAt = 1_700_000_000) => Available(id) with
    {
        Status = SandboxStatus.Allocated, AllocatedTo = holder, IdempotencyKey = key ?? holder, AllocatedAt = allocatedAt,
        ExpiresAt = allocatedAt + 14_400,
    };

    public Task<Sandbox?> GetAsync(string sandboxId, CancellationToken ct)
    {
        Fail();
        BeforeGet?.Invoke(this, sandboxId);
        lock (sandboxes)
        {
            return Task.FromResult(sandboxes.GetValueOrDefault(sandboxId));
        }
    }

    public Task<string?> GetIdempotentSandboxIdAsync(string requester, string idempotencyKey, CancellationToken ct)
    {
        Fail();
        lock (sandboxes)
        {
            return Task.FromResult(idempotency.GetValueOrDefault((requester, idempotencyKey)));
        }
    }

    public async IAsyncEnumerable<Sandbox> ScanByStatusAsync(SandboxStatus status, [EnumeratorCancellation] CancellationToken ct)
    {
        Fail();
        Interlocked.Increment(ref scans);
        if (ScanDelay > TimeSpan.Zero)
        {
            await Task.Delay(ScanDelay, ct);
        }

        List<Sandbox> page;
        lock (sandboxes)
        {
            page = sandboxes.Values.Where(s => s.Status == status).OrderBy(s => s.SandboxId, StringComparer.Ordinal).ToList();
        }

        foreach (var sandbox in page)
        {
            yield return sandbox;
        }
    }

    public Task<PoolCounts> CountAsync(string? namePrefix, CancellationToken ct)
    {
        Fail();
        BeforeCount?.Invoke(this);
        lock (sandboxes)
        {
            long Of(SandboxStatus status) => sandboxes.Values.Count(s => s.Status == status) + CountSkew.GetValueOrDefault(status);
            return Task.FromResult(new PoolCounts(Of(SandboxStatus.Available), Of(SandboxStatus.Allocated), Of(SandboxStatus.PendingDeletion),
                Of(SandboxStatus.DeletionFailed), Of(SandboxStatus.Stale), Of(SandboxStatus.Deleted), Of(SandboxStatus.Reserved)));
        }
    }

    /// <summary>No reservation records: the checker's reservation check sees every reserved sandbox as an orphan.</summary>
    public Task<IReadOnlyList<SandboxBroker.Api.Reservations.Reservation>> ListReservationsAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<SandboxBroker.Api.Reservations.Reservation>>([]);

    private void Fail()
    {
        if (FailWith is { } failure)
        {
            throw failure;
        }
    }

    // ---- not used by the checker ---------------------------------------------------------------------------

    public Task InitializeAsync(CancellationToken ct) => Task.CompletedTask;

    public Task PingAsync(CancellationToken ct) => Task.CompletedTask;

    public Task<T> RunAllocationAsync<T>(AllocationPlan<T> plan, CancellationToken ct) => throw new NotSupportedException();

    public Task<TransitionResult> TransitionAsync(StateChange change, CancellationToken ct) => throw new NotSupportedException();

    public Task<UpsertOutcome> UpsertFromUpstreamAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct) => throw new NotSupportedException();

    public Task<bool> RegisterAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct) => throw new NotSupportedException();

    public Task<bool> PurgeTombstoneAsync(string sandboxId, CancellationToken ct) => throw new NotSupportedException();

    public Task<SandboxPage> ListAsync(SandboxQuery query, CancellationToken ct) => throw new NotSupportedException();

    public Task<long> AddToSequenceAsync(string name, long delta, CancellationToken ct) => throw new NotSupportedException();

    public Task<bool> TryAcquireJobLeaseAsync(JobLeaseRequest request, CancellationToken ct) => throw new NotSupportedException();

    public Task<bool> RenewJobLeaseAsync(string job, string owner, long leaseUntil, CancellationToken ct) => throw new NotSupportedException();

    public Task CompleteJobAsync(JobCompletion completion, CancellationToken ct) => throw new NotSupportedException();

    public Task<JobState?> GetJobStateAsync(string job, CancellationToken ct) => throw new NotSupportedException();

    public Task<IReadOnlyList<JobState>> ListJobStatesAsync(CancellationToken ct) => throw new NotSupportedException();

    public Task SaveJobRunAsync(JobRun run, CancellationToken ct) => throw new NotSupportedException();

    public Task<JobRun?> GetJobRunAsync(string runId, CancellationToken ct) => throw new NotSupportedException();

    public Task<IReadOnlyList<JobRun>> ListJobRunsAsync(string job, int limit, CancellationToken ct) => throw new NotSupportedException();
}
