using System.Net;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Tests.Infrastructure;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Admin;

/// <summary>
/// Listing, paging and filters over HTTP. Store-agnostic: each store runs it through a subclass
/// (<see cref="SqliteAdminListingTests"/>; DynamoDB Local in its own subclass).
/// </summary>
public abstract class AdminListingTests : PerStoreHostTests
{
    [Fact]
    public async Task Paging_250_registered_sandboxes_with_limit_100_returns_each_exactly_once()
    {
        using var admin = Broker.AdminClient();
        var registered = Enumerable.Range(0, 250).Select(i => $"page-{i:D3}").ToList();
        var body = await RegisterAsync(admin, registered.ToArray());
        Assert.Equal(250, body.GetProperty("created").GetInt32());

        var firstPage = await GetOkAsync(admin, "/v1/admin/sandboxes?limit=100");
        Assert.Equal(100, firstPage.GetProperty("count").GetInt32());
        Assert.NotNull(firstPage.GetProperty("cursor").GetString());

        var listed = await ListAllIdsAsync(admin, "limit=100");
        Assert.Equal(250, listed.Count);
        Assert.Equal(registered.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Default_page_is_50_and_the_last_page_has_a_null_cursor()
    {
        using var admin = Broker.AdminClient();
        await RegisterAsync(admin, Enumerable.Range(0, 60).Select(i => $"d-{i:D2}").ToArray());
        var first = await GetOkAsync(admin, "/v1/admin/sandboxes");
        Assert.Equal(50, first.GetProperty("count").GetInt32());
        var cursor = Uri.EscapeDataString(first.GetProperty("cursor").GetString()!);
        var second = await GetOkAsync(admin, $"/v1/admin/sandboxes?cursor={cursor}");
        Assert.Equal(10, second.GetProperty("count").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, second.GetProperty("cursor").ValueKind);
    }

    [Fact]
    public async Task Each_filter_returns_only_matching_sandboxes()
    {
        using var admin = Broker.AdminClient();
        await RegisterAsync(admin, Enumerable.Range(0, 30)
            .Select(i => Item($"f-{i:D2}", (i % 2 == 0 ? "blue-" : "red-") + i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture))));
        var blueHeld = await AllocateAsync(Broker, "alice", track: "lab-a", prefix: "blue-");
        var redHeld = await AllocateAsync(Broker, "bob", track: "lab-b", prefix: "red-");
        var pending = await AllocateAsync(Broker, "carol", track: "lab-a");
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{pending}/release");

        var blue = await ListAllAsync(admin, "name_prefix=blue-&limit=7");
        Assert.Equal(15, blue.Count);
        Assert.All(blue, s => Assert.StartsWith("blue-", s.GetProperty("name").GetString(), StringComparison.Ordinal));

        var allocated = await ListAllAsync(admin, "status=allocated");
        Assert.Equal(new[] { blueHeld, redHeld }.Order(StringComparer.Ordinal), allocated.Select(Id).Order(StringComparer.Ordinal));
        Assert.All(allocated, s => Assert.Equal("allocated", s.GetProperty("status").GetString()));

        var available = await ListAllAsync(admin, "status=available&limit=10");
        Assert.Equal(27, available.Count);
        Assert.All(available, s => Assert.Equal("available", s.GetProperty("status").GetString()));

        var labA = await ListAllAsync(admin, "track_name=lab-a");
        Assert.Equal(new[] { blueHeld, pending }.Order(StringComparer.Ordinal), labA.Select(Id).Order(StringComparer.Ordinal));

        var bob = await ListAllAsync(admin, "requester=bob");
        Assert.Equal(redHeld, Id(Assert.Single(bob)));

        var combined = await ListAllAsync(admin, "requester=alice&status=allocated&name_prefix=blue-&track_name=lab-a");
        Assert.Equal(blueHeld, Id(Assert.Single(combined)));
        Assert.Empty(await ListAllAsync(admin, "requester=alice&name_prefix=red-"));
    }

    [Fact]
    public async Task Tombstones_are_listed_only_when_status_deleted_is_asked_for()
    {
        using var admin = Broker.AdminClient();
        await RegisterAsync(admin, "t-1", "t-2", "t-3");
        await MoveAsync(Broker, "t-2", SandboxStatus.Available, SandboxStatus.Stale);
        await PostOkAsync(admin, "/v1/admin/bulk-delete?status=stale");

        Assert.Equal(["t-1", "t-3"], (await ListAllAsync(admin, "")).Select(Id).Order(StringComparer.Ordinal));
        var deleted = Assert.Single(await ListAllAsync(admin, "status=deleted"));
        Assert.Equal("t-2", Id(deleted));
        Assert.True(deleted.GetProperty("deleted_at").GetInt64() > 0);
    }

    [Theory]
    [InlineData("status=bogus")]
    [InlineData("status=Available")]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=-1")]
    [InlineData("limit=abc")]
    [InlineData("limit=1e2")]
    [InlineData("name_prefix=has%20space")]
    [InlineData("name_prefix=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("track_name=%C3%A9t%C3%A9")]
    [InlineData("requester=%01ctl")]
    public async Task Invalid_list_parameters_are_a_400_problem(string query)
    {
        using var admin = Broker.AdminClient();
        using var response = await admin.GetAsync("/v1/admin/sandboxes?" + query);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "VALIDATION_ERROR");
    }

    private static async Task<List<System.Text.Json.JsonElement>> ListAllAsync(HttpClient admin, string query)
    {
        var all = new List<System.Text.Json.JsonElement>();
        string? cursor = null;
        do
        {
            var url = "/v1/admin/sandboxes?" + query + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var body = await GetOkAsync(admin, url);
            all.AddRange(body.GetProperty("sandboxes").EnumerateArray());
            cursor = body.GetProperty("cursor").GetString();
        }
        while (cursor is not null);

        return all;
    }

    private static string Id(System.Text.Json.JsonElement sandbox) => sandbox.GetProperty("sandbox_id").GetString()!;
}

/// <summary>The listing tests on the embedded SQLite store.</summary>
public sealed class SqliteAdminListingTests : AdminListingTests
{
    protected override Task<BrokerFactory> CreateBrokerAsync() => Task.FromResult(EmptyBroker());
}
