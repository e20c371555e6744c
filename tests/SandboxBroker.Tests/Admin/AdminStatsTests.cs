using System.Net;
using System.Text.Json;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Admin;

/// <summary>GET /admin/stats: exact counts per state that agree with the listing, also for one sub-pool.</summary>
public sealed class AdminStatsTests : IAsyncLifetime
{
    private readonly Infrastructure.BrokerFactory broker = EmptyBroker();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    /// <summary>30 sandboxes (10 blue-, 15 red-, 5 grey-) spread over every state: 2 allocated, 1 pending, 1 failed, 3 stale, 1 tombstone.</summary>
    private async Task SeedEveryStateAsync(HttpClient admin)
    {
        await RegisterAsync(admin, Enumerable.Range(0, 30).Select(i => Item($"s-{i:D2}", (i < 10 ? "blue-" : i < 25 ? "red-" : "grey-") + i)));
        await AllocateAsync(broker, "p1", prefix: "blue-");
        await AllocateAsync(broker, "p2", prefix: "red-");
        var released = await AllocateAsync(broker, "p3", prefix: "blue-");
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{released}/release");
        var failed = await AllocateAsync(broker, "p4", prefix: "red-");
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{failed}/release");
        await MoveAsync(broker, failed, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, "CSP said 500");
        foreach (var id in new[] { "s-25", "s-26", "s-27", "s-28" })
        {
            await MoveAsync(broker, id, SandboxStatus.Available, SandboxStatus.Stale);
        }

        await MoveAsync(broker, "s-28", SandboxStatus.Stale, SandboxStatus.Deleted);
    }

    [Fact]
    public async Task Stats_equal_the_counts_from_listing()
    {
        using var admin = broker.AdminClient();
        await SeedEveryStateAsync(admin);

        var stats = await GetOkAsync(admin, "/v1/admin/stats");
        var listedTotal = 0;
        foreach (var status in new[] { "available", "allocated", "pending_deletion", "stale", "deletion_failed" })
        {
            var listed = (await ListAllIdsAsync(admin, $"status={status}&limit=100")).Count;
            Assert.Equal(listed, stats.GetProperty(status).GetInt64());
            listedTotal += listed;
        }

        Assert.Equal((await ListAllIdsAsync(admin, "limit=100")).Count, stats.GetProperty("total").GetInt64());
        Assert.Equal(listedTotal, stats.GetProperty("total").GetInt64());
        Assert.Equal((await ListAllIdsAsync(admin, "status=deleted")).Count, stats.GetProperty("deleted").GetInt64());
        Assert.Equal((29, 22, 2, 1, 3, 1, 1), Counts(stats));
    }

    [Fact]
    public async Task Stats_for_a_name_prefix_count_only_that_sub_pool()
    {
        using var admin = broker.AdminClient();
        await SeedEveryStateAsync(admin);

        var blue = await GetOkAsync(admin, "/v1/admin/stats?name_prefix=blue-");
        Assert.Equal((await ListAllIdsAsync(admin, "name_prefix=blue-")).Count, blue.GetProperty("total").GetInt64());
        Assert.Equal((10, 8, 1, 1, 0, 0, 0), Counts(blue));
        var none = await GetOkAsync(admin, "/v1/admin/stats?name_prefix=green-");
        Assert.Equal((0, 0, 0, 0, 0, 0, 0), Counts(none));
    }

    [Fact]
    public async Task Stats_read_their_own_writes()
    {
        using var admin = broker.AdminClient();
        await RegisterAsync(admin, "w-1", "w-2");
        Assert.Equal(2, (await GetOkAsync(admin, "/v1/admin/stats")).GetProperty("available").GetInt64());
        await AllocateAsync(broker, "someone");
        var after = await GetOkAsync(admin, "/v1/admin/stats");
        Assert.Equal((1, 1), (after.GetProperty("available").GetInt64(), after.GetProperty("allocated").GetInt64()));
    }

    [Theory]
    [InlineData("name_prefix=a%20b")]
    [InlineData("name_prefix=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task An_invalid_name_prefix_is_a_400(string query)
    {
        using var admin = broker.AdminClient();
        using var response = await admin.GetAsync("/v1/admin/stats?" + query);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "VALIDATION_ERROR");
    }

    private static (long Total, long Available, long Allocated, long Pending, long Stale, long Failed, long Deleted) Counts(JsonElement s) => (
        s.GetProperty("total").GetInt64(), s.GetProperty("available").GetInt64(), s.GetProperty("allocated").GetInt64(),
        s.GetProperty("pending_deletion").GetInt64(), s.GetProperty("stale").GetInt64(), s.GetProperty("deletion_failed").GetInt64(),
        s.GetProperty("deleted").GetInt64());
}
