using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage;

/// <summary>
/// The store as the rest of the broker sees it: the chosen store, plus one JSON log line ("action":"transition")
/// for every history event it wrote, after the write is durable, so log search works across sandboxes. Claims are
/// logged when the allocation plan that made them has returned (on the embedded store: after its batch committed).
/// </summary>
internal sealed partial class TransitionLoggingStore(ISandboxStore inner, ILogger<TransitionLoggingStore> logger) : ISandboxStore
{
    public Task InitializeAsync(CancellationToken ct) => inner.InitializeAsync(ct);

    public Task<long> CountAllocatedSinceAsync(string? namePrefix, long since, CancellationToken ct) =>
        inner.CountAllocatedSinceAsync(namePrefix, since, ct);

    public Task<bool> CreateReservationAsync(Reservations.Reservation reservation, CancellationToken ct) =>
        inner.CreateReservationAsync(reservation, ct);

    public Task<Reservations.Reservation?> GetReservationAsync(string reservationId, CancellationToken ct) =>
        inner.GetReservationAsync(reservationId, ct);

    public Task<IReadOnlyList<Reservations.Reservation>> ListReservationsAsync(CancellationToken ct) => inner.ListReservationsAsync(ct);

    public Task<bool> EndReservationAsync(string reservationId, long endedAt, CancellationToken ct) =>
        inner.EndReservationAsync(reservationId, endedAt, ct);

    public Task<Reservations.ReservationCounts> CountReservationAsync(Reservations.Reservation reservation, CancellationToken ct) =>
        inner.CountReservationAsync(reservation, ct);

    public Task PingAsync(CancellationToken ct) => inner.PingAsync(ct);

    public Task<Sandbox?> GetAsync(string sandboxId, CancellationToken ct) => inner.GetAsync(sandboxId, ct);

    public Task<SandboxHistory?> GetHistoryAsync(string sandboxId, CancellationToken ct) => inner.GetHistoryAsync(sandboxId, ct);

    public Task<string?> GetIdempotentSandboxIdAsync(string requester, string idempotencyKey, CancellationToken ct) =>
        inner.GetIdempotentSandboxIdAsync(requester, idempotencyKey, ct);

    public async Task<T> RunAllocationAsync<T>(AllocationPlan<T> plan, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var claimed = new List<(string SandboxId, SandboxEvent Event)>(1);
        var result = await inner.RunAllocationAsync((session, c) => plan(new ClaimWatcher(session, claimed), c), ct);
        foreach (var (sandboxId, sandboxEvent) in claimed)
        {
            Log(sandboxId, sandboxEvent);
        }

        return result;
    }

    public async Task<TransitionResult> TransitionAsync(StateChange change, CancellationToken ct)
    {
        var result = await inner.TransitionAsync(change, ct);
        if (result is TransitionResult.Applied)
        {
            Log(change.SandboxId, SandboxEvent.Of(change));
        }

        return result;
    }

    public async Task<UpsertOutcome> UpsertFromUpstreamAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var outcome = await inner.UpsertFromUpstreamAsync(sandbox, now, cause, ct);
        switch (outcome)
        {
            case UpsertOutcome.Created:
                Log(sandbox.SandboxId, SandboxEvent.Created(cause, now));
                break;
            case UpsertOutcome.Revived:
                Log(sandbox.SandboxId, SandboxEvent.Of(Transitions.Revive(sandbox.SandboxId, now, cause)));
                break;
        }

        return outcome;
    }

    public async Task<bool> RegisterAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var created = await inner.RegisterAsync(sandbox, now, cause, ct);
        if (created)
        {
            Log(sandbox.SandboxId, SandboxEvent.Created(cause, now));
        }

        return created;
    }

    public Task<bool> PurgeTombstoneAsync(string sandboxId, CancellationToken ct) => inner.PurgeTombstoneAsync(sandboxId, ct);

    public Task<SandboxPage> ListAsync(SandboxQuery query, CancellationToken ct) => inner.ListAsync(query, ct);

    public IAsyncEnumerable<Sandbox> ScanByStatusAsync(SandboxStatus status, CancellationToken ct) => inner.ScanByStatusAsync(status, ct);

    public IAsyncEnumerable<SandboxHistory> ScanHistoriesAsync(SandboxStatus status, CancellationToken ct) =>
        inner.ScanHistoriesAsync(status, ct);

    public IAsyncEnumerable<SandboxHistory> ScanHistoriesChangedSinceAsync(SandboxStatus status, long since, CancellationToken ct) =>
        inner.ScanHistoriesChangedSinceAsync(status, since, ct);

    public Task<PoolCounts> CountAsync(string? namePrefix, CancellationToken ct) => inner.CountAsync(namePrefix, ct);

    public Task<long> AddToSequenceAsync(string name, long delta, CancellationToken ct) => inner.AddToSequenceAsync(name, delta, ct);

    public Task<bool> TryAcquireJobLeaseAsync(JobLeaseRequest request, CancellationToken ct) => inner.TryAcquireJobLeaseAsync(request, ct);

    public Task<bool> RenewJobLeaseAsync(string job, string owner, long leaseUntil, CancellationToken ct) =>
        inner.RenewJobLeaseAsync(job, owner, leaseUntil, ct);

    public Task CompleteJobAsync(JobCompletion completion, CancellationToken ct) => inner.CompleteJobAsync(completion, ct);

    public Task<JobState?> GetJobStateAsync(string job, CancellationToken ct) => inner.GetJobStateAsync(job, ct);

    public Task<IReadOnlyList<JobState>> ListJobStatesAsync(CancellationToken ct) => inner.ListJobStatesAsync(ct);

    public Task SaveJobRunAsync(JobRun run, CancellationToken ct) => inner.SaveJobRunAsync(run, ct);

    public Task<JobRun?> GetJobRunAsync(string runId, CancellationToken ct) => inner.GetJobRunAsync(runId, ct);

    public Task<IReadOnlyList<JobRun>> ListJobRunsAsync(string job, int limit, CancellationToken ct) => inner.ListJobRunsAsync(job, limit, ct);

    private void Log(string sandboxId, SandboxEvent e) => LogTransition(
        logger, "transition", sandboxId, e.From, e.To, e.Actor, e.Reason, e.RequestId, e.Requester, e.TrackName, e.Attempt, e.Error, e.NextAttemptAt, e.At);

    // Placeholders in snake_case: each becomes a top-level field of the JSON line under that name.
    [LoggerMessage(Level = LogLevel.Information,
        Message = "{action} of {sandbox_id}: {from} -> {to} by {actor} ({reason}); request {request_id}, requester {requester}, " +
                  "lab {track_name}, attempt {attempt}, error {error}, next attempt {next_attempt_at}, at {at}")]
    private static partial void LogTransition(
        ILogger logger, string action, string sandbox_id, string? from, string to, string actor, string? reason, string? request_id,
        string? requester, string? track_name, int? attempt, string? error, long? next_attempt_at, long at);

    /// <summary>The session a plan sees: the store's own, noting each claim that succeeded.</summary>
    private sealed class ClaimWatcher(IAllocationSession session, List<(string, SandboxEvent)> claimed) : IAllocationSession
    {
        public ValueTask<string?> ReadKeyAsync(string requester, string idempotencyKey, CancellationToken ct) =>
            session.ReadKeyAsync(requester, idempotencyKey, ct);

        public ValueTask<Sandbox?> ReadAsync(string sandboxId, CancellationToken ct) => session.ReadAsync(sandboxId, ct);

        public ValueTask<IReadOnlyList<string>> FindCandidatesAsync(CandidateQuery query, CancellationToken ct) =>
            session.FindCandidatesAsync(query, ct);

        public async ValueTask<ClaimResult> TryClaimAsync(ClaimRequest request, CancellationToken ct)
        {
            var result = await session.TryClaimAsync(request, ct);
            if (result is ClaimResult.Claimed)
            {
                claimed.Add((request.SandboxId, request.Event()));
            }

            return result;
        }
    }
}
