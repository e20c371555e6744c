using System.Globalization;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging.Abstractions;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;
using SandboxBroker.Testing;

namespace SandboxBroker.LoadTests.Scenarios;

/// <summary>
/// What the pool gauges cost on DynamoDB (issue 20 item 3): a table of <c>live</c> sandboxes (a quarter allocated, the
/// rest available) and <c>tombstones</c> deleted ones (each with a short history, as the cleanup leaves them), then the
/// reads of one gauge refresh as PoolGaugeRefresher makes them (the pool counts, and the allocations of the last
/// window), with ReturnConsumedCapacity=TOTAL on every read. Read units per minute = per refresh × refreshes a minute
/// (Metrics:PoolRefreshInterval, 2 s) × replicas refreshing. Counts read units, not time.
/// </summary>
public static class GaugeCost
{
    public static async Task<string> RunAsync(int live, int tombstones, int replicas, CancellationToken ct)
    {
        await using var local = await DynamoDbLocal.StartAsync();
        var options = local.Options("gauges_" + Guid.NewGuid().ToString("N")[..8]);
        options.Timeout = TimeSpan.FromMinutes(1); // a COUNT over 100,000 tombstones on a busy local JVM is slow; this measures units, not time
        using var raw = local.CreateClient(options);
        var (client, counter) = CountingDynamoDb.Wrap(raw);
        using var store = new DynamoDbSandboxStore(client, options, NullLogger<DynamoDbSandboxStore>.Instance);
        await store.InitializeAsync(ct);

        const long now = 1_800_000_000;
        var items = Enumerable.Range(0, live + tombstones).Select(n => ItemOf(n, n < live ? (n % 4 == 0 ? "allocated" : "available") : "deleted", now));
        await Parallel.ForEachAsync(items.Chunk(25), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (chunk, c) =>
        {
            var request = new BatchWriteItemRequest
            {
                RequestItems = new() { [options.TableName] = [.. chunk.Select(i => new WriteRequest { PutRequest = new PutRequest { Item = i } })] },
            };
            while (request.RequestItems.Count > 0)
            {
                var response = await raw.BatchWriteItemAsync(request, c);
                request.RequestItems = response.UnprocessedItems ?? [];
            }
        });

        counter.Reset();
        var counts = await store.CountAsync(null, ct);
        var countUnits = counter.ReadUnits;
        var countCalls = counter.Summary();
        var itemsRead = counter.ItemsRead;
        counter.Reset();
        await store.CountAllocatedSinceAsync(null, now - 900, ct);
        var rateUnits = counter.ReadUnits;
        var perRefresh = countUnits + rateUnits;

        // One minute of refreshes as the brokers make them: every 2 s (Metrics:PoolRefreshInterval) each replica asks
        // the shared item; the one that finds it stale takes the period's lease and counts (PoolGaugeRefresher). A fake
        // clock steps the 30 periods; every read and write is counted.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(now));
        var stores = Enumerable.Range(0, replicas).Select(_ => new DynamoDbSandboxStore(client, options, NullLogger<DynamoDbSandboxStore>.Instance)).ToList();
        var shares = stores.Select(s => s.CreatePeriodicShare(clock)).ToList();
        var period = TimeSpan.FromSeconds(2);
        counter.Reset();
        var counted = 0;
        for (var tick = 0; tick < 30; tick++)
        {
            foreach (var (share, replica) in shares.Select((s, i) => (s, i)))
            {
                await share.GetOrComputeAsync("pool-gauges", period, async c =>
                {
                    Interlocked.Increment(ref counted);
                    var n = await stores[replica].CountAsync(null, c);
                    await stores[replica].CountAllocatedSinceAsync(null, now - 900, c);
                    return n.Available.ToString(CultureInfo.InvariantCulture);
                }, ct);
            }

            clock.Advance(period);
        }

        var minuteUnits = counter.ReadUnits;
        var minuteSummary = counter.Summary();
        foreach (var s in stores)
        {
            s.Dispose();
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"gauge refresh at {live:N0} live + {tombstones:N0} tombstones: counts {counts.Available:N0} available, {counts.Allocated:N0} allocated, " +
            $"{counts.UnverifiedDeletions:N0} unverified, deleted {(counts.Deleted is { } d ? d.ToString("N0", CultureInfo.InvariantCulture) : "not counted")}; " +
            $"pool counts {countUnits:N1} RCU ({itemsRead:N0} items evaluated; {countCalls}), allocation rate {rateUnits:N1} RCU; {perRefresh:N1} RCU per refresh. " +
            $"One minute, {replicas} replica(s) refreshing every 2 s: {counted} refreshes counted, {minuteUnits:N1} RCU ({minuteSummary})");
    }

    private static Dictionary<string, AttributeValue> ItemOf(int n, string status, long now)
    {
        var id = "g" + n.ToString("D7", CultureInfo.InvariantCulture);
        var item = SandboxItem.NewAvailable(new UpstreamSandbox(id, "gauge-" + id, "identity/accounts/" + Guid.NewGuid(), now - 86_400, null), now - 86_400);
        item[TableLayout.Status] = new AttributeValue { S = status };
        item[TableLayout.History] = new AttributeValue { L = [Event(now - 86_400, null, "available", "registration")] };
        if (status != "available")
        {
            item.Remove(TableLayout.AvailShard);
            item[TableLayout.AllocatedToTrack] = new AttributeValue { S = "participant-" + id };
            item[TableLayout.AllocatedAt] = new AttributeValue { N = (now - 7_200).ToString(CultureInfo.InvariantCulture) };
            item[TableLayout.History].L.Add(Event(now - 7_200, "available", "allocated", "track:track-1"));
        }

        if (status == "deleted")
        {
            item[TableLayout.DeletedAt] = new AttributeValue { N = (now - 3_600).ToString(CultureInfo.InvariantCulture) };
            item[TableLayout.DeletionVerifiedAt] = new AttributeValue { N = (now - 1_800).ToString(CultureInfo.InvariantCulture) };
            item[TableLayout.History].L.Add(Event(now - 5_400, "allocated", "pending_deletion", "track:track-1"));
            item[TableLayout.History].L.Add(Event(now - 3_600, "pending_deletion", "deleted", "job:cleanup"));
        }

        return item;
    }

    private static AttributeValue Event(long at, string? from, string to, string actor)
    {
        var map = new Dictionary<string, AttributeValue>
        {
            ["at"] = new() { N = at.ToString(CultureInfo.InvariantCulture) },
            ["to"] = new() { S = to },
            ["actor"] = new() { S = actor },
            ["request_id"] = new() { S = Guid.NewGuid().ToString("N") },
        };
        if (from is not null)
        {
            map["from"] = new() { S = from };
        }

        return new AttributeValue { M = map };
    }
}
