using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Storage.DynamoDb;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Storage.DynamoDb;

/// <summary>The table as the original's tools see it, and items written by them.</summary>
[Collection(DynamoDbLocalCollection.Name)]
[Trait("Category", "DynamoDb")]
public sealed class DynamoDbLayoutTests(DynamoDbLocalFixture dynamo)
{
    private const long Now = 1_800_000_000;

    /// <summary>Exactly the attributes the original wrote for a synced sandbox (acceptance check 03 uses the same item).</summary>
    private static Dictionary<string, AttributeValue> OriginalItem(string id, string name) => new()
    {
        ["PK"] = new() { S = "SBX#" + id },
        ["SK"] = new() { S = "META" },
        ["sandbox_id"] = new() { S = id },
        ["name"] = new() { S = name },
        ["external_id"] = new() { S = "identity/accounts/0f6c2a7e-0000-4000-8000-000000000001" },
        ["status"] = new() { S = "available" },
        ["allocated_at"] = new() { N = "0" },
        ["lab_duration_hours"] = new() { N = "4" },
        ["deletion_retry_count"] = new() { N = "0" },
        ["created_at"] = new() { N = "1700000000" },
        ["updated_at"] = new() { N = "1700000000" },
    };

    private static ClaimRequest Claim(string id, string requester) => new()
    {
        SandboxId = id, Requester = requester, IdempotencyKey = requester, Now = Now, ExpiresAt = Now + 3600, Cause = TestCause.Setup,
        LabDurationHours = 1, TrackName = "lab-1",
    };

    private async Task<List<Dictionary<string, AttributeValue>>> ScanAsync(string table)
    {
        var items = new List<Dictionary<string, AttributeValue>>();
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            var page = await dynamo.Client.ScanAsync(new ScanRequest { TableName = table, ExclusiveStartKey = start });
            items.AddRange(page.Items ?? []);
            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
        }
        while (start is not null);

        return items;
    }

    [Fact]
    public async Task An_item_in_the_original_layout_written_after_start_up_is_found_by_prefix_and_claimed()
    {
        var options = dynamo.Options();
        var store = await dynamo.CreateStoreAsync(options.TableName);
        await store.RegisterAsync(new UpstreamSandbox("n1", "general-1", "identity/accounts/x", Now, null), Now, TestCause.Setup, default);
        await dynamo.Client.PutItemAsync(options.TableName, OriginalItem("legacy-1", "legacyprefix-sandbox-1"));

        var found = await store.FindAvailableAsync("legacyprefix", 15, default);
        Assert.Equal("legacy-1", Assert.Single(found).SandboxId);
        var claimed = Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("legacy-1", "legacy-user"), default)).Sandbox;
        Assert.Equal("legacyprefix-sandbox-1", claimed.Name);
        Assert.Equal(claimed, await store.GetAsync("legacy-1", default));
        Assert.Empty(await store.FindAvailableAsync("legacyprefix", 15, default));
    }

    [Fact]
    public async Task Sync_gives_a_record_from_before_account_markers_its_marker_so_its_account_is_never_stored_twice()
    {
        var options = dynamo.Options();
        var store = await dynamo.CreateStoreAsync(options.TableName);
        var original = OriginalItem("legacy-3", "old-3"); // written before ACCT# markers existed: none for its account
        await dynamo.Client.PutItemAsync(options.TableName, original);
        var account = original["external_id"].S;
        var marker = new Dictionary<string, AttributeValue> { ["PK"] = new() { S = TableLayout.AccountPkPrefix + account }, ["SK"] = new() { S = "META" } };
        Assert.False((await dynamo.Client.GetItemAsync(options.TableName, marker)).IsItemSet);

        Assert.Equal(UpsertOutcome.Refreshed, await store.UpsertFromUpstreamAsync(new UpstreamSandbox("legacy-3", "old-3", account, Now, null), Now, TestCause.Setup, default));

        var written = (await dynamo.Client.GetItemAsync(options.TableName, marker)).Item;
        Assert.Equal("legacy-3", written[TableLayout.AccountSandboxId].S);
        Assert.False(written.ContainsKey("sandbox_id")); // a scan by sandbox_id finds only the sandbox
        Assert.False(await store.RegisterAsync(new UpstreamSandbox("new-3", "other-3", account, Now, null), Now, TestCause.Setup, default));
        Assert.Null(await store.GetAsync("new-3", default));
    }

    [Fact]
    public async Task Start_up_gives_original_layout_items_a_shard_so_the_available_index_sees_them()
    {
        var options = dynamo.Options();
        await dynamo.CreateStoreAsync(options.TableName);
        await dynamo.Client.PutItemAsync(options.TableName, OriginalItem("legacy-2", "old-2"));

        await dynamo.CreateStoreAsync(options.TableName); // a second start-up on the same table backfills
        var item = (await dynamo.Client.GetItemAsync(options.TableName, new() { ["PK"] = new() { S = "SBX#legacy-2" }, ["SK"] = new() { S = "META" } })).Item;
        Assert.InRange(int.Parse(item["avail_shard"].S, System.Globalization.CultureInfo.InvariantCulture), 0, TableLayout.AvailShardCount - 1);
        var index = await dynamo.Client.QueryAsync(new QueryRequest
        {
            TableName = options.TableName,
            IndexName = TableLayout.AvailableIndex,
            KeyConditionExpression = "avail_shard = :s",
            ExpressionAttributeValues = new() { [":s"] = item["avail_shard"] },
        });
        Assert.Contains(index.Items, i => i["sandbox_id"].S == "legacy-2");
    }

    [Fact]
    public async Task Sandbox_items_keep_the_original_keys_attribute_names_and_number_types()
    {
        var options = dynamo.Options();
        var store = await dynamo.CreateStoreAsync(options.TableName);
        await store.RegisterAsync(new UpstreamSandbox("2026839", "eng-sandbox-1", "identity/accounts/abc", Now - 5, "SF-1"), Now, TestCause.Setup, default);
        await store.RegisterAsync(new UpstreamSandbox("2026840", "eng-sandbox-2", "identity/accounts/def", Now - 5, null), Now, TestCause.Setup, default);
        await store.TryClaimAsync(Claim("2026839", "student-1"), default);

        var items = await ScanAsync(options.TableName);
        var allocated = Assert.Single(items, i => i["PK"].S == "SBX#2026839");
        Assert.Equal("META", allocated["SK"].S);
        foreach (var name in new[] { "sandbox_id", "name", "external_id", "status", "allocated_to_track", "idempotency_key", "track_name", "sfdc_account_id" })
        {
            Assert.NotNull(allocated[name].S);
        }

        foreach (var name in new[] { "allocated_at", "lab_duration_hours", "deletion_retry_count", "last_synced", "created_at", "updated_at", "expires_at" })
        {
            Assert.NotNull(allocated[name].N);
        }

        Assert.Equal("allocated", allocated["status"].S);
        Assert.Equal("student-1", allocated["allocated_to_track"].S);
        Assert.False(allocated.ContainsKey("avail_shard"));
        var available = Assert.Single(items, i => i["PK"].S == "SBX#2026840");
        Assert.Equal("0", available["allocated_at"].N);
        Assert.Equal("4", available["lab_duration_hours"].N);
        Assert.False(available.ContainsKey("sfdc_account_id"));
        // The idempotency record carries no sandbox_id or status: the original's scans and every index ignore it.
        var record = Assert.Single(items, i => i["PK"].S.StartsWith("IDEM#", StringComparison.Ordinal));
        Assert.Equal("KEY#student-1", record["SK"].S);
        Assert.Equal("2026839", record["idem_sandbox_id"].S);
        Assert.False(record.ContainsKey("sandbox_id") || record.ContainsKey("status"));
    }

    [Fact]
    public async Task Items_of_other_kinds_never_appear_in_lists_counts_or_scans()
    {
        var options = dynamo.Options();
        var store = await dynamo.CreateStoreAsync(options.TableName);
        await store.RegisterAsync(new UpstreamSandbox("s1", "blue-1", "identity/accounts/1", Now, null), Now, TestCause.Setup, default);
        await store.RegisterAsync(new UpstreamSandbox("s2", "blue-2", "identity/accounts/2", Now, null), Now, TestCause.Setup, default);
        await store.TryClaimAsync(Claim("s1", "alice"), default);
        await store.AddToSequenceAsync("simulated", 3, default);
        await store.TryAcquireJobLeaseAsync(new JobLeaseRequest { Job = "sync", Owner = "me", Now = Now, LeaseUntil = Now + 60 }, default);
        // The original's NIOSXaaS history item: same table, sandbox_id but no status.
        await dynamo.Client.PutItemAsync(options.TableName, new()
        {
            ["PK"] = new() { S = "NIOSXAAS#s9" }, ["SK"] = new() { S = "CLEANUP" }, ["sandbox_id"] = new() { S = "s9" },
            ["track_name"] = new() { S = "N/A" }, ["allocated_to_track"] = new() { S = "alice" }, ["deleted_at"] = new() { N = "1" },
        });

        var listed = new List<string>();
        foreach (var query in new[]
        {
            new SandboxQuery(), new SandboxQuery { Requester = "alice" }, new SandboxQuery { NamePrefix = "blue" },
            new SandboxQuery { Status = SandboxStatus.Allocated }, new SandboxQuery { TrackName = "N/A" },
        })
        {
            listed.AddRange((await store.ListAsync(query with { Limit = 100 }, default)).Items.Select(s => s.SandboxId));
        }

        Assert.Equal(["s1", "s1", "s1", "s1", "s2", "s2"], listed.Order());
        Assert.Equal(2, (await store.CountAsync(null, default)).Total);
        var scanned = new List<Sandbox>();
        foreach (var status in SandboxStatusNames.All)
        {
            await foreach (var sandbox in store.ScanByStatusAsync(status, default))
            {
                scanned.Add(sandbox);
            }
        }

        Assert.Equal(["s1", "s2"], scanned.Select(s => s.SandboxId).Order());
        Assert.Equal(["sync"], (await store.ListJobStatesAsync(default)).Select(j => j.Job));
    }

    [Fact]
    public async Task Create_table_makes_every_index_active_enables_ttl_and_says_so()
    {
        var logger = new FakeLogger<DynamoDbSandboxStore>();
        var options = dynamo.Options();
        await dynamo.CreateStoreAsync(options.TableName, logger: logger);

        var table = (await dynamo.Client.DescribeTableAsync(options.TableName)).Table;
        Assert.Equal(TableStatus.ACTIVE, table.TableStatus);
        Assert.Equal(BillingMode.PAY_PER_REQUEST, table.BillingModeSummary?.BillingMode);
        Assert.Equal(TableLayout.GlobalSecondaryIndexes.Order(), table.GlobalSecondaryIndexes.Select(i => i.IndexName).Order());
        Assert.All(table.GlobalSecondaryIndexes, i =>
        {
            Assert.Equal(IndexStatus.ACTIVE, i.IndexStatus);
            Assert.Equal(ProjectionType.ALL, i.Projection.ProjectionType);
        });
        var ttl = await dynamo.Client.DescribeTimeToLiveAsync(new DescribeTimeToLiveRequest { TableName = options.TableName });
        Assert.Equal("ttl", ttl.TimeToLiveDescription.AttributeName);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Message.Contains($"Created DynamoDB table {options.TableName}", StringComparison.Ordinal));

        // A second start-up on the same table (another replica) finds it and does not fail.
        var again = new FakeLogger<DynamoDbSandboxStore>();
        await dynamo.CreateStoreAsync(options.TableName, logger: again);
        Assert.Contains(again.Collector.GetSnapshot(), r => r.Message.Contains($"DynamoDB table {options.TableName} exists", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_table_of_the_original_gets_the_available_index_added_and_its_items_allocated()
    {
        // Its own DynamoDB Local: after many tables and transactions the shared one may leave an index added to an
        // existing table in CREATING for minutes (a DynamoDB Local quirk; real DynamoDB backfills in the background).
        await using var local = await DynamoDbLocal.StartAsync();
        using var client = local.CreateClient();
        var options = local.Options();
        var original = TableDefinition.Create(options.TableName);
        original.GlobalSecondaryIndexes.RemoveAll(i => i.IndexName == TableLayout.AvailableIndex);
        original.AttributeDefinitions.RemoveAll(a => a.AttributeName is TableLayout.AvailShard or TableLayout.Name);
        await client.CreateTableAsync(original);
        await client.PutItemAsync(options.TableName, OriginalItem("old-1", "old-sandbox-1"));

        var logger = new FakeLogger<DynamoDbSandboxStore>();
        var store = new DynamoDbSandboxStore(client, options, logger);
        await store.InitializeAsync(default);
        var table = (await client.DescribeTableAsync(options.TableName)).Table;
        Assert.Contains(table.GlobalSecondaryIndexes, i => i.IndexName == TableLayout.AvailableIndex && i.IndexStatus == IndexStatus.ACTIVE);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Message.Contains("Added index AvailableIndex", StringComparison.Ordinal));
        Assert.Equal("old-1", Assert.Single(await store.FindAvailableAsync(null, 15, default)).SandboxId);
    }

    [Fact]
    public async Task Without_the_available_index_and_create_table_allocation_still_finds_candidates()
    {
        var options = dynamo.Options();
        var original = TableDefinition.Create(options.TableName);
        original.GlobalSecondaryIndexes.RemoveAll(i => i.IndexName == TableLayout.AvailableIndex);
        original.AttributeDefinitions.RemoveAll(a => a.AttributeName is TableLayout.AvailShard or TableLayout.Name);
        await dynamo.Client.CreateTableAsync(original);
        await dynamo.Client.PutItemAsync(options.TableName, OriginalItem("old-1", "old-sandbox-1"));
        await dynamo.Client.PutItemAsync(options.TableName, OriginalItem("old-2", "other-2"));
        options.CreateTable = false;

        var logger = new FakeLogger<DynamoDbSandboxStore>();
        var store = new DynamoDbSandboxStore(dynamo.Client, options, logger);
        await store.InitializeAsync(default);
        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("lacks AvailableIndex", StringComparison.Ordinal));
        Assert.Equal("old-1", Assert.Single(await store.FindAvailableAsync("old-", 15, default)).SandboxId);
        Assert.IsType<ClaimResult.Claimed>(await store.TryClaimAsync(Claim("old-1", "someone"), default));
        Assert.Equal("old-2", Assert.Single(await store.FindAvailableAsync(null, 15, default)).SandboxId);
    }

    [Fact]
    public async Task Without_create_table_a_missing_table_is_reported_as_unavailable()
    {
        var options = dynamo.Options();
        options.CreateTable = false;
        var store = new DynamoDbSandboxStore(dynamo.Client, options, new FakeLogger<DynamoDbSandboxStore>());
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.InitializeAsync(default));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.PingAsync(default));
    }
}
