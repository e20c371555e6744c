using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Tests.Infrastructure;
using static SandboxBroker.Tests.Admin.AdminTestKit;

namespace SandboxBroker.Tests.Admin;

/// <summary>
/// GET /admin/activity over HTTP on a clock the test moves: per-minute buckets from history events, counts by prefix and
/// lab, backlog and exhaustion from the live records. Store-agnostic: each store runs it through a subclass.
/// </summary>
public abstract class AdminActivityTests : PerStoreHostTests
{
    /// <summary>10 s into a minute, so the minute buckets are known in advance.</summary>
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 + 10);

    protected FakeTimeProvider Clock { get; } = new(Start);

    [Fact]
    public async Task Allocations_releases_and_deletions_land_in_their_minutes_and_the_breakdowns_count_live_records()
    {
        using var admin = Broker.AdminClient();
        await RegisterAsync(admin, Enumerable.Range(1, 5).Select(i => Item($"act-{i}", $"act-{i:000}"))
            .Concat([Item("oth-1", "other-01"), Item("oth-2", "other-02")]));

        await AllocateAsync(Broker, "alice", track: "lab-a", prefix: "act-");
        var bob = await AllocateAsync(Broker, "bob", track: "lab-a", prefix: "act-");
        await AllocateAsync(Broker, "carol", track: "lab-b", prefix: "act-");
        Clock.Advance(TimeSpan.FromMinutes(2));
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{bob}/release");
        Clock.Advance(TimeSpan.FromMinutes(1));
        await MoveAsync(Broker, bob, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, "CSP answered 500");
        await PostOkAsync(admin, "/v1/admin/bulk-delete?status=deletion_failed");

        var report = await GetOkAsync(admin, "/v1/admin/activity?minutes=10");

        var minutes = report.GetProperty("per_minute").EnumerateArray().ToList();
        Assert.Equal(10, minutes.Count);
        var now = Clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(now / 60 * 60, minutes[^1].GetProperty("minute").GetInt64());
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 0, 3, 0, 0, 0 }, minutes.Select(m => m.GetProperty("allocations").GetInt32()));
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 }, minutes.Select(m => m.GetProperty("releases").GetInt32()));
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, minutes.Select(m => m.GetProperty("deletions").GetInt32()));
        Assert.Equal(3, report.GetProperty("totals").GetProperty("allocations").GetInt32());

        var prefixes = Groups(report, "by_prefix");
        Assert.Equal((4, 2, 2), prefixes["act-"]);     // the tombstone is no longer live
        Assert.Equal((2, 2, 0), prefixes["other-"]);
        var labs = Groups(report, "by_lab");
        Assert.Equal((1, 0, 1), labs["lab-a"]);
        Assert.Equal((1, 0, 1), labs["lab-b"]);

        var exhaustion = report.GetProperty("exhaustion");
        Assert.Equal(4, exhaustion.GetProperty("available").GetInt64());
        Assert.Equal(0.2, exhaustion.GetProperty("allocations_per_minute").GetDouble());
        Assert.Equal(1200, exhaustion.GetProperty("eta_seconds").GetInt64()); // 4 left at 0.2 per minute
    }

    [Fact]
    public async Task Events_before_the_window_are_left_out_and_the_backlog_names_the_oldest_pending_deletion()
    {
        using var admin = Broker.AdminClient();
        await RegisterAsync(admin, "w-1", "w-2", "w-3");
        var first = await AllocateAsync(Broker, "dave");
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{first}/release");
        var releasedAt = Clock.GetUtcNow().ToUnixTimeSeconds();
        Clock.Advance(TimeSpan.FromMinutes(5));
        var second = await AllocateAsync(Broker, "erin");
        await PostOkAsync(admin, $"/v1/admin/sandboxes/{second}/release");
        Clock.Advance(TimeSpan.FromSeconds(30));

        var report = await GetOkAsync(admin, "/v1/admin/activity?minutes=2");

        var totals = report.GetProperty("totals");
        Assert.Equal(1, totals.GetProperty("allocations").GetInt32());
        Assert.Equal(1, totals.GetProperty("releases").GetInt32());
        var cleanup = report.GetProperty("cleanup");
        Assert.Equal(2, cleanup.GetProperty("pending_deletion").GetInt64());
        Assert.Equal(releasedAt, cleanup.GetProperty("oldest_pending_since").GetInt64());
        Assert.Equal(5 * 60 + 30, cleanup.GetProperty("oldest_pending_age_seconds").GetInt64());

        var wide = await GetOkAsync(admin, "/v1/admin/activity");
        Assert.Equal(60, wide.GetProperty("minutes").GetInt32());
        Assert.Equal(2, wide.GetProperty("totals").GetProperty("allocations").GetInt32());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1441")]
    [InlineData("-5")]
    [InlineData("ten")]
    [InlineData("1.5")]
    public async Task A_window_out_of_range_is_a_400_problem(string minutes)
    {
        using var admin = Broker.AdminClient();
        using var response = await admin.GetAsync($"/v1/admin/activity?minutes={Uri.EscapeDataString(minutes)}");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "VALIDATION_ERROR");
    }

    [Fact]
    public async Task Activity_needs_an_admin_token()
    {
        using var anonymous = Broker.AnonymousClient();
        using var track = Broker.TrackClient();
        using var none = await anonymous.GetAsync("/v1/admin/activity");
        using var wrongRole = await track.GetAsync("/v1/admin/activity");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, wrongRole.StatusCode);
    }

    /// <summary>key → (total, available, allocated).</summary>
    private static Dictionary<string, (long, long, long)> Groups(JsonElement report, string name) =>
        report.GetProperty(name).EnumerateArray().ToDictionary(
            g => g.GetProperty("key").GetString()!,
            g => (g.GetProperty("total").GetInt64(), g.GetProperty("available").GetInt64(), g.GetProperty("allocated").GetInt64()));
}

public sealed class SqliteAdminActivityTests : AdminActivityTests
{
    protected override Task<BrokerFactory> CreateBrokerAsync() => Task.FromResult(EmptyBroker().WithTime(Clock));

    [Fact]
    public async Task The_OpenAPI_document_describes_activity_with_its_window_and_answers()
    {
        using var client = Broker.AnonymousClient();
        var document = await GetOkAsync(client, "/v1/openapi.json");
        var operation = document.GetProperty("paths").GetProperty("/v1/admin/activity").GetProperty("get");
        Assert.Contains(operation.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "minutes");
        var responses = operation.GetProperty("responses");
        Assert.True(responses.TryGetProperty("200", out _));
        Assert.True(responses.TryGetProperty("400", out _));
        Assert.True(responses.TryGetProperty("401", out _));
    }
}
