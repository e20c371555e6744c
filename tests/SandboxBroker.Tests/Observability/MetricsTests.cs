using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Observability;

/// <summary>/metrics under the original's names, fed by a real host.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    /// <summary>Every metric family the original broker exposed, with the type its dashboards expect.</summary>
    public static readonly TheoryData<string, string> Section9Families = new()
    {
        { "broker_allocate_total", "counter" },
        { "broker_allocate_conflicts_total", "counter" },
        { "broker_deletion_marked_total", "counter" },
        { "broker_sync_total", "counter" },
        { "broker_cleanup_total", "counter" },
        { "broker_expiry_total", "counter" },
        { "broker_pool_available", "gauge" },
        { "broker_pool_allocated", "gauge" },
        { "broker_pool_pending_deletion", "gauge" },
        { "broker_pool_stale", "gauge" },
        { "broker_pool_deletion_failed", "gauge" },
        { "broker_pool_total", "gauge" },
        { "broker_allocation_latency_seconds", "histogram" },
        { "broker_sync_duration_seconds", "histogram" },
        { "broker_cleanup_duration_seconds", "histogram" },
        { "broker_invariant_violations", "gauge" },
        { "broker_csp_circuit_state", "gauge" },
        { "broker_job_last_success_timestamp_seconds", "gauge" },
        { "broker_job_duration_seconds", "histogram" },
        { "http_requests_received_total", "counter" },
        { "http_request_duration_seconds", "histogram" },
    };

    private readonly StoreCallCounter storeCalls = new();
    private readonly BrokerFactory broker;

    public MetricsTests()
    {
        broker = new BrokerFactory()
            .With("Metrics:PoolRefreshInterval", "00:00:00.500")
            .WithServices(storeCalls.Install);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Fact]
    public async Task Every_labelled_series_exists_at_zero_before_any_traffic()
    {
        using var client = broker.AnonymousClient();
        var metrics = await PrometheusText.ScrapeAsync(client);

        foreach (var outcome in BrokerMetrics.AllocateOutcomes)
        {
            Assert.Equal(0, metrics.Value("broker_allocate_total", ("outcome", outcome)));
        }

        foreach (var outcome in BrokerMetrics.DeletionMarkedOutcomes)
        {
            Assert.Equal(0, metrics.Value("broker_deletion_marked_total", ("outcome", outcome)));
        }

        foreach (var family in new[] { "broker_sync_total", "broker_cleanup_total", "broker_expiry_total" })
        {
            foreach (var outcome in new[] { "success", "error", "guarded", "skipped" })
            {
                Assert.Equal(0, metrics.Value(family, ("outcome", outcome)));
            }
        }

        foreach (var job in BrokerMetrics.Jobs)
        {
            Assert.Equal(0, metrics.Value("broker_job_last_success_timestamp_seconds", (BrokerMetrics.JobLabel, job)));
        }

        Assert.Equal(0, metrics.Value("broker_allocate_conflicts_total"));
        Assert.Equal(0, metrics.Value("broker_invariant_violations"));
    }

    [Theory]
    [MemberData(nameof(Section9Families))]
    public async Task Every_section_9_family_is_exposed_with_its_type(string family, string type)
    {
        using var client = broker.TrackClient();
        using var _ = await client.GetAsync(new Uri("/healthz", UriKind.Relative)); // so the HTTP families have a series
        var metrics = await EventuallyAsync(m => m.Types.ContainsKey(family));
        var actual = metrics.Types[family];
        Assert.Equal(type, actual);
        Assert.Contains(metrics.Samples, s => s.Name == family || s.Name.StartsWith(family + "_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task After_a_lifecycle_the_metrics_show_what_happened_and_label_routes_never_ids()
    {
        await broker.Get<SyncService>().RunOnceAsync(default);   // 20 simulated sandboxes become available
        using var client = broker.TrackClient();

        using var allocate = Request(HttpMethod.Post, "/v1/allocate", "life-1");
        using var allocated = await client.SendAsync(allocate);
        Assert.Equal(HttpStatusCode.Created, allocated.StatusCode);
        var id = (await allocated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sandbox_id").GetString()!;

        using var replayRequest = Request(HttpMethod.Post, "/v1/allocate", "life-1");
        (await client.SendAsync(replayRequest)).Dispose();
        using var markRequest = Request(HttpMethod.Post, $"/v1/sandboxes/{id}/mark-for-deletion", "life-1");
        using var marked = await client.SendAsync(markRequest);
        Assert.Equal(HttpStatusCode.OK, marked.StatusCode);
        using var strangerRequest = Request(HttpMethod.Get, $"/v1/sandboxes/{id}", "someone-else");
        (await client.SendAsync(strangerRequest)).Dispose();

        // Pool gauges follow the store within the refresh interval (0.5 s here).
        var metrics = await EventuallyAsync(m => m.Value("broker_pool_pending_deletion") == 1);
        Assert.Equal(19, metrics.Value("broker_pool_available"));
        Assert.Equal(0, metrics.Value("broker_pool_allocated"));
        Assert.Equal(0, metrics.Value("broker_pool_stale"));
        Assert.Equal(0, metrics.Value("broker_pool_deletion_failed"));
        Assert.Equal(20, metrics.Value("broker_pool_total"));

        Assert.Equal(1, metrics.Value("broker_allocate_total", ("outcome", "success")));
        Assert.Equal(1, metrics.Value("broker_allocate_total", ("outcome", "idempotent")));
        Assert.Equal(2, metrics.Value("broker_allocation_latency_seconds_count"));
        Assert.True(metrics.Value("broker_allocation_latency_seconds_sum") > 0);
        Assert.Equal(1, metrics.Value("broker_deletion_marked_total", ("outcome", "success")));
        Assert.Equal(1, metrics.Value("broker_sync_total", ("outcome", "success")));
        Assert.Equal(1, metrics.Value("broker_sync_duration_seconds_count"));

        Assert.Equal(2, metrics.Value("http_requests_received_total", ("code", "201"), ("method", "POST"), ("endpoint", "/v1/allocate"))
            + metrics.Value("http_requests_received_total", ("code", "200"), ("method", "POST"), ("endpoint", "/v1/allocate")));
        Assert.Equal(1, metrics.Value("http_requests_received_total",
            ("code", "200"), ("method", "POST"), ("endpoint", "/v1/sandboxes/{sandboxId}/mark-for-deletion")));
        Assert.Equal(1, metrics.Value("http_requests_received_total", ("code", "403"), ("method", "GET"), ("endpoint", "/v1/sandboxes/{sandboxId}")));
        Assert.True(metrics.Value("http_request_duration_seconds_count", ("code", "201"), ("method", "POST"), ("endpoint", "/v1/allocate")) >= 1);

        // Labels come from small fixed sets: no id, requester or raw path anywhere in the exposition.
        Assert.DoesNotContain(id, metrics.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("life-1", metrics.Text, StringComparison.Ordinal);
        Assert.All(metrics.Samples.Where(s => s.Name.StartsWith("http_", StringComparison.Ordinal)),
            s => Assert.Subset(new HashSet<string> { "code", "method", "endpoint", "le" }, s.Labels.Keys.ToHashSet()));
    }

    [Fact]
    public async Task A_thousand_scrapes_cause_no_store_reads()
    {
        using var client = broker.AnonymousClient();
        await EventuallyAsync(m => m.Value("broker_pool_gauges_last_refresh_timestamp_seconds") > 0);
        var before = storeCalls.Snapshot();
        var watch = Stopwatch.StartNew();

        for (var i = 0; i < 1000; i++)
        {
            using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var elapsed = watch.Elapsed;
        var after = storeCalls.Snapshot();
        int Delta(string method) => after.GetValueOrDefault(method) - before.GetValueOrDefault(method);

        // The background refresher's counts only: one per 0.5 s tick, whatever the number of scrapes.
        var ticks = (int)Math.Ceiling(elapsed.TotalSeconds / 0.5) + 2;
        Assert.InRange(Delta("CountAsync"), 0, ticks);
        Assert.Equal(0, Delta("ListAsync"));
        Assert.Equal(0, Delta("ScanByStatusAsync"));
        Assert.Equal(0, Delta("GetAsync"));
        Assert.Equal(0, Delta("RunAllocationAsync"));
    }

    [Fact]
    public async Task A_failing_store_keeps_the_last_pool_gauges_and_logs_once()
    {
        await broker.Get<SyncService>().RunOnceAsync(default);
        using var client = broker.AnonymousClient();
        await EventuallyAsync(m => m.Value("broker_pool_available") == 20);

        storeCalls.Fail("CountAsync", () => new InvalidOperationException("store down"));
        var failedAt = storeCalls["CountAsync"];
        await Task.Delay(1500);   // three ticks against a failing store
        Assert.True(storeCalls["CountAsync"] >= failedAt + 2, "the refresher stopped ticking after a failure");
        var metrics = await PrometheusText.ScrapeAsync(client);
        Assert.Equal(20, metrics.Value("broker_pool_available"));

        storeCalls.Heal("CountAsync");
        Assert.True(await broker.Get<PoolGaugeRefresher>().RefreshOnceAsync(default));
    }

    [Fact]
    public async Task Methods_outside_the_standard_set_are_refused_and_never_become_labels()
    {
        using var client = broker.TrackClient();
        using var request = Request(new HttpMethod("BREW"), "/v1/allocate", "tea");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());

        var metrics = await PrometheusText.ScrapeAsync(client);
        Assert.DoesNotContain(metrics.Samples, s => s.Labels.TryGetValue("method", out var m) && m == "BREW");
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string requester)
    {
        var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Add("X-Instruqt-Sandbox-ID", requester);
        return request;
    }

    private async Task<PrometheusText> EventuallyAsync(Func<PrometheusText, bool> condition)
    {
        using var client = broker.AnonymousClient();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var metrics = await PrometheusText.ScrapeAsync(client);
            if (condition(metrics))
            {
                return metrics;
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "condition not met within 10 s:\n" + metrics.Text);
            await Task.Delay(100);
        }
    }
}
