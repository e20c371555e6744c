using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// The production store: one DynamoDB table in the original's item layout (docs/dynamodb-layout.md). Every state
/// change is one conditional write (a claim is one TransactWriteItems of the idempotency record and the sandbox),
/// so any number of replicas can share the table. Outages surface as <see cref="StoreUnavailableException"/>.
/// This class holds the single-sandbox reads; its collaborators own the rest and their own state: writes, candidate
/// windows, claims, listing and counting, job leases, counters and the table's bootstrap.
/// </summary>
internal sealed class DynamoDbSandboxStore : ISandboxStore, IDisposable
{
    private readonly DynamoDbTable table;
    private readonly TableBootstrap bootstrap;
    private readonly CandidateWindows windows;
    private readonly SandboxClaims claims;
    private readonly SandboxListing listing;
    private readonly JobLeases jobs;
    private readonly JobRuns runs;
    private readonly Sequences sequences;
    private readonly SandboxWrites writes;
    private readonly ReservationRecords reservations;
    private readonly ScarceClaims scarce = new();

    public DynamoDbSandboxStore(IAmazonDynamoDB client, DynamoDbStorageOptions options, ILogger<DynamoDbSandboxStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        table = new DynamoDbTable(client, options, logger);
        var recentClaims = new RecentClaims();
        bootstrap = new TableBootstrap(table);
        windows = new CandidateWindows(table, recentClaims, scarce);
        claims = new SandboxClaims(table, windows, recentClaims);
        listing = new SandboxListing(table);
        jobs = new JobLeases(table);
        runs = new JobRuns(table);
        sequences = new Sequences(table);
        writes = new SandboxWrites(table);
        reservations = new ReservationRecords(table);
    }

    public void Dispose()
    {
        table.Dispose();
        scarce.Dispose();
    }

    /// <summary>Values one replica computes per period for all that share this table (the pool gauges).</summary>
    public IPeriodicShare CreatePeriodicShare(TimeProvider time) => new PeriodicShares(table, time);

    public async Task InitializeAsync(CancellationToken ct)
    {
        if (!await bootstrap.EnsureAsync(ct))
        {
            windows.UseStatusIndexOnly();
            listing.UseStatusIndexOnly();
        }
        else
        {
            await new UnverifiedMarks(table).BackfillOnceAsync(ct);
        }

        await windows.BackfillShardsAsync("start-up", int.MaxValue, ct);
    }

    public async Task PingAsync(CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(table.Options.Timeout);
        var ping = new GetItemRequest
        {
            TableName = table.Name,
            Key = new() { [PartitionKey] = S("PING"), [TableLayout.SortKey] = S("PING") },
            ProjectionExpression = PartitionKey,
        };
        try
        {
            await table.CallAsync("GetItem", c => table.Client.GetItemAsync(ping, c), bounded.Token, queue: false);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new StoreUnavailableException($"DynamoDB did not answer within {table.Options.Timeout}", ex);
        }
    }

    public async Task<Sandbox?> GetAsync(string sandboxId, CancellationToken ct) =>
        FromItem(await table.GetItemAsync(Key(sandboxId), ct));

    public async Task<string?> GetIdempotentSandboxIdAsync(string requester, string idempotencyKey, CancellationToken ct) =>
        await table.GetItemAsync(IdempotencyKeyOf(requester, idempotencyKey), ct) is { } item ? Str(item, IdempotencySandboxId) : null;

    /// <summary>
    /// Runs the plan at once: every step is its own call, and the claim's conditions decide races with other replicas;
    /// while candidates are scarce its window and claim wait for the other plans of this process (<see cref="ScarceClaims"/>).
    /// </summary>
    public async Task<T> RunAllocationAsync<T>(AllocationPlan<T> plan, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var session = new Session(this);
        try
        {
            return await plan(session, ct);
        }
        finally
        {
            session.LeaveGate();
        }
    }

    public Task<TransitionResult> TransitionAsync(StateChange change, CancellationToken ct) => writes.TransitionAsync(change, ct);

    public Task<UpsertOutcome> UpsertFromUpstreamAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct) =>
        writes.UpsertFromUpstreamAsync(sandbox, now, cause, ct);

    public Task<bool> RegisterAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct) =>
        writes.RegisterAsync(sandbox, now, cause, ct);

    public Task<bool> PurgeTombstoneAsync(string sandboxId, CancellationToken ct) => writes.PurgeTombstoneAsync(sandboxId, ct);

    public async Task<SandboxHistory?> GetHistoryAsync(string sandboxId, CancellationToken ct) =>
        await table.GetItemAsync(Key(sandboxId), ct) is { } item && FromItem(item) is { } sandbox
            ? new SandboxHistory(sandbox.SandboxId, sandbox.Status, HistoryAttribute.Read(item))
            : null;

    public Task<SandboxPage> ListAsync(SandboxQuery query, CancellationToken ct) => listing.ListAsync(query, ct);

    public IAsyncEnumerable<Sandbox> ScanByStatusAsync(SandboxStatus status, CancellationToken ct) => listing.ScanByStatusAsync(status, ct);

    public IAsyncEnumerable<SandboxHistory> ScanHistoriesAsync(SandboxStatus status, CancellationToken ct) =>
        listing.ScanHistoriesAsync(status, ct);

    public IAsyncEnumerable<SandboxHistory> ScanHistoriesChangedSinceAsync(SandboxStatus status, long since, CancellationToken ct) =>
        listing.ScanHistoriesAsync(status, ct, since);

    public Task<PoolCounts> CountAsync(string? namePrefix, CancellationToken ct) => listing.CountAsync(namePrefix, ct);

    public Task<long> CountAllocatedSinceAsync(string? namePrefix, long since, CancellationToken ct) =>
        listing.CountAllocatedSinceAsync(namePrefix, since, ct);

    public Task<bool> CreateReservationAsync(Reservations.Reservation reservation, CancellationToken ct) =>
        reservations.CreateAsync(reservation, ct);

    public Task<Reservations.Reservation?> GetReservationAsync(string reservationId, CancellationToken ct) =>
        reservations.GetAsync(reservationId, ct);

    public Task<IReadOnlyList<Reservations.Reservation>> ListReservationsAsync(CancellationToken ct) => reservations.ListAsync(ct);

    public Task<bool> EndReservationAsync(string reservationId, long endedAt, CancellationToken ct) =>
        reservations.EndAsync(reservationId, endedAt, ct);

    public Task<Reservations.ReservationCounts> CountReservationAsync(Reservations.Reservation reservation, CancellationToken ct) =>
        listing.CountReservationAsync(reservation, ct);

    public Task<long> AddToSequenceAsync(string name, long delta, CancellationToken ct) => sequences.AddToSequenceAsync(name, delta, ct);

    public Task<bool> TryAcquireJobLeaseAsync(JobLeaseRequest request, CancellationToken ct) => jobs.TryAcquireJobLeaseAsync(request, ct);

    public Task<bool> RenewJobLeaseAsync(string job, string owner, long leaseUntil, CancellationToken ct) =>
        jobs.RenewJobLeaseAsync(job, owner, leaseUntil, ct);

    public Task CompleteJobAsync(JobCompletion completion, CancellationToken ct) => jobs.CompleteJobAsync(completion, ct);

    public Task<JobState?> GetJobStateAsync(string job, CancellationToken ct) => jobs.GetJobStateAsync(job, ct);

    public Task<IReadOnlyList<JobState>> ListJobStatesAsync(CancellationToken ct) => jobs.ListJobStatesAsync(ct);

    public Task SaveJobRunAsync(JobRun run, CancellationToken ct) => runs.SaveAsync(run, ct);

    public Task<JobRun?> GetJobRunAsync(string runId, CancellationToken ct) => runs.GetAsync(runId, ct);

    public Task<IReadOnlyList<JobRun>> ListJobRunsAsync(string job, int limit, CancellationToken ct) => runs.ListAsync(job, limit, ct);

    /// <summary>
    /// The allocation primitives of one plan: plain calls on this table, and the scarce-claims gate, entered before the
    /// plan's first general-pool window while candidates are scarce and held until the plan ends.
    /// </summary>
    private sealed class Session(DynamoDbSandboxStore store) : IAllocationSession
    {
        private bool inGate;

        public async ValueTask<string?> ReadKeyAsync(string requester, string idempotencyKey, CancellationToken ct) =>
            await store.GetIdempotentSandboxIdAsync(requester, idempotencyKey, ct);

        public async ValueTask<Sandbox?> ReadAsync(string sandboxId, CancellationToken ct) => await store.GetAsync(sandboxId, ct);

        public async ValueTask<IReadOnlyList<string>> FindCandidatesAsync(CandidateQuery query, CancellationToken ct)
        {
            if (query.ReservedFor is { } lab)
            {
                return await store.windows.FindReservedAsync(lab, query.NamePrefix, query.Limit, ct);
            }

            if (!inGate && store.scarce.IsScarce)
            {
                await store.scarce.EnterAsync(ct);
                inGate = true;
                if (!store.scarce.IsScarce)
                {
                    LeaveGate(); // emptied (or refilled) while this plan waited: nothing left to race for
                }
            }

            var found = await store.windows.FindAsync(query.NamePrefix, query.Limit, ct);
            if (found.Count == 0)
            {
                LeaveGate(); // nothing to claim: the 409 need not wait for anyone
            }

            return found;
        }

        public void LeaveGate()
        {
            if (inGate)
            {
                inGate = false;
                store.scarce.Exit();
            }
        }

        public async ValueTask<ClaimResult> TryClaimAsync(ClaimRequest request, CancellationToken ct) =>
            await store.claims.TryClaimAsync(request, ct);
    }
}
