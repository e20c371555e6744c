using Amazon.DynamoDBv2.Model;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// Run records (JOBRUN#job / run_id): written whole at each save (start, progress, end); when a run ends, the job's
/// records beyond the newest <see cref="JobRun.KeptPerJob"/> are deleted. Run ids sort by start time, so a Query in
/// key order reads a job's newest runs.
/// </summary>
internal sealed class JobRuns(DynamoDbTable table)
{
    public async Task SaveAsync(JobRun run, CancellationToken ct)
    {
        var item = KeyOf(run.Job, run.RunId);
        item[JobName] = S(run.Job);
        item[RunId] = S(run.RunId);
        item[Trigger] = S(run.Trigger);
        item[Instance] = S(run.Instance);
        item[StartedAt] = N(run.StartedAt);
        item[UpdatedAt] = N(run.UpdatedAt);
        item[Counts] = new AttributeValue { M = run.Counts.ToDictionary(c => c.Key, c => N(c.Value), StringComparer.Ordinal), IsMSet = true };
        if (run.FinishedAt is { } finished)
        {
            item[FinishedAt] = N(finished);
        }

        if (run.Outcome is { } outcome)
        {
            item[Outcome] = S(outcome);
        }

        var request = new PutItemRequest { TableName = table.Name, Item = item };
        await table.CallAsync("PutItem", c => table.Client.PutItemAsync(request, c), ct);
        if (run.FinishedAt is not null)
        {
            await TrimAsync(run.Job, ct);
        }
    }

    public async Task<JobRun?> GetAsync(string runId, CancellationToken ct) =>
        JobRunIds.TryParseJob(runId, out var job) && await table.GetItemAsync(KeyOf(job, runId), ct, background: true) is { } item ? Map(item) : null;

    public async Task<IReadOnlyList<JobRun>> ListAsync(string job, int limit, CancellationToken ct)
    {
        var runs = new List<JobRun>();
        await table.QueryPagesAsync(NewestFirst(job, limit), items =>
        {
            runs.AddRange(items.Select(Map).Take(limit - runs.Count));
            return runs.Count < limit;
        }, ct);
        return runs;
    }

    private async Task TrimAsync(string job, CancellationToken ct)
    {
        var keys = new List<Dictionary<string, AttributeValue>>();
        var request = NewestFirst(job, 100);
        request.ProjectionExpression = $"{PartitionKey}, {TableLayout.SortKey}";
        await table.QueryPagesAsync(request, items =>
        {
            keys.AddRange(items);
            return true;
        }, ct);
        foreach (var key in keys.Skip(JobRun.KeptPerJob))
        {
            var delete = new DeleteItemRequest { TableName = table.Name, Key = key };
            await table.CallAsync("DeleteItem", c => table.Client.DeleteItemAsync(delete, c), ct);
        }
    }

    private QueryRequest NewestFirst(string job, int limit)
    {
        var e = new Expr();
        return new QueryRequest
        {
            TableName = table.Name,
            KeyConditionExpression = $"{e.Attr(PartitionKey)} = {e.Val(JobRunPkPrefix + job)}",
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
            ScanIndexForward = false,
            ConsistentRead = true,
            Limit = limit,
        };
    }

    private static Dictionary<string, AttributeValue> KeyOf(string job, string runId) =>
        new() { [PartitionKey] = S(JobRunPkPrefix + job), [TableLayout.SortKey] = S(runId) };

    private static JobRun Map(Dictionary<string, AttributeValue> item) => new()
    {
        RunId = Str(item, RunId) ?? Str(item, TableLayout.SortKey) ?? "",
        Job = Str(item, JobName) ?? "",
        Trigger = Str(item, Trigger) ?? "",
        Instance = Str(item, Instance) ?? "",
        StartedAt = Long(item, StartedAt) ?? 0,
        FinishedAt = Long(item, FinishedAt),
        Outcome = Str(item, Outcome),
        UpdatedAt = Long(item, UpdatedAt) ?? 0,
        Counts = item.TryGetValue(Counts, out var counts) && counts.M is { } map
            ? map.ToDictionary(c => c.Key, c => Long(map, c.Key) ?? 0, StringComparer.Ordinal)
            : new Dictionary<string, long>(StringComparer.Ordinal),
    };
}
