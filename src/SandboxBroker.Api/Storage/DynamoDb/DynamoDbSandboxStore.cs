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
/// This class holds the single-sandbox reads and writes; its collaborators own their own state: candidate windows,
/// claims, listing and counting, job leases, counters and the table's bootstrap.
/// </summary>
internal sealed class DynamoDbSandboxStore : ISandboxStore, IDisposable
{
    private readonly DynamoDbTable table;
    private readonly TableBootstrap bootstrap;
    private readonly CandidateWindows windows;
    private readonly SandboxClaims claims;
    private readonly SandboxListing listing;
    private readonly JobLeases jobs;
    private readonly Sequences sequences;
    private readonly Session session;

    public DynamoDbSandboxStore(IAmazonDynamoDB client, DynamoDbStorageOptions options, ILogger<DynamoDbSandboxStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        table = new DynamoDbTable(client, options, logger);
        var recentClaims = new RecentClaims();
        bootstrap = new TableBootstrap(table);
        windows = new CandidateWindows(table, recentClaims);
        claims = new SandboxClaims(table, windows, recentClaims);
        listing = new SandboxListing(table);
        jobs = new JobLeases(table);
        sequences = new Sequences(table);
        session = new Session(this);
    }

    public void Dispose() => table.Dispose();

    public async Task InitializeAsync(CancellationToken ct)
    {
        if (!await bootstrap.EnsureAsync(ct))
        {
            windows.UseStatusIndexOnly();
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

    /// <summary>Runs the plan at once: every step is its own call, and the claim's conditions decide races with other replicas.</summary>
    public Task<T> RunAllocationAsync<T>(AllocationPlan<T> plan, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return plan(session, ct).AsTask();
    }

    public async Task<TransitionResult> TransitionAsync(StateChange change, CancellationToken ct)
    {
        var e = new Expr()
            .Set(Status, change.To.ToWire())
            .Set(UpdatedAt, change.Now)
            .SetIfPresent(DeletionRequestedAt, change.DeletionRequestedAt)
            .SetIfPresent(DeletionRetryCount, change.DeletionRetryCount)
            .SetIfPresent(DeletedAt, change.DeletedAt);
        _ = change.ClearLastError ? e.Remove(LastError) : e.SetIfPresent(LastError, change.LastError);
        _ = change.ClearNextAttempt ? e.Remove(NextAttemptAt) : e.SetIfPresent(NextAttemptAt, change.NextAttemptAt);
        // Only available sandboxes carry avail_shard: that keeps the AvailableIndex sparse.
        _ = change.To == SandboxStatus.Available
            ? e.SetRaw($"{e.Attr(AvailShard)} = if_not_exists({e.Attr(AvailShard)}, {e.Val(RandomShard())})")
            : e.Remove(AvailShard);
        // A tombstone gets deleted_at only; the purge job removes it once its id is gone upstream (no TTL, which
        // would delete it without that check).
        var condition = $"attribute_exists({e.Attr(PartitionKey)}) AND {e.Attr(Status)} = {e.Val(change.From.ToWire())}";
        if (change.RequireHolder is not null)
        {
            condition += $" AND {e.Attr(AllocatedToTrack)} = {e.Val(change.RequireHolder)}";
        }

        if (change.RequireRetryCount is { } retries)
        {
            var count = e.Attr(DeletionRetryCount);
            condition += retries == 0
                ? $" AND ({count} = {e.Val(0)} OR attribute_not_exists({count}))"
                : $" AND {count} = {e.Val(retries)}";
        }

        var request = new UpdateItemRequest
        {
            TableName = table.Name,
            Key = Key(change.SandboxId),
            UpdateExpression = e.Update(),
            ConditionExpression = condition,
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
            ReturnValues = ReturnValue.ALL_NEW,
            ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
        };
        Dictionary<string, AttributeValue>? current;
        try
        {
            var response = await table.CallAsync("UpdateItem", c => table.Client.UpdateItemAsync(request, c), ct);
            if (FromItem(response.Attributes) is { } applied)
            {
                return new TransitionResult.Applied(applied);
            }

            current = null;
        }
        catch (ConditionalCheckFailedException ex)
        {
            current = Has(ex.Item) ? ex.Item : null;
        }

        var now = current is not null ? FromItem(current) : await GetAsync(change.SandboxId, ct);
        return now is null ? new TransitionResult.NotFound() : new TransitionResult.Conflict(now);
    }

    public async Task<UpsertOutcome> UpsertFromUpstreamAsync(UpstreamSandbox sandbox, long now, CancellationToken ct)
    {
        // The common case (sync refreshing a known sandbox) is one conditional update; absent ids are then created.
        var e = new Expr()
            .Set(Status, SandboxStatusNames.Available)
            .Set(Name, sandbox.Name)
            .Set(ExternalId, sandbox.ExternalId)
            .SetOrRemove(SfdcAccountId, string.IsNullOrEmpty(sandbox.SfdcAccountId) ? null : sandbox.SfdcAccountId)
            .Set(LastSynced, now)
            .Set(UpdatedAt, now);
        e.SetRaw($"{e.Attr(AvailShard)} = if_not_exists({e.Attr(AvailShard)}, {e.Val(RandomShard())})");
        var request = new UpdateItemRequest
        {
            TableName = table.Name,
            Key = Key(sandbox.SandboxId),
            UpdateExpression = e.Update(),
            ConditionExpression = $"{e.Attr(Status)} IN ({e.Val(SandboxStatusNames.Available)}, {e.Val(SandboxStatusNames.Stale)})",
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
            ReturnValues = ReturnValue.ALL_OLD,
            ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
        };
        try
        {
            var response = await table.CallAsync("UpdateItem", c => table.Client.UpdateItemAsync(request, c), ct);
            return Str(response.Attributes ?? [], Status) == SandboxStatusNames.Stale ? UpsertOutcome.Revived : UpsertOutcome.Refreshed;
        }
        catch (ConditionalCheckFailedException ex) when (Has(ex.Item))
        {
            return UpsertOutcome.Untouched; // allocated, pending, failed or a tombstone: never made available again
        }
        catch (ConditionalCheckFailedException)
        {
            return await RegisterAsync(sandbox, now, ct) ? UpsertOutcome.Created : UpsertOutcome.Untouched;
        }
    }

    public async Task<bool> RegisterAsync(UpstreamSandbox sandbox, long now, CancellationToken ct)
    {
        var e = new Expr();
        var request = new PutItemRequest
        {
            TableName = table.Name,
            Item = NewAvailable(sandbox, now),
            ConditionExpression = $"attribute_not_exists({e.Attr(PartitionKey)})",
            ExpressionAttributeNames = e.Names,
        };
        try
        {
            await table.CallAsync("PutItem", c => table.Client.PutItemAsync(request, c), ct);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    public async Task<bool> PurgeTombstoneAsync(string sandboxId, CancellationToken ct)
    {
        var e = new Expr();
        var request = new DeleteItemRequest
        {
            TableName = table.Name,
            Key = Key(sandboxId),
            ConditionExpression = $"{e.Attr(Status)} = {e.Val(SandboxStatusNames.Deleted)}",
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
        };
        try
        {
            await table.CallAsync("DeleteItem", c => table.Client.DeleteItemAsync(request, c), ct);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    public Task<SandboxPage> ListAsync(SandboxQuery query, CancellationToken ct) => listing.ListAsync(query, ct);

    public IAsyncEnumerable<Sandbox> ScanByStatusAsync(SandboxStatus status, CancellationToken ct) => listing.ScanByStatusAsync(status, ct);

    public Task<PoolCounts> CountAsync(string? namePrefix, CancellationToken ct) => listing.CountAsync(namePrefix, ct);

    public Task<long> AddToSequenceAsync(string name, long delta, CancellationToken ct) => sequences.AddToSequenceAsync(name, delta, ct);

    public Task<bool> TryAcquireJobLeaseAsync(JobLeaseRequest request, CancellationToken ct) => jobs.TryAcquireJobLeaseAsync(request, ct);

    public Task<bool> RenewJobLeaseAsync(string job, string owner, long leaseUntil, CancellationToken ct) =>
        jobs.RenewJobLeaseAsync(job, owner, leaseUntil, ct);

    public Task CompleteJobAsync(JobCompletion completion, CancellationToken ct) => jobs.CompleteJobAsync(completion, ct);

    public Task<JobState?> GetJobStateAsync(string job, CancellationToken ct) => jobs.GetJobStateAsync(job, ct);

    public Task<IReadOnlyList<JobState>> ListJobStatesAsync(CancellationToken ct) => jobs.ListJobStatesAsync(ct);

    /// <summary>The allocation primitives: plain calls on this table (stateless, so one serves every plan).</summary>
    private sealed class Session(DynamoDbSandboxStore store) : IAllocationSession
    {
        public async ValueTask<string?> ReadKeyAsync(string requester, string idempotencyKey, CancellationToken ct) =>
            await store.GetIdempotentSandboxIdAsync(requester, idempotencyKey, ct);

        public async ValueTask<Sandbox?> ReadAsync(string sandboxId, CancellationToken ct) => await store.GetAsync(sandboxId, ct);

        public async ValueTask<IReadOnlyList<string>> FindCandidatesAsync(CandidateQuery query, CancellationToken ct) =>
            await store.windows.FindAsync(query.NamePrefix, query.Limit, ct);

        public async ValueTask<ClaimResult> TryClaimAsync(ClaimRequest request, CancellationToken ct) =>
            await store.claims.TryClaimAsync(request, ct);
    }
}
