using System.Diagnostics;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>Start-up: table creation for dev and tests (production tables come from Terraform), then the backfill.</summary>
internal sealed partial class DynamoDbSandboxStore
{
    private static readonly TimeSpan ActiveWait = TimeSpan.FromMinutes(5);

    public async Task InitializeAsync(CancellationToken ct)
    {
        if (options.CreateTable)
        {
            await CreateTableIfMissingAsync(ct);
            await EnableTtlAsync(ct);
        }
        else
        {
            await CheckLayoutAsync(ct);
        }

        await BackfillShardsAsync("start-up", int.MaxValue, ct);
    }

    private async Task CreateTableIfMissingAsync(CancellationToken ct)
    {
        var created = false;
        if (await DescribeAsync(ct) is null)
        {
            try
            {
                await CallAsync("CreateTable", c => client.CreateTableAsync(TableDefinition.Create(table), c), ct);
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
            await CallAsync("UpdateTable", c => client.UpdateTableAsync(TableDefinition.AddIndex(table, index, provisioned), c), ct);
            description = await WaitActiveAsync(ct);
            Log.IndexAdded(logger, table, index.IndexName);
        }

        var names = string.Join(", ", description.GlobalSecondaryIndexes?.Select(i => i.IndexName) ?? []);
        if (created)
        {
            Log.TableCreated(logger, table, names);
        }
        else
        {
            Log.TableReady(logger, table, names);
        }
    }

    private async Task<TableDescription?> DescribeAsync(CancellationToken ct)
    {
        return await CallAsync("DescribeTable", async c =>
        {
            try
            {
                return (await client.DescribeTableAsync(table, c)).Table;
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
                    $"DynamoDB table {table} ({description?.TableStatus}; {states}) and its indexes were not ACTIVE within {ActiveWait}");
            }

            await Task.Delay(delay, ct);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
        }
    }

    private async Task EnableTtlAsync(CancellationToken ct)
    {
        try
        {
            var current = await client.DescribeTimeToLiveAsync(new DescribeTimeToLiveRequest { TableName = table }, ct);
            var status = current.TimeToLiveDescription?.TimeToLiveStatus;
            if (status == TimeToLiveStatus.ENABLED || status == TimeToLiveStatus.ENABLING)
            {
                return;
            }

            await client.UpdateTimeToLiveAsync(new UpdateTimeToLiveRequest
            {
                TableName = table,
                TimeToLiveSpecification = new TimeToLiveSpecification { AttributeName = Ttl, Enabled = true },
            }, ct);
        }
        catch (AmazonDynamoDBException ex)
        {
            Log.TtlFailed(logger, table, Ttl, ex.Message); // not needed for correctness: the purge job removes tombstones
        }
    }

    /// <summary>Production tables come from Terraform; an adopted table of the original may lack AvailableIndex.</summary>
    private async Task CheckLayoutAsync(CancellationToken ct)
    {
        TableDescription? description;
        try
        {
            description = await DescribeAsync(ct);
        }
        catch (StoreUnavailableException ex) when (ex.InnerException is AmazonDynamoDBException { ErrorCode: "AccessDeniedException" })
        {
            Log.DescribeFailed(logger, table, "dynamodb:DescribeTable is not allowed");
            return;
        }

        if (description is null)
        {
            throw new StoreUnavailableException($"DynamoDB table {table} does not exist (set Storage:DynamoDb:CreateTable=true for dev and tests)");
        }

        if (description.GlobalSecondaryIndexes?.Exists(i => i.IndexName == AvailableIndex) != true)
        {
            Log.AvailableIndexMissing(logger, table, AvailableIndex);
            availableIndexMissing = true;
        }
    }
}
