using System.Diagnostics;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// Start-up: table creation for dev and tests (production tables come from Terraform, and an adopted table of the
/// original may lack AvailableIndex), then a check of the layout allocation relies on.
/// </summary>
internal sealed class TableBootstrap(DynamoDbTable table)
{
    private static readonly TimeSpan ActiveWait = TimeSpan.FromMinutes(5);
    private readonly ILogger logger = table.Logger;

    /// <summary>Creates or checks the table; false when it lacks AvailableIndex (candidates then come from StatusIndex).</summary>
    public async Task<bool> EnsureAsync(CancellationToken ct)
    {
        if (table.Options.CreateTable)
        {
            await CreateTableIfMissingAsync(ct);
            await EnableTtlAsync(ct);
            return true;
        }

        return await CheckLayoutAsync(ct);
    }

    private async Task CreateTableIfMissingAsync(CancellationToken ct)
    {
        var created = false;
        if (await DescribeAsync(ct) is null)
        {
            try
            {
                await table.CallAsync("CreateTable", c => table.Client.CreateTableAsync(TableDefinition.Create(table.Name), c), ct);
                created = true;
            }
            catch (ResourceInUseException)
            {
                // Another replica (or test) is creating it: wait for ACTIVE below.
            }
        }

        var description = await WaitActiveAsync(ct);
        foreach (var index in TableDefinition.Indexes)
        {
            if (description.GlobalSecondaryIndexes?.Exists(i => i.IndexName == index.IndexName) == true)
            {
                continue;
            }

            // An existing table of the original lacks AvailableIndex: add it (one index per UpdateTable call).
            var provisioned = description.BillingModeSummary?.BillingMode != BillingMode.PAY_PER_REQUEST
                && description.ProvisionedThroughput?.ReadCapacityUnits > 0;
            await table.CallAsync("UpdateTable", c => table.Client.UpdateTableAsync(TableDefinition.AddIndex(table.Name, index, provisioned), c), ct);
            description = await WaitActiveAsync(ct);
            DynamoDbLog.IndexAdded(logger, table.Name, index.IndexName);
        }

        var names = string.Join(", ", description.GlobalSecondaryIndexes?.Select(i => i.IndexName) ?? []);
        if (created)
        {
            DynamoDbLog.TableCreated(logger, table.Name, names);
        }
        else
        {
            DynamoDbLog.TableReady(logger, table.Name, names);
        }
    }

    private async Task<TableDescription?> DescribeAsync(CancellationToken ct)
    {
        return await table.CallAsync("DescribeTable", async c =>
        {
            try
            {
                return (await table.Client.DescribeTableAsync(table.Name, c)).Table;
            }
            catch (ResourceNotFoundException)
            {
                return null;
            }
        }, ct);
    }

    /// <summary>Waits until the table and every index are ACTIVE (index creation takes a while on real DynamoDB).</summary>
    private async Task<TableDescription> WaitActiveAsync(CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var description = await DescribeAsync(ct);
            if (description is not null && description.TableStatus == TableStatus.ACTIVE
                && (description.GlobalSecondaryIndexes ?? []).TrueForAll(i => i.IndexStatus == IndexStatus.ACTIVE))
            {
                return description;
            }

            if (Stopwatch.GetElapsedTime(started) > ActiveWait)
            {
                var states = string.Join(", ", (description?.GlobalSecondaryIndexes ?? []).Select(i => $"{i.IndexName}={i.IndexStatus}"));
                throw new StoreUnavailableException(
                    $"DynamoDB table {table.Name} ({description?.TableStatus}; {states}) and its indexes were not ACTIVE within {ActiveWait}");
            }

            await Task.Delay(delay, ct);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
        }
    }

    private async Task EnableTtlAsync(CancellationToken ct)
    {
        try
        {
            var current = await table.Client.DescribeTimeToLiveAsync(new DescribeTimeToLiveRequest { TableName = table.Name }, ct);
            var status = current.TimeToLiveDescription?.TimeToLiveStatus;
            if (status == TimeToLiveStatus.ENABLED || status == TimeToLiveStatus.ENABLING)
            {
                return;
            }

            await table.Client.UpdateTimeToLiveAsync(new UpdateTimeToLiveRequest
            {
                TableName = table.Name,
                TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = Ttl, Enabled = true },
            }, ct);
        }
        catch (AmazonDynamoDBException ex)
        {
            DynamoDbLog.TtlFailed(logger, table.Name, Ttl, ex.Message); // not needed for correctness: the purge job removes tombstones
        }
    }

    /// <summary>Production tables come from Terraform; an adopted table of the original may lack AvailableIndex.</summary>
    private async Task<bool> CheckLayoutAsync(CancellationToken ct)
    {
        TableDescription? description;
        try
        {
            description = await DescribeAsync(ct);
        }
        catch (StoreUnavailableException ex) when (ex.InnerException is AmazonDynamoDBException { ErrorCode: "AccessDeniedException" })
        {
            DynamoDbLog.DescribeFailed(logger, table.Name, "dynamodb:DescribeTable is not allowed");
            return true;
        }

        if (description is null)
        {
            throw new StoreUnavailableException($"DynamoDB table {table.Name} does not exist (set Storage:DynamoDb:CreateTable=true for dev and tests)");
        }

        if (description.GlobalSecondaryIndexes?.Exists(i => i.IndexName == AvailableIndex) != true)
        {
            DynamoDbLog.AvailableIndexMissing(logger, table.Name, AvailableIndex);
            return false;
        }

        return true;
    }
}
