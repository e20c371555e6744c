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
/// </summary>
internal sealed partial class DynamoDbSandboxStore : ISandboxStore, IDisposable
{
    private readonly IAmazonDynamoDB client;
    private readonly DynamoDbStorageOptions options;
    private readonly ILogger<DynamoDbSandboxStore> logger;
    private readonly string table;

    public DynamoDbSandboxStore(IAmazonDynamoDB client, DynamoDbStorageOptions options, ILogger<DynamoDbSandboxStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.client = client;
        this.options = options;
        this.logger = logger;
        table = options.TableName;
    }

    /// <summary>The client belongs to whoever created it (DI disposes it).</summary>
    public void Dispose() => inFlight.Dispose();

    public async Task PingAsync(CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(options.Timeout);
        var ping = new GetItemRequest
        {
            TableName = table,
            Key = new() { [PartitionKey] = S("PING"), [TableLayout.SortKey] = S("PING") },
            ProjectionExpression = PartitionKey,
        };
        try
        {
            await CallAsync("GetItem", c => client.GetItemAsync(ping, c), bounded.Token, queue: false);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new StoreUnavailableException($"DynamoDB did not answer within {options.Timeout}", ex);
        }
    }

    public async Task<Sandbox?> GetAsync(string sandboxId, CancellationToken ct) =>
        FromItem(await GetItemAsync(Key(sandboxId), ct));

    public async Task<string?> GetIdempotentSandboxIdAsync(string requester, string idempotencyKey, CancellationToken ct) =>
        await GetItemAsync(IdempotencyKeyOf(requester, idempotencyKey), ct) is { } item ? Str(item, IdempotencySandboxId) : null;

    private async Task<Dictionary<string, AttributeValue>?> GetItemAsync(Dictionary<string, AttributeValue> key, CancellationToken ct)
    {
        var request = new GetItemRequest { TableName = table, Key = key, ConsistentRead = true };
        var response = await CallAsync("GetItem", c => client.GetItemAsync(request, c), ct);
        return Has(response.Item) ? response.Item : null;
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
            ? e.SetRaw($"{e.N(AvailShard)} = if_not_exists({e.N(AvailShard)}, {e.V(RandomShard())})")
            : e.Remove(AvailShard);
        // A tombstone gets deleted_at only; the purge job removes it once its id is gone upstream (no TTL, which
        // would delete it without that check).
        var condition = $"attribute_exists({e.N(PartitionKey)}) AND {e.N(Status)} = {e.V(change.From.ToWire())}";
        if (change.RequireHolder is not null)
        {
            condition += $" AND {e.N(AllocatedToTrack)} = {e.V(change.RequireHolder)}";
        }

        if (change.RequireRetryCount is { } retries)
        {
            var count = e.N(DeletionRetryCount);
            condition += retries == 0
                ? $" AND ({count} = {e.V(0)} OR attribute_not_exists({count}))"
                : $" AND {count} = {e.V(retries)}";
        }

        var request = new UpdateItemRequest
        {
            TableName = table,
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
            var response = await CallAsync("UpdateItem", c => client.UpdateItemAsync(request, c), ct);
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
        e.SetRaw($"{e.N(AvailShard)} = if_not_exists({e.N(AvailShard)}, {e.V(RandomShard())})");
        var request = new UpdateItemRequest
        {
            TableName = table,
            Key = Key(sandbox.SandboxId),
            UpdateExpression = e.Update(),
            ConditionExpression = $"{e.N(Status)} IN ({e.V(SandboxStatusNames.Available)}, {e.V(SandboxStatusNames.Stale)})",
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
            ReturnValues = ReturnValue.ALL_OLD,
            ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
        };
        try
        {
            var response = await CallAsync("UpdateItem", c => client.UpdateItemAsync(request, c), ct);
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
            TableName = table,
            Item = NewAvailable(sandbox, now),
            ConditionExpression = $"attribute_not_exists({e.N(PartitionKey)})",
            ExpressionAttributeNames = e.Names,
        };
        try
        {
            await CallAsync("PutItem", c => client.PutItemAsync(request, c), ct);
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
            TableName = table,
            Key = Key(sandboxId),
            ConditionExpression = $"{e.N(Status)} = {e.V(SandboxStatusNames.Deleted)}",
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
        };
        try
        {
            await CallAsync("DeleteItem", c => client.DeleteItemAsync(request, c), ct);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }
}
