using System.Collections.Concurrent;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// The writes of one sandbox item outside allocation: transitions, sync's upsert, registration and the purge of a
/// tombstone. Each is one conditional write, and each that changes the state appends its history event in it.
/// </summary>
internal sealed class SandboxWrites(DynamoDbTable table)
{
    /// <summary>CSP accounts whose ACCT# marker this process has found or written (one attempt per account and process).</summary>
    private readonly ConcurrentDictionary<string, bool> markedAccounts = new(StringComparer.Ordinal);

    public async Task<TransitionResult> TransitionAsync(StateChange change, CancellationToken ct)
    {
        var sandboxEvent = SandboxEvent.Of(change);
        var (applied, current) = await UpdateWithEventAsync(change.SandboxId, full => TransitionExpression(change, sandboxEvent, full), ct);
        if (applied is not null)
        {
            return new TransitionResult.Applied(applied);
        }

        var now = current is not null ? FromItem(current) : FromItem(await table.GetItemAsync(Key(change.SandboxId), ct));
        return now is null ? new TransitionResult.NotFound() : new TransitionResult.Conflict(now);
    }

    /// <summary>
    /// Sync's write: a refresh of an available sandbox (no event), a revival of a stale one (with its event), or the
    /// creation of an absent one. The common case, a refresh, is one conditional update.
    /// </summary>
    public async Task<UpsertOutcome> UpsertFromUpstreamAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct)
    {
        var refresh = UpstreamFields(sandbox, now);
        var request = Update(Key(sandbox.SandboxId), refresh, $"{refresh.Attr(Status)} = {refresh.Val(SandboxStatusNames.Available)}");
        request.ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD;
        try
        {
            await table.CallAsync("UpdateItem", c => table.Client.UpdateItemAsync(request, c), ct);
            await EnsureAccountMarkerAsync(sandbox, now, ct);
            return UpsertOutcome.Refreshed;
        }
        catch (ConditionalCheckFailedException ex) when (Has(ex.Item) && Str(ex.Item, Status) == SandboxStatusNames.Stale)
        {
            var revival = SandboxEvent.Of(Transitions.Revive(sandbox.SandboxId, now, cause));
            var (revived, _) = await UpdateWithEventAsync(sandbox.SandboxId, full =>
            {
                var e = UpstreamFields(sandbox, now);
                var room = full is null ? HistoryAttribute.Append(e, revival) : HistoryAttribute.Replace(e, full, revival);
                return (e, $"{e.Attr(Status)} = {e.Val(SandboxStatusNames.Stale)} AND {room}");
            }, ct);
            await EnsureAccountMarkerAsync(sandbox, now, ct);
            return revived is not null ? UpsertOutcome.Revived : UpsertOutcome.Untouched;
        }
        catch (ConditionalCheckFailedException ex) when (Has(ex.Item))
        {
            await EnsureAccountMarkerAsync(sandbox, now, ct);
            return UpsertOutcome.Untouched; // allocated, pending, failed or a tombstone: never made available again
        }
        catch (ConditionalCheckFailedException)
        {
            return await RegisterAsync(sandbox, now, cause, ct) ? UpsertOutcome.Created : UpsertOutcome.Untouched;
        }
    }

    /// <summary>
    /// The sandbox item and its account marker (ACCT#&lt;external_id&gt;) in one transaction: a new record only when
    /// neither its id nor its CSP account is known, so one account is never stored under two sandbox ids. The marker
    /// outlives the record: a deleted account never comes back upstream.
    /// </summary>
    public async Task<bool> RegisterAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct)
    {
        var e = new Expr();
        var item = NewAvailable(sandbox, now);
        item[History] = HistoryAttribute.First(SandboxEvent.Created(cause, now));
        var marker = AccountMarker(sandbox, now);
        var absent = $"attribute_not_exists({e.Attr(PartitionKey)})";
        var request = new TransactWriteItemsRequest
        {
            TransactItems =
            [
                new TransactWriteItem { Put = new Put { TableName = table.Name, Item = item, ConditionExpression = absent, ExpressionAttributeNames = e.Names } },
                new TransactWriteItem { Put = new Put { TableName = table.Name, Item = marker, ConditionExpression = absent, ExpressionAttributeNames = e.Names } },
            ],
        };
        try
        {
            await table.CallAsync("TransactWriteItems", c => table.Client.TransactWriteItemsAsync(request, c), ct);
            return true;
        }
        catch (TransactionCanceledException ex) when (ex.CancellationReasons?.Exists(r => r.Code == "ConditionalCheckFailed") == true)
        {
            return false;
        }
    }

    private static Dictionary<string, AttributeValue> AccountMarker(UpstreamSandbox sandbox, long now) => new()
    {
        [PartitionKey] = S(AccountPkPrefix + sandbox.ExternalId),
        [TableLayout.SortKey] = S(SandboxSk),
        [AccountSandboxId] = S(sandbox.SandboxId),
        [CreatedAt] = N(now),
    };

    /// <summary>
    /// Records registered before account markers existed have none, so their account was not protected from a second
    /// registration under another id. Sync's refresh writes the missing marker (once per account and process; a
    /// conditional put, so a marker in place is never changed) and reports an account already held by another record.
    /// </summary>
    private async Task EnsureAccountMarkerAsync(UpstreamSandbox sandbox, long now, CancellationToken ct)
    {
        if (sandbox.ExternalId.Length == 0 || markedAccounts.ContainsKey(sandbox.ExternalId))
        {
            return;
        }

        var e = new Expr();
        var request = new PutItemRequest
        {
            TableName = table.Name,
            Item = AccountMarker(sandbox, now),
            ConditionExpression = $"attribute_not_exists({e.Attr(PartitionKey)})",
            ExpressionAttributeNames = e.Names,
            ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
        };
        try
        {
            await table.CallAsync("PutItem", c => table.Client.PutItemAsync(request, c), ct, background: true);
        }
        catch (ConditionalCheckFailedException ex) when (Has(ex.Item) && Str(ex.Item, AccountSandboxId) is { } holder && holder != sandbox.SandboxId)
        {
            DynamoDbLog.AccountHeldTwice(table.Logger, sandbox.ExternalId, holder, sandbox.SandboxId);
        }
        catch (ConditionalCheckFailedException)
        {
            // already marked for this sandbox
        }

        markedAccounts.TryAdd(sandbox.ExternalId, true);
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

    /// <summary>
    /// One conditional update that appends a history event (<paramref name="build"/> makes it, given null, or the item
    /// read when its history was full); when the condition failed on an item whose history is full, once more with the
    /// history trimmed (conditional on the size read). Answers the item as written, or the item as it is when the
    /// condition did not hold (null when there is none).
    /// </summary>
    private async Task<(Sandbox? Applied, Dictionary<string, AttributeValue>? Current)> UpdateWithEventAsync(
        string sandboxId, Func<Dictionary<string, AttributeValue>?, (Expr E, string Condition)> build, CancellationToken ct)
    {
        Dictionary<string, AttributeValue>? full = null;
        while (true)
        {
            var (e, condition) = build(full);
            var request = Update(Key(sandboxId), e, condition);
            request.ReturnValues = ReturnValue.ALL_NEW;
            request.ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD;
            try
            {
                var response = await table.CallAsync("UpdateItem", c => table.Client.UpdateItemAsync(request, c), ct);
                return (FromItem(response.Attributes), null);
            }
            catch (ConditionalCheckFailedException ex)
            {
                var current = Has(ex.Item) ? ex.Item : null;
                if (full is null && HistoryAttribute.IsFull(current))
                {
                    full = current; // maybe only the history had no room: try once with it trimmed
                    continue;
                }

                return (null, current);
            }
        }
    }

    private static (Expr, string) TransitionExpression(StateChange change, SandboxEvent sandboxEvent, Dictionary<string, AttributeValue>? full)
    {
        var e = new Expr()
            .Set(Status, change.To.ToWire())
            .Set(UpdatedAt, change.Now)
            .SetIfPresent(DeletionRequestedAt, change.DeletionRequestedAt)
            .SetIfPresent(DeletionRetryCount, change.DeletionRetryCount)
            .SetIfPresent(DeletedAt, change.DeletedAt)
            .SetIfPresent(DeletionVerifiedAt, change.DeletionVerifiedAt)
            .SetIfPresent(ExpiresAt, change.ExpiresAt)
            .SetIfPresent(ReservationId, change.ReservationId)
            .SetIfPresent(ReservedFor, change.ReservedFor);
        if (change.ClearDeletedAt)
        {
            e.Remove(DeletedAt);
        }

        if (change.NiosXaas is { } mark)
        {
            // The original's shape: the flag and the reason only when they say something.
            e.SetIfPresent(NiosxaasCleanedAt, mark.CleanedAt)
                .SetOrRemove(NiosxaasCleanupFailedReason, string.IsNullOrEmpty(mark.FailedReason) ? null : mark.FailedReason);
            _ = mark.Skipped ? e.Set(NiosxaasCleanupSkipped, new AttributeValue { BOOL = true }) : e.Remove(NiosxaasCleanupSkipped);
        }

        if (change.ClearReservation)
        {
            e.Remove(ReservationId).Remove(ReservedFor);
        }

        _ = change.ClearLastError ? e.Remove(LastError) : e.SetIfPresent(LastError, change.LastError);
        _ = change.ClearNextAttempt ? e.Remove(NextAttemptAt) : e.SetIfPresent(NextAttemptAt, change.NextAttemptAt);
        // Only available sandboxes carry a numeric avail_shard: that keeps the AvailableIndex sparse. A reserved one
        // carries its lab's R#<lab> instead, and gets a numeric one back when its hold ends; an unverified tombstone U#.
        _ = (change.From, change.To) switch
        {
            (_, SandboxStatus.Reserved) when change.ReservedFor is not null => e.Set(AvailShard, ReservedShardPrefix + change.ReservedFor),
            (SandboxStatus.Reserved, SandboxStatus.Available) => e.Set(AvailShard, RandomShard()),
            (_, SandboxStatus.Available) => e.SetRaw($"{e.Attr(AvailShard)} = if_not_exists({e.Attr(AvailShard)}, {e.Val(RandomShard())})"),
            (SandboxStatus.Reserved, SandboxStatus.Reserved) => e,
            // An unverified tombstone carries U# until a sync verifies it (or it goes back to pending_deletion).
            (_, SandboxStatus.Deleted) when change.DeletionVerifiedAt is not null => e.Remove(AvailShard),
            (not SandboxStatus.Deleted, SandboxStatus.Deleted) when change.DeletedAt is not null => e.Set(AvailShard, UnverifiedShard),
            (SandboxStatus.Deleted, SandboxStatus.Deleted) => e,
            _ => e.Remove(AvailShard),
        };
        var room = full is null ? HistoryAttribute.Append(e, sandboxEvent) : HistoryAttribute.Replace(e, full, sandboxEvent);
        // A tombstone gets deleted_at only; the purge job removes it once its id is gone upstream (no TTL, which
        // would delete it without that check).
        var condition = $"attribute_exists({e.Attr(PartitionKey)}) AND {e.Attr(Status)} = {e.Val(change.From.ToWire())} AND {room}";
        if (change.RequireHolder is not null)
        {
            condition += $" AND {e.Attr(AllocatedToTrack)} = {e.Val(change.RequireHolder)}";
            if (change.RequireAllocatedVia is not null)
            {
                var via = e.Attr(AllocatedVia);
                condition += $" AND (attribute_not_exists({via}) OR {via} = {e.Val(change.RequireAllocatedVia)})";
            }
        }

        if (change.RequireUnverified)
        {
            condition += $" AND attribute_not_exists({e.Attr(DeletionVerifiedAt)})";
        }

        if (change.RequireRetryCount is { } retries)
        {
            var count = e.Attr(DeletionRetryCount);
            condition += retries == 0
                ? $" AND ({count} = {e.Val(0)} OR attribute_not_exists({count}))"
                : $" AND {count} = {e.Val(retries)}";
        }

        if (change.RequireUpdatedAtOrBefore is { } untouchedSince)
        {
            condition += $" AND {e.Attr(UpdatedAt)} <= {e.Val(untouchedSince)}";
        }

        if (change.RequireReservationId is not null)
        {
            condition += $" AND {e.Attr(ReservationId)} = {e.Val(change.RequireReservationId)}";
        }

        if (change.RequireExpiresAt is { } expiresAt)
        {
            var expires = e.Attr(ExpiresAt);
            condition += expiresAt == 0
                ? $" AND attribute_not_exists({expires})"
                : $" AND {expires} = {e.Val(expiresAt)}";
        }

        return (e, condition);
    }

    /// <summary>What sync writes of a sandbox it sees upstream (available again, with the upstream fields).</summary>
    private static Expr UpstreamFields(UpstreamSandbox sandbox, long now)
    {
        var e = new Expr()
            .Set(Status, SandboxStatusNames.Available)
            .Set(Name, sandbox.Name)
            .Set(ExternalId, sandbox.ExternalId)
            .SetOrRemove(SfdcAccountId, string.IsNullOrEmpty(sandbox.SfdcAccountId) ? null : sandbox.SfdcAccountId)
            .Set(LastSynced, now)
            .Set(UpdatedAt, now);
        e.SetRaw($"{e.Attr(AvailShard)} = if_not_exists({e.Attr(AvailShard)}, {e.Val(RandomShard())})");
        return e;
    }

    private UpdateItemRequest Update(Dictionary<string, AttributeValue> key, Expr e, string condition) => new()
    {
        TableName = table.Name,
        Key = key,
        UpdateExpression = e.Update(),
        ConditionExpression = condition,
        ExpressionAttributeNames = e.Names,
        ExpressionAttributeValues = e.Values,
    };
}
