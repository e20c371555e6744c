using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SandboxBroker.Api.Csp;
using SandboxBroker.Tests.Infrastructure;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Workers;

/// <summary>A broker host in Csp:Mode=Live against the fake CSP on 127.0.0.1, end to end over HTTP.</summary>
public sealed class LiveBrokerTests : IAsyncLifetime
{
    /// <summary>How long a wait for something the broker does in the background may take on a loaded machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private FakeCspServer csp = null!;
    private BrokerFactory broker = null!;

    public async Task InitializeAsync()
    {
        csp = await FakeCspServer.StartAsync(10);
        broker = LiveBroker(csp);
    }

    public async Task DisposeAsync()
    {
        await broker.DisposeAsync();
        await csp.DisposeAsync();
    }

    internal static BrokerFactory LiveBroker(FakeCspServer csp) => new BrokerFactory()
        .With("Csp:Mode", "Live")
        .With("Csp:BaseUrl", csp.BaseUrl)
        .With("Csp:Token", csp.Token)
        .With("Csp:RequestTimeout", "00:00:03");

    [Fact]
    public async Task A_live_broker_completes_the_lifecycle_and_deletes_upstream_with_token_auth()
    {
        using var admin = broker.AdminClient();
        using var track = broker.TrackClient();

        var sync = await PostAsync(admin, "/v1/admin/sync", HttpStatusCode.OK);
        Assert.Equal(("completed", 10, 0), (sync.GetProperty("status").GetString(), sync.GetProperty("synced").GetInt32(), sync.GetProperty("marked_stale").GetInt32()));
        Assert.True(sync.TryGetProperty("duration_ms", out _));

        using var allocate = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate") { Headers = { { "X-Instruqt-Sandbox-ID", "lifecycle-1" } } };
        using var allocated = await track.SendAsync(allocate);
        Assert.Equal(HttpStatusCode.Created, allocated.StatusCode);
        var sandbox = await allocated.Content.ReadFromJsonAsync<JsonElement>();
        var id = sandbox.GetProperty("sandbox_id").GetString()!;
        var externalId = sandbox.GetProperty("external_id").GetString()!;
        Assert.StartsWith("300000", id, StringComparison.Ordinal);
        Assert.StartsWith("identity/accounts/", externalId, StringComparison.Ordinal);

        using var mark = new HttpRequestMessage(HttpMethod.Post, $"/v1/sandboxes/{id}/mark-for-deletion") { Headers = { { "X-Instruqt-Sandbox-ID", "lifecycle-1" } } };
        Assert.Equal(HttpStatusCode.OK, (await track.SendAsync(mark)).StatusCode);

        var cleanup = await PostAsync(admin, "/v1/admin/cleanup", HttpStatusCode.OK);
        Assert.Equal(("completed", 1, 0), (cleanup.GetProperty("status").GetString(), cleanup.GetProperty("deleted").GetInt32(), cleanup.GetProperty("failed").GetInt32()));

        using var get = new HttpRequestMessage(HttpMethod.Get, $"/v1/sandboxes/{id}") { Headers = { { "X-Instruqt-Sandbox-ID", "lifecycle-1" } } };
        Assert.Equal(HttpStatusCode.NotFound, (await track.SendAsync(get)).StatusCode);
        var delete = Assert.Single(csp.Deletes());
        Assert.Equal(("/v2/sandbox/accounts/" + CspAccounts.UuidOf(externalId), "Token " + csp.Token, 204), (delete.Path, delete.Authorization, delete.Status));
    }

    [Fact]
    public async Task Sync_answers_502_when_csp_fails_and_503_with_retry_after_once_the_circuit_is_open()
    {
        using var admin = broker.AdminClient();
        csp.Faults.Down = true;

        for (var i = 0; i < 5; i++)
        {
            var failed = await PostAsync(admin, "/v1/admin/sync", HttpStatusCode.BadGateway);
            Assert.Equal("UPSTREAM_ERROR", failed.GetProperty("code").GetString());
        }

        using var open = await admin.PostAsync("/v1/admin/sync", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, open.StatusCode);
        Assert.True(open.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal("application/problem+json", open.Content.Headers.ContentType?.MediaType);
        Assert.Equal("SERVICE_UNAVAILABLE", (await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(5, csp.Requests.Count); // the sixth never left the broker

        using var client = broker.AnonymousClient();
        var ready = await client.GetFromJsonAsync<JsonElement>("/readyz");
        Assert.Equal("degraded", ready.GetProperty("status").GetString()); // open circuit: degraded, still ready
        Assert.Contains("open", ready.GetProperty("checks").GetProperty("csp").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sync_with_an_empty_upstream_list_is_guarded_and_stales_nothing()
    {
        using var admin = broker.AdminClient();
        await PostAsync(admin, "/v1/admin/sync", HttpStatusCode.OK);
        csp.Faults.EmptyList = true;

        var guarded = await PostAsync(admin, "/v1/admin/sync", HttpStatusCode.OK);

        Assert.True(guarded.GetProperty("guarded").GetBoolean());
        Assert.Equal(0, guarded.GetProperty("marked_stale").GetInt32());
        var stats = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/stats");
        Assert.Equal((10, 0), (stats.GetProperty("available").GetInt32(), stats.GetProperty("stale").GetInt32()));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("NaN")]
    [InlineData("1e9")]
    public async Task Auto_delete_stale_rejects_a_grace_that_is_not_a_number_of_hours_from_zero(string grace)
    {
        using var admin = broker.AdminClient();

        var problem = await PostAsync(admin, "/v1/admin/auto-delete-stale?grace_period_hours=" + grace, HttpStatusCode.BadRequest);

        Assert.Equal("VALIDATION_ERROR", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Auto_delete_stale_and_expire_answer_what_they_did()
    {
        using var admin = broker.AdminClient();
        await PostAsync(admin, "/v1/admin/sync", HttpStatusCode.OK);
        csp.Remove(a => a.Name is "lab-csp-0001" or "lab-csp-0002");
        Assert.Equal(2, (await PostAsync(admin, "/v1/admin/sync", HttpStatusCode.OK)).GetProperty("marked_stale").GetInt32());

        var kept = await PostAsync(admin, "/v1/admin/auto-delete-stale", HttpStatusCode.OK);
        Assert.Equal(("completed", 0, 24.0), (kept.GetProperty("status").GetString(), kept.GetProperty("deleted").GetInt32(), kept.GetProperty("grace_period_hours").GetDouble()));
        var purged = await PostAsync(admin, "/v1/admin/auto-delete-stale?grace_period_hours=0", HttpStatusCode.OK);
        Assert.Equal((2, 0.0), (purged.GetProperty("deleted").GetInt32(), purged.GetProperty("grace_period_hours").GetDouble()));

        var expired = await PostAsync(admin, "/v1/admin/expire", HttpStatusCode.OK);
        Assert.Equal(("completed", 0), (expired.GetProperty("status").GetString(), expired.GetProperty("expired").GetInt32()));
    }

    [Fact]
    public async Task Jobs_lists_every_job_with_its_last_run_outcome_duration_next_run_and_lock_holder()
    {
        using var admin = broker.AdminClient();
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var call = Stopwatch.StartNew();
        var synced = await PostAsync(admin, "/v1/admin/sync", HttpStatusCode.OK);
        var callMs = call.ElapsedMilliseconds;
        var after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var overview = await admin.GetFromJsonAsync<JsonElement>("/v1/admin/jobs");

        Assert.False(overview.GetProperty("jobs_enabled").GetBoolean());
        Assert.False(string.IsNullOrEmpty(overview.GetProperty("instance").GetString()));
        var jobs = overview.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("name").GetString()!);
        Assert.Equal(["cleanup", "expiry", "invariants", "reservations", "stale_purge", "sync"], jobs.Keys.Order(StringComparer.Ordinal));
        var sync = jobs["sync"];
        Assert.Equal("success", sync.GetProperty("last_outcome").GetString());
        Assert.InRange(sync.GetProperty("last_run_at").GetInt64(), before, after); // the pass just run, in epoch seconds
        // The runner times the whole pass: no less than the sync inside it, no more than the call around it.
        Assert.InRange(sync.GetProperty("last_duration_ms").GetInt64(), synced.GetProperty("duration_ms").GetInt64(), callMs);
        Assert.Equal(JsonValueKind.Null, sync.GetProperty("lease_holder").ValueKind);
        Assert.False(sync.GetProperty("running").GetBoolean());
        Assert.Equal(JsonValueKind.Null, sync.GetProperty("next_run_at").ValueKind); // workers are off in this host
        Assert.Equal(JsonValueKind.Null, jobs["cleanup"].GetProperty("last_run_at").ValueKind);
    }

    [Fact]
    public async Task A_trigger_names_its_run_and_the_run_record_shows_the_result_with_trigger_admin()
    {
        using var admin = broker.AdminClient();
        var synced = await PostAsync(admin, "/v1/admin/sync", HttpStatusCode.OK);
        var runId = synced.GetProperty("run_id").GetString()!;

        var run = await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/jobs/runs/{runId}");
        Assert.Equal((runId, "sync", "admin", "finished", "success"), (run.GetProperty("run_id").GetString(), run.GetProperty("job").GetString(),
            run.GetProperty("trigger").GetString(), run.GetProperty("status").GetString(), run.GetProperty("outcome").GetString()));
        Assert.Equal(synced.GetProperty("synced").GetInt32(), run.GetProperty("counts").GetProperty("examined").GetInt64());
        Assert.False(string.IsNullOrEmpty(run.GetProperty("instance").GetString()));

        using var unknown = await admin.GetAsync("/v1/admin/jobs/runs/sync-1764919320-abcdef");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("RUN_NOT_FOUND", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        using var track = broker.TrackClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await track.GetAsync($"/v1/admin/jobs/runs/{runId}")).StatusCode);
    }

    [Fact]
    public async Task A_cleanup_still_running_after_the_admin_wait_answers_running_and_finishes_in_the_background()
    {
        // The broker's clock is a fake one that only this test moves: the admin wait (1 s) ends when the test moves
        // it, and the pass cannot finish before the test moves it past the batch delay (37 min, a due time no other
        // timer here has) between the two deletions. The lease (1 h, renewed every 20 min) never runs out, and no CSP
        // call is under way (10 min timeout) while the clock moves.
        var batchDelay = TimeSpan.FromMinutes(37);
        var clock = new WatchedClock(new FakeTimeProvider(DateTimeOffset.UtcNow));
        await using var slow = LiveBroker(csp)
            .With("Jobs:AdminWait", "00:00:01")
            .With("Jobs:LeaseDuration", "01:00:00")
            .With("Jobs:Cleanup:BatchSize", "1")
            .With("Jobs:Cleanup:BatchDelay", "00:37:00")
            .With("Csp:RequestTimeout", "00:10:00")
            .WithTime(clock);
        using var admin = slow.AdminClient();
        using var track = slow.TrackClient();
        await PostAsync(admin, "/v1/admin/sync", HttpStatusCode.OK);
        for (var i = 0; i < 2; i++)
        {
            using var allocate = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate") { Headers = { { "X-Instruqt-Sandbox-ID", $"slow-{i}" } } };
            var id = (await (await track.SendAsync(allocate)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sandbox_id").GetString();
            using var mark = new HttpRequestMessage(HttpMethod.Post, $"/v1/sandboxes/{id}/mark-for-deletion") { Headers = { { "X-Instruqt-Sandbox-ID", $"slow-{i}" } } };
            Assert.Equal(HttpStatusCode.OK, (await track.SendAsync(mark)).StatusCode);
        }

        var trigger = PostWithLocationAsync(admin, "/v1/admin/cleanup", HttpStatusCode.Accepted);
        await clock.WaitForTimerAsync(batchDelay, Patience); // the first deletion is done; the pass waits for the clock
        Assert.Single(csp.Deletes());

        // Past the admin wait, a second at a time (never near the batch delay): the trigger answers that it still runs.
        for (var moved = TimeSpan.Zero; !trigger.IsCompleted && moved < TimeSpan.FromMinutes(2); moved += TimeSpan.FromSeconds(1))
        {
            clock.Fake.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(trigger, Task.Delay(250));
        }

        var (running, lastLocation) = await trigger.WaitAsync(Patience);
        Assert.Equal(("running", "cleanup"), (running.GetProperty("status").GetString(), running.GetProperty("job").GetString()));
        var runId = running.GetProperty("run_id").GetString()!;
        Assert.Equal($"/v1/admin/jobs/runs/{runId}", lastLocation?.OriginalString);

        // The run's record shows progress while it runs: stored every Jobs:RunProgressInterval (2 s of the broker's clock).
        JsonElement record = default;
        await EventuallyAsync(async () =>
        {
            clock.Fake.Advance(TimeSpan.FromSeconds(1));
            record = await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/jobs/runs/{runId}");
            return record.GetProperty("counts").GetProperty("changed").GetInt64() == 1;
        }, "the running record never showed the first deletion");
        Assert.Equal(("cleanup", "admin", "running"), (record.GetProperty("job").GetString(), record.GetProperty("trigger").GetString(), record.GetProperty("status").GetString()));
        Assert.Equal(JsonValueKind.Null, record.GetProperty("finished_at").ValueKind);
        var cleanup = (await admin.GetFromJsonAsync<JsonElement>("/v1/admin/jobs")).GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == "cleanup");
        Assert.True(cleanup.GetProperty("running").GetBoolean());
        Assert.Equal(running.GetProperty("lease_holder").GetString(), cleanup.GetProperty("lease_holder").GetString());
        Assert.Single(csp.Deletes());

        clock.Fake.Advance(batchDelay); // the pass goes on in the background and deletes the second sandbox
        await EventuallyAsync(async () => (await admin.GetFromJsonAsync<JsonElement>("/v1/admin/stats")).GetProperty("pending_deletion").GetInt32() == 0,
            "the background cleanup pass did not finish");
        Assert.Equal(2, csp.Deletes().Count);

        var done = await admin.GetFromJsonAsync<JsonElement>($"/v1/admin/jobs/runs/{runId}");
        Assert.Equal(("finished", "success"), (done.GetProperty("status").GetString(), done.GetProperty("outcome").GetString()));
        Assert.True(done.GetProperty("finished_at").GetInt64() >= done.GetProperty("started_at").GetInt64());
        Assert.Equal((2, 2, 0), (done.GetProperty("counts").GetProperty("changed").GetInt64(), done.GetProperty("counts").GetProperty("deleted").GetInt64(),
            done.GetProperty("counts").GetProperty("failed").GetInt64()));
        var cleanupJob = (await admin.GetFromJsonAsync<JsonElement>("/v1/admin/jobs")).GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == "cleanup");
        Assert.Contains(cleanupJob.GetProperty("last_runs").EnumerateArray(), r => r.GetProperty("run_id").GetString() == runId);
    }

    [Fact]
    public async Task With_jobs_on_the_broker_syncs_at_start_up_and_is_ready_even_when_csp_is_down()
    {
        csp.Faults.Down = true;
        await using var live = LiveBroker(csp).With("Jobs:Enabled", "true");
        using var client = live.AnonymousClient();

        var deadline = DateTime.UtcNow + Patience;
        HttpResponseMessage ready;
        while ((ready = await client.GetAsync("/readyz")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "never ready");
            await Task.Delay(100);
        }

        Assert.Contains("first sync attempted", (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").GetProperty("sync").GetString(), StringComparison.Ordinal);
        Assert.Contains(csp.Requests, r => r is { Method: "GET", Status: 503 }); // the start-up sync tried and failed
        using var admin = live.AdminClient();
        csp.Faults.Down = false;
        Assert.Equal(10, (await PostAsync(admin, "/v1/admin/sync", HttpStatusCode.OK)).GetProperty("synced").GetInt32());
    }

    [Fact]
    public async Task Job_triggers_need_the_admin_token()
    {
        using var track = broker.TrackClient();

        Assert.Equal(HttpStatusCode.Forbidden, (await track.PostAsync("/v1/admin/cleanup", null)).StatusCode);
        Assert.Empty(csp.Requests);
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails after <see cref="Patience"/>.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(100);
        }
    }

    private static async Task<(JsonElement Body, Uri? Location)> PostWithLocationAsync(HttpClient client, string path, HttpStatusCode expected)
    {
        using var response = await client.PostAsync(path, null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"POST {path}: {(int)response.StatusCode} {body}");
        return (JsonDocument.Parse(body).RootElement.Clone(), response.Headers.Location);
    }

    private static async Task<JsonElement> PostAsync(HttpClient client, string path, HttpStatusCode expected)
    {
        using var response = await client.PostAsync(path, null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"POST {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
