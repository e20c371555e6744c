using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Allocation;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;
using SandboxBroker.Api.Storage.Sqlite;
using SandboxBroker.LoadTests.Harness;

namespace SandboxBroker.LoadTests.Scenarios;

/// <summary>
/// The raw-store baseline: the same burst (same pool, same number of concurrent callers, a new requester per call)
/// issued in-process straight to the broker's own <see cref="AllocationService"/> over a fresh store — the
/// K-candidate claim with its conditional writes, without HTTP, auth, rate limiting, logging or JSON.
/// </summary>
public static class RawStore
{
    public static async Task<RawStoreOutcome> SqliteAsync(string path, int pool, int warmup, int clients, TimeSpan limit, CancellationToken ct)
    {
        using var store = new SqliteSandboxStore(path);
        await store.InitializeAsync(ct);
        return await RunAsync(store, pool, warmup, clients, limit, null, ct);
    }

    /// <summary>DynamoDB: a client through <paramref name="serviceUrl"/> (the counting relay), counted once more by a wrapper.</summary>
    public static async Task<RawStoreOutcome> DynamoDbAsync(string serviceUrl, string table, int pool, int warmup, int clients, TimeSpan limit, CancellationToken ct)
    {
        // The same client settings as the broker's defaults (Storage:DynamoDb:Timeout 2 s, MaxRetries 2).
        var options = new DynamoDbStorageOptions
        {
            TableName = table,
            ServiceUrl = serviceUrl,
            Region = "us-east-1",
            CreateTable = true,
        };
        using var client = DynamoDbClientFactory.Create(options, new BasicAWSCredentials("dummy", "dummy"));
        var counts = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var store = new DynamoDbSandboxStore(CountingDynamoDb.Wrap(client, counts), options, NullLogger<DynamoDbSandboxStore>.Instance);
        await store.InitializeAsync(ct);
        return await RunAsync(store, pool, warmup, clients, limit, counts, ct);
    }

    private static async Task<RawStoreOutcome> RunAsync(
        ISandboxStore store, int pool, int warmup, int clients, TimeSpan limit, ConcurrentDictionary<string, long>? calls, CancellationToken ct)
    {
        var tag = "raw" + Guid.NewGuid().ToString("N")[..6];
        await Parallel.ForEachAsync(Enumerable.Range(0, pool + warmup), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (n, c) =>
            {
                var id = $"{tag}-{n.ToString("D6", CultureInfo.InvariantCulture)}";
                await store.RegisterAsync(new UpstreamSandbox(id, "bench-" + id, "identity/accounts/" + id, 0, "sfdc-" + id), 1_700_000_000, TestCause.Setup, c);
            });

        var metrics = new BrokerMetrics();
        var settings = new FixedOptions(new BrokerOptions());
        var policy = new AllocationPolicy(TimeProvider.System, settings, new CandidateReservations(), new AllocationQuota(TimeProvider.System),
            new LabsWithoutReservations(TimeProvider.System), metrics);
        var allocation = new AllocationService(store, policy, TimeProvider.System, settings, metrics, NullLogger<AllocationService>.Instance);

        async Task<CallResult> AllocateAsync(string requester, CancellationToken c)
        {
            var started = Stopwatch.GetTimestamp();
            var outcome = await allocation.AllocateAsync(new TrackCaller(requester, requester, null, null), started, c);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return outcome switch
            {
                AllocationOutcome.Allocated a => new(201, ms, a.Sandbox.SandboxId),
                AllocationOutcome.Replayed r => new(200, ms, r.Sandbox.SandboxId),
                AllocationOutcome.PoolEmpty => new(409, ms, null),
                _ => new(503, ms, null),
            };
        }

        if (warmup > 0)
        {
            await Burst.RunAsync(AllocateAsync, tag + "-w", clients, warmup, warmup, limit, ct);
        }

        var conflictsBefore = metrics.AllocateConflicts.Value;
        var callsBefore = calls is null ? null : new Dictionary<string, long>(calls, StringComparer.Ordinal);
        var burst = await Burst.RunAsync(AllocateAsync, tag + "-b", clients, pool, null, limit, ct);
        var conflicts = metrics.AllocateConflicts.Value - conflictsBefore;
        var delta = calls is null ? null : DynamoDbRelay.Delta(new Dictionary<string, long>(calls, StringComparer.Ordinal), callsBefore!);
        var distinct = burst.Allocations.Select(a => a.SandboxId).Distinct(StringComparer.Ordinal).Count();
        return new RawStoreOutcome
        {
            Burst = burst,
            ClaimAttemptsPerAllocation = burst.Successes > 0 ? (burst.Successes + conflicts) / burst.Successes : 0,
            StoreCalls = delta,
            WritesPerAllocation = delta is not null && burst.Successes > 0 ? DynamoDbRelay.Writes(delta) / (double)burst.Successes : null,
            DoubleAllocations = burst.Allocations.Count - distinct,
        };
    }

    private sealed class FixedOptions(BrokerOptions value) : IOptionsMonitor<BrokerOptions>
    {
        public BrokerOptions CurrentValue => value;

        public BrokerOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<BrokerOptions, string?> listener) => null;
    }
}

public sealed record RawStoreOutcome
{
    public required BurstOutcome Burst { get; init; }

    /// <summary>(successes + lost claims, from broker_allocate_conflicts_total of this in-process service) / successes.</summary>
    public double ClaimAttemptsPerAllocation { get; init; }

    /// <summary>DynamoDB operations the store called during the burst (counting wrapper around IAmazonDynamoDB).</summary>
    public Dictionary<string, long>? StoreCalls { get; init; }

    public double? WritesPerAllocation { get; init; }

    public int DoubleAllocations { get; init; }
}
