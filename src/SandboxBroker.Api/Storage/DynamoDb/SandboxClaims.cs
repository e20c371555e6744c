using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>The claim: one transaction of the idempotency record and the conditional available → allocated write.</summary>
internal sealed class SandboxClaims(DynamoDbTable table, CandidateWindows windows, RecentClaims recentClaims)
{
    public Task<ClaimResult> TryClaimAsync(ClaimRequest request, CancellationToken ct) =>
        recentClaims.Contains(request.SandboxId)
            ? Task.FromResult<ClaimResult>(new ClaimResult.SandboxTaken(WindowStale: false)) // claimed by another request of this process: the write would fail
            : TryClaimAsync(request, fullHistory: null, ct);

    /// <summary>
    /// The claim transaction; <paramref name="fullHistory"/> is the item as read when a first attempt failed only
    /// because its history had no room (the retry trims it).
    /// </summary>
    private async Task<ClaimResult> TryClaimAsync(ClaimRequest request, Dictionary<string, AttributeValue>? fullHistory, CancellationToken ct)
    {

        var key = new Expr();
        var keyCondition = request.ReplacesSandboxId is null
            ? $"attribute_not_exists({key.Attr(PartitionKey)})"
            : $"{key.Attr(IdempotencySandboxId)} = {key.Val(request.ReplacesSandboxId)}";
        var record = IdempotencyKeyOf(request.Requester, request.IdempotencyKey);
        record[IdempotencySandboxId] = S(request.SandboxId);
        record[UpdatedAt] = N(request.Now);

        var claim = new Expr()
            .Set(Status, SandboxStatusNames.Allocated)
            .Set(AllocatedToTrack, request.Requester)
            .Set(AllocatedAt, request.Now)
            .Set(IdempotencyKey, request.IdempotencyKey)
            .SetOrRemove(TrackName, request.ReservedFor ?? request.TrackName)
            .SetOrRemove(AllocatedVia, request.AllocatedVia)
            .Set(ExpiresAt, request.ExpiresAt)
            .Set(LabDurationHours, N(request.LabDurationHours))
            .Set(UpdatedAt, request.Now)
            .Remove(AvailShard)
            .Remove(ReservedFor); // reservation_id stays: the reservation's allocated count
        var room = fullHistory is null ? HistoryAttribute.Append(claim, request.Event()) : HistoryAttribute.Replace(claim, fullHistory, request.Event());
        var claimCondition = request.ReservedFor is null
            ? $"{claim.Attr(Status)} = {claim.Val(SandboxStatusNames.Available)} AND {room}"
            : $"{claim.Attr(Status)} = {claim.Val(SandboxStatusNames.Reserved)} AND {claim.Attr(ReservedFor)} = {claim.Val(request.ReservedFor)} AND {room}";

        var transaction = new TransactWriteItemsRequest
        {
            TransactItems =
            [
                new TransactWriteItem
                {
                    Put = new Put
                    {
                        TableName = table.Name,
                        Item = record,
                        ConditionExpression = keyCondition,
                        ExpressionAttributeNames = key.NamesOrNull,
                        ExpressionAttributeValues = key.ValuesOrNull,
                        ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
                    },
                },
                new TransactWriteItem
                {
                    Update = new Update
                    {
                        TableName = table.Name,
                        Key = Key(request.SandboxId),
                        UpdateExpression = claim.Update(),
                        ConditionExpression = claimCondition,
                        ExpressionAttributeNames = claim.Names,
                        ExpressionAttributeValues = claim.Values,
                        ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
                    },
                },
            ],
        };

        string? keyHolder;
        try
        {
            await table.CallAsync("TransactWriteItems", c => table.Client.TransactWriteItemsAsync(transaction, c), ct);
            recentClaims.Note(request.SandboxId);
            return new ClaimResult.Claimed(await ClaimedSandboxAsync(request, ct));
        }
        catch (TransactionCanceledException ex) when (IsThrottled(ex))
        {
            DynamoDbLog.StoreUnavailable(table.Logger, "TransactWriteItems", "throttled", ex.Message);
            throw new StoreUnavailableException("DynamoDB throttled the claim", ex);
        }
        catch (TransactionCanceledException ex) when (ReasonCode(ex, 0) is "ConditionalCheckFailed" or "TransactionConflict")
        {
            // The record exists (or another call of this requester and key is writing it right now): that call wins.
            keyHolder = ex.CancellationReasons[0].Item is { Count: > 0 } old ? Str(old, IdempotencySandboxId) : null;
        }
        catch (TransactionCanceledException ex) when (ReasonCode(ex, 1) == "ConditionalCheckFailed" || IsConflict(ex))
        {
            // Someone else claimed the sandbox (or a concurrent transaction touched it): the caller tries another.
            // Once past available/stale it never returns, so this process leaves it out of later windows.
            if (ReasonCode(ex, 1) == "ConditionalCheckFailed" && ex.CancellationReasons[1].Item is { Count: > 0 } current)
            {
                if (FromItem(current) is { Status: not (SandboxStatus.Available or SandboxStatus.Stale or SandboxStatus.Reserved) })
                {
                    recentClaims.Note(request.SandboxId);
                }
                else if (fullHistory is null && FromItem(current) is { Status: SandboxStatus.Available or SandboxStatus.Reserved } && HistoryAttribute.IsFull(current))
                {
                    return await TryClaimAsync(request, current, ct); // available, but its history had no room
                }
            }

            return new ClaimResult.SandboxTaken();
        }

        // A concurrent call of this requester and key won the record; tell the caller which sandbox it names.
        return new ClaimResult.KeyTaken(keyHolder
            ?? (await table.GetItemAsync(IdempotencyKeyOf(request.Requester, request.IdempotencyKey), ct) is { } item ? Str(item, IdempotencySandboxId) : null));
    }

    /// <summary>The claimed sandbox from the candidate a window read and the values just written: no extra read.</summary>
    private async Task<Sandbox> ClaimedSandboxAsync(ClaimRequest request, CancellationToken ct)
    {
        if (!windows.TryTake(request.SandboxId, out var candidate))
        {
            // Claimed without a window of this process (tests, tools): read what was written.
            return FromItem(await table.GetItemAsync(Key(request.SandboxId), ct))
                ?? throw new InvalidOperationException($"sandbox {request.SandboxId} vanished right after it was claimed");
        }

        return candidate with
        {
            Status = SandboxStatus.Allocated,
            AllocatedTo = request.Requester,
            AllocatedAt = request.Now,
            IdempotencyKey = request.IdempotencyKey,
            TrackName = request.ReservedFor ?? request.TrackName,
            AllocatedVia = request.AllocatedVia,
            ReservedFor = null,
            ExpiresAt = request.ExpiresAt,
            LabDurationHours = request.LabDurationHours,
            UpdatedAt = request.Now,
        };
    }

    private static string? ReasonCode(TransactionCanceledException ex, int index) =>
        ex.CancellationReasons is { } reasons && reasons.Count > index ? reasons[index].Code : null;

    private static bool IsThrottled(TransactionCanceledException ex) =>
        ex.CancellationReasons?.Exists(r => r.Code is "ThrottlingError" or "ProvisionedThroughputExceeded" or "RequestLimitExceeded") == true;

    private static bool IsConflict(TransactionCanceledException ex) =>
        ex.CancellationReasons?.Exists(r => r.Code == "TransactionConflict") == true;
}
