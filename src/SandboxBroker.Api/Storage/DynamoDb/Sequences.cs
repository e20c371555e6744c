using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>Named counters (COUNTER#name / META), changed by an atomic ADD.</summary>
internal sealed class Sequences(DynamoDbTable table)
{
    public async Task<long> AddToSequenceAsync(string name, long delta, CancellationToken ct)
    {
        var e = new Expr();
        var request = new UpdateItemRequest
        {
            TableName = table.Name,
            Key = new() { [PartitionKey] = S(CounterPkPrefix + name), [TableLayout.SortKey] = S(SandboxSk) },
            UpdateExpression = $"ADD {e.Attr(CounterValue)} {e.Val(delta)}",
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
            ReturnValues = ReturnValue.UPDATED_NEW,
        };
        var response = await table.CallAsync("UpdateItem", c => table.Client.UpdateItemAsync(request, c), ct);
        return Long(response.Attributes ?? [], CounterValue) ?? 0;
    }
}
