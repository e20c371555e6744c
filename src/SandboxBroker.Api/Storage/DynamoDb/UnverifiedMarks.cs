using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// Gives the unverified tombstones written before the U# mark existed their mark, once per table: the one read of
/// every tombstone this layout change costs, after which counts never read tombstones. A marker item (LAYOUT /
/// UNVERIFIED_MARKS) records that it ran, so later start-ups and other replicas skip it.
/// </summary>
internal sealed class UnverifiedMarks(DynamoDbTable table)
{
    private static Dictionary<string, AttributeValue> DoneKey() => new() { [PartitionKey] = S("LAYOUT"), [TableLayout.SortKey] = S("UNVERIFIED_MARKS") };

    public async Task BackfillOnceAsync(CancellationToken ct)
    {
        if (await table.GetItemAsync(DoneKey(), ct, background: true) is not null)
        {
            return;
        }

        var e = new Expr();
        var request = new QueryRequest
        {
            TableName = table.Name,
            IndexName = StatusIndex,
            KeyConditionExpression = $"{e.Attr(Status)} = {e.Val(SandboxStatusNames.Deleted)}",
            FilterExpression = $"attribute_exists({e.Attr(DeletedAt)}) AND attribute_not_exists({e.Attr(DeletionVerifiedAt)}) AND attribute_not_exists({e.Attr(AvailShard)})",
            ProjectionExpression = $"{e.Attr(PartitionKey)}, {e.Attr(TableLayout.SortKey)}",
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
        };
        var pending = new List<Dictionary<string, AttributeValue>>();
        await table.QueryPagesAsync(request, page => { pending.AddRange(page); return true; }, ct);
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (key, c) =>
        {
            var mark = new Expr().Set(AvailShard, UnverifiedShard);
            // false: verified, revived or marked meanwhile; the write that did it set the mark right.
            await table.TryConditionalUpdateAsync(key, mark,
                $"{mark.Attr(Status)} = {mark.Val(SandboxStatusNames.Deleted)} AND attribute_not_exists({mark.Attr(DeletionVerifiedAt)}) AND attribute_not_exists({mark.Attr(AvailShard)})", c);
        });
        if (pending.Count > 0)
        {
            DynamoDbLog.Backfilled(table.Logger, pending.Count, "unverified tombstones marked U#");
        }

        var done = DoneKey();
        await table.CallAsync("PutItem", c => table.Client.PutItemAsync(new PutItemRequest { TableName = table.Name, Item = done }, c), ct);
    }
}
