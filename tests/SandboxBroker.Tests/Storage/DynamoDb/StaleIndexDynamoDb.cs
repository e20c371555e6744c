using System.Reflection;
using System.Runtime.ExceptionServices;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage.DynamoDb;

namespace SandboxBroker.Tests.Storage.DynamoDb;

/// <summary>
/// An <see cref="IAmazonDynamoDB"/> whose candidate queries (AvailableIndex, and StatusIndex for available items) are
/// answered from a snapshot of the table taken earlier: what a lagging GSI of real DynamoDB can show. Every other
/// call (claims, consistent reads, counts) goes to the live table.
/// </summary>
public class StaleIndexDynamoDb : DispatchProxy
{
    private IAmazonDynamoDB? target;
    private string snapshotTable = "";
    private int staleAnswers;

    /// <summary>Candidate queries answered from the snapshot.</summary>
    public int StaleAnswers => Volatile.Read(ref staleAnswers);

    /// <summary>Copies <paramref name="table"/> into a new table (same layout) and returns a client that reads candidates from the copy.</summary>
    public static async Task<(IAmazonDynamoDB Client, StaleIndexDynamoDb Stale)> SnapshotAsync(IAmazonDynamoDB live, IAmazonDynamoDB through, string table)
    {
        var snapshot = table + "-snapshot";
        await live.CreateTableAsync(TableDefinition.Create(snapshot));
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await live.ScanAsync(new ScanRequest { TableName = table, ExclusiveStartKey = start });
            foreach (var chunk in (page.Items ?? []).Chunk(25))
            {
                // A batch may come back with items unprocessed (DynamoDB Local under a loaded machine too): write those
                // again, or the snapshot would silently lack sandboxes and a test would read a 409 it caused itself.
                var pending = new Dictionary<string, List<WriteRequest>>
                {
                    [snapshot] = [.. chunk.Select(item => new WriteRequest { PutRequest = new PutRequest { Item = item } })],
                };
                for (var attempt = 0; pending.Count > 0; attempt++)
                {
                    if (attempt == 20)
                    {
                        throw new InvalidOperationException($"the snapshot of {table} kept items unprocessed after {attempt} batches");
                    }

                    var response = await live.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = pending });
                    pending = response.UnprocessedItems is { Count: > 0 } left ? left : [];
                    if (pending.Count > 0)
                    {
                        await Task.Delay(50 * (attempt + 1));
                    }
                }
            }

            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        var copied = await live.ScanAsync(new ScanRequest { TableName = snapshot, Select = Select.COUNT, ConsistentRead = true });
        var original = await live.ScanAsync(new ScanRequest { TableName = table, Select = Select.COUNT, ConsistentRead = true });
        if (copied.Count != original.Count)
        {
            throw new InvalidOperationException($"the snapshot holds {copied.Count} items, {table} {original.Count}");
        }

        var proxy = Create<IAmazonDynamoDB, StaleIndexDynamoDb>();
        var stale = (StaleIndexDynamoDb)(object)proxy;
        stale.target = through;
        stale.snapshotTable = snapshot;
        return (proxy, stale);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IAmazonDynamoDB.QueryAsync) && args is [QueryRequest query, ..] && IsCandidateQuery(query))
        {
            query.TableName = snapshotTable;
            Interlocked.Increment(ref staleAnswers);
        }

        try
        {
            return targetMethod.Invoke(target, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }

    private static bool IsCandidateQuery(QueryRequest query) =>
        query.IndexName == TableLayout.AvailableIndex
        || (query.IndexName == TableLayout.StatusIndex && query.Select != Select.COUNT
            && query.ExpressionAttributeValues?.Values.Any(v => v.S == SandboxStatusNames.Available) == true);
}
