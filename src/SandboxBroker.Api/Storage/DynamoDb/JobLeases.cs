using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// Job run locks and last runs (JOB#job / LEASE), each changed by one conditional write. A JOBINDEX item lists the job
/// names, so listing jobs needs no Scan.
/// </summary>
internal sealed class JobLeases(DynamoDbTable table)
{
    public async Task<bool> TryAcquireJobLeaseAsync(JobLeaseRequest request, CancellationToken ct)
    {
        var e = new Expr()
            .Set(JobName, request.Job)
            .Set(LeaseOwner, request.Owner)
            .Set(LeaseExpiresAt, request.LeaseUntil)
            .Set(LastRunAt, request.Now)
            .SetOrRemove(CurrentRunId, request.RunId);
        var exists = $"attribute_exists({e.Attr(PartitionKey)})";
        var free = $"({e.Attr(LeaseExpiresAt)} <= {e.Val(request.Now)} OR {e.Attr(LeaseOwner)} = {e.Val(request.Owner)})";
        // An absent item counts as last_run_at = 0, as on SQLite.
        var condition = request.ExpectedLastRunAt switch
        {
            null => $"NOT {exists} OR {free}",
            0 => $"NOT {exists} OR ({free} AND {e.Attr(LastRunAt)} = {e.Val(0)})",
            { } expected => $"{exists} AND {free} AND {e.Attr(LastRunAt)} = {e.Val(expected)}",
        };
        if (!await table.TryConditionalUpdateAsync(JobKey(request.Job), e, condition, ct))
        {
            return false;
        }

        await RegisterJobNameAsync(request.Job, ct);
        return true;
    }

    public async Task<bool> RenewJobLeaseAsync(string job, string owner, long leaseUntil, CancellationToken ct)
    {
        var e = new Expr().Set(LeaseExpiresAt, leaseUntil);
        return await table.TryConditionalUpdateAsync(JobKey(job), e, $"{e.Attr(LeaseOwner)} = {e.Val(owner)}", ct);
    }

    public async Task CompleteJobAsync(JobCompletion completion, CancellationToken ct)
    {
        var e = new Expr()
            .Set(LeaseExpiresAt, 0)
            .Set(LastFinishedAt, completion.FinishedAt)
            .Set(LastOutcome, completion.Outcome)
            .Set(LastDurationMs, completion.DurationMs)
            .SetIfPresent(LastSuccessAt, completion.Succeeded ? completion.FinishedAt : null)
            .Remove(LeaseOwner);
        // false: the lease expired and another instance took it; its record wins.
        await table.TryConditionalUpdateAsync(JobKey(completion.Job), e, $"{e.Attr(LeaseOwner)} = {e.Val(completion.Owner)}", ct);
    }

    public async Task<JobState?> GetJobStateAsync(string job, CancellationToken ct) =>
        await table.GetItemAsync(JobKey(job), ct, background: true) is { } item ? MapJob(item) : null;

    public async Task<IReadOnlyList<JobState>> ListJobStatesAsync(CancellationToken ct)
    {
        var index = await table.GetItemAsync(JobIndexKey(), ct, background: true);
        var names = index is not null && index.TryGetValue(JobNames, out var set) ? set.SS ?? [] : [];
        var states = new List<JobState>(names.Count);
        foreach (var chunk in names.Order(StringComparer.Ordinal).Chunk(100))
        {
            var keys = new KeysAndAttributes { Keys = [.. chunk.Select(JobKey)], ConsistentRead = true };
            var request = new BatchGetItemRequest { RequestItems = new() { [table.Name] = keys } };
            while (request.RequestItems is { Count: > 0 })
            {
                var response = await table.CallAsync("BatchGetItem", c => table.Client.BatchGetItemAsync(request, c), ct, background: true);
                if (response.Responses?.TryGetValue(table.Name, out var items) == true)
                {
                    states.AddRange(items.Select(MapJob));
                }

                request.RequestItems = Has(response.UnprocessedKeys) ? response.UnprocessedKeys : null;
            }
        }

        return [.. states.OrderBy(s => s.Job, StringComparer.Ordinal)];
    }

    /// <summary>Idempotent: ADD to a string set. Runs after every acquisition, so a failed earlier attempt heals.</summary>
    private async Task RegisterJobNameAsync(string job, CancellationToken ct)
    {
        var e = new Expr();
        var request = new UpdateItemRequest
        {
            TableName = table.Name,
            Key = JobIndexKey(),
            UpdateExpression = $"ADD {e.Attr(JobNames)} {e.Val(new AttributeValue { SS = [job] })}",
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
        };
        await table.CallAsync("UpdateItem", c => table.Client.UpdateItemAsync(request, c), ct);
    }

    private static Dictionary<string, AttributeValue> JobKey(string job) =>
        new() { [PartitionKey] = S(JobPkPrefix + job), [TableLayout.SortKey] = S(JobSk) };

    private static Dictionary<string, AttributeValue> JobIndexKey() =>
        new() { [PartitionKey] = S(JobIndexPk), [TableLayout.SortKey] = S(SandboxSk) };

    private static JobState MapJob(Dictionary<string, AttributeValue> item) => new()
    {
        Job = Str(item, JobName) ?? Str(item, PartitionKey)![JobPkPrefix.Length..],
        LeaseOwner = Str(item, LeaseOwner),
        LeaseExpiresAt = Long(item, LeaseExpiresAt) ?? 0,
        LastRunAt = Long(item, LastRunAt) ?? 0,
        LastFinishedAt = Long(item, LastFinishedAt),
        LastOutcome = Str(item, LastOutcome),
        LastDurationMs = Long(item, LastDurationMs),
        LastSuccessAt = Long(item, LastSuccessAt),
        CurrentRunId = Str(item, CurrentRunId),
    };
}
