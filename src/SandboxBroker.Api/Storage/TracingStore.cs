using System.Diagnostics;
using SandboxBroker.Api.Reservations;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage;

/// <summary>
/// One span per store call ("store Get", "store RunAllocation", ...) from the "SandboxBroker.Store" activity source, a
/// child of whatever is current (the request's server span, a job run). Inserted between the chosen store and the
/// transition log only when traces are exported (Telemetry:OtlpEndpoint), so a broker that does not trace pays nothing
/// for it. Scans (IAsyncEnumerable) are passed through unspanned: a span would cover the caller's work between pages.
/// </summary>
internal sealed class TracingStore(ISandboxStore inner, string provider) : ISandboxStore
{
    public const string SourceName = "SandboxBroker.Store";
    private static readonly ActivitySource Source = new(SourceName);

    // OpenTelemetry's database conventions: the system and the operation (the store method, without "Async").
    private readonly string system = provider == StorageOptions.DynamoDbProvider ? "aws.dynamodb" : "sqlite";

    public Task InitializeAsync(CancellationToken ct) => Trace("Initialize", () => inner.InitializeAsync(ct));

    public Task PingAsync(CancellationToken ct) => Trace("Ping", () => inner.PingAsync(ct));

    public Task<Sandbox?> GetAsync(string sandboxId, CancellationToken ct) => Trace("Get", () => inner.GetAsync(sandboxId, ct));

    public Task<SandboxHistory?> GetHistoryAsync(string sandboxId, CancellationToken ct) =>
        Trace("GetHistory", () => inner.GetHistoryAsync(sandboxId, ct));

    public Task<string?> GetIdempotentSandboxIdAsync(string requester, string idempotencyKey, CancellationToken ct) =>
        Trace("GetIdempotentSandboxId", () => inner.GetIdempotentSandboxIdAsync(requester, idempotencyKey, ct));

    public Task<T> RunAllocationAsync<T>(AllocationPlan<T> plan, CancellationToken ct) =>
        Trace("RunAllocation", () => inner.RunAllocationAsync(plan, ct));

    public Task<TransitionResult> TransitionAsync(StateChange change, CancellationToken ct) =>
        Trace("Transition", () => inner.TransitionAsync(change, ct));

    public Task<UpsertOutcome> UpsertFromUpstreamAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct) =>
        Trace("UpsertFromUpstream", () => inner.UpsertFromUpstreamAsync(sandbox, now, cause, ct));

    public Task<bool> RegisterAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct) =>
        Trace("Register", () => inner.RegisterAsync(sandbox, now, cause, ct));

    public Task<bool> PurgeTombstoneAsync(string sandboxId, CancellationToken ct) =>
        Trace("PurgeTombstone", () => inner.PurgeTombstoneAsync(sandboxId, ct));

    public Task<SandboxPage> ListAsync(SandboxQuery query, CancellationToken ct) => Trace("List", () => inner.ListAsync(query, ct));

    public IAsyncEnumerable<Sandbox> ScanByStatusAsync(SandboxStatus status, CancellationToken ct) => inner.ScanByStatusAsync(status, ct);

    public IAsyncEnumerable<SandboxHistory> ScanHistoriesAsync(SandboxStatus status, CancellationToken ct) =>
        inner.ScanHistoriesAsync(status, ct);

    public IAsyncEnumerable<SandboxHistory> ScanHistoriesChangedSinceAsync(SandboxStatus status, long since, CancellationToken ct) =>
        inner.ScanHistoriesChangedSinceAsync(status, since, ct);

    public Task<PoolCounts> CountAsync(string? namePrefix, CancellationToken ct) => Trace("Count", () => inner.CountAsync(namePrefix, ct));

    public Task<long> CountAllocatedSinceAsync(string? namePrefix, long since, CancellationToken ct) =>
        Trace("CountAllocatedSince", () => inner.CountAllocatedSinceAsync(namePrefix, since, ct));

    public Task<long> AddToSequenceAsync(string name, long delta, CancellationToken ct) =>
        Trace("AddToSequence", () => inner.AddToSequenceAsync(name, delta, ct));

    public Task<bool> CreateReservationAsync(Reservation reservation, CancellationToken ct) =>
        Trace("CreateReservation", () => inner.CreateReservationAsync(reservation, ct));

    public Task<Reservation?> GetReservationAsync(string reservationId, CancellationToken ct) =>
        Trace("GetReservation", () => inner.GetReservationAsync(reservationId, ct));

    public Task<IReadOnlyList<Reservation>> ListReservationsAsync(CancellationToken ct) =>
        Trace("ListReservations", () => inner.ListReservationsAsync(ct));

    public Task<bool> EndReservationAsync(string reservationId, long endedAt, CancellationToken ct) =>
        Trace("EndReservation", () => inner.EndReservationAsync(reservationId, endedAt, ct));

    public Task<ReservationCounts> CountReservationAsync(Reservation reservation, CancellationToken ct) =>
        Trace("CountReservation", () => inner.CountReservationAsync(reservation, ct));

    public Task<bool> TryAcquireJobLeaseAsync(JobLeaseRequest request, CancellationToken ct) =>
        Trace("TryAcquireJobLease", () => inner.TryAcquireJobLeaseAsync(request, ct));

    public Task<bool> RenewJobLeaseAsync(string job, string owner, long leaseUntil, CancellationToken ct) =>
        Trace("RenewJobLease", () => inner.RenewJobLeaseAsync(job, owner, leaseUntil, ct));

    public Task CompleteJobAsync(JobCompletion completion, CancellationToken ct) => Trace("CompleteJob", () => inner.CompleteJobAsync(completion, ct));

    public Task<JobState?> GetJobStateAsync(string job, CancellationToken ct) => Trace("GetJobState", () => inner.GetJobStateAsync(job, ct));

    public Task<IReadOnlyList<JobState>> ListJobStatesAsync(CancellationToken ct) => Trace("ListJobStates", () => inner.ListJobStatesAsync(ct));

    public Task SaveJobRunAsync(JobRun run, CancellationToken ct) => Trace("SaveJobRun", () => inner.SaveJobRunAsync(run, ct));

    public Task<JobRun?> GetJobRunAsync(string runId, CancellationToken ct) => Trace("GetJobRun", () => inner.GetJobRunAsync(runId, ct));

    public Task<IReadOnlyList<JobRun>> ListJobRunsAsync(string job, int limit, CancellationToken ct) =>
        Trace("ListJobRuns", () => inner.ListJobRunsAsync(job, limit, ct));

    private async Task Trace(string operation, Func<Task> call) =>
        await Trace(operation, async () =>
        {
            await call();
            return true;
        });

    private async Task<T> Trace<T>(string operation, Func<Task<T>> call)
    {
        using var activity = Source.StartActivity($"store {operation}", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("db.system.name", system);
            activity.SetTag("db.operation.name", operation);
        }

        try
        {
            return await call();
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }
}
