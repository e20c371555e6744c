using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Observability;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Tests.Infrastructure;
using SandboxBroker.Tests.Workers.Support;

namespace SandboxBroker.Tests.Csp;

/// <summary>The live CSP client over real HTTP against the fake CSP: mapping, auth, one attempt per call, the breaker.</summary>
public sealed class LiveCspProviderTests
{
    [Fact]
    public async Task Lists_only_active_sandbox_accounts_mapped_as_the_original_did()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 3);

        var listing = await h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None);
        var listed = listing.Active;

        Assert.Equal(3, listed.Count); // not the parent account, not the inactive sandbox account
        Assert.True(listing.Listed.Contains("identity/accounts/eeeeeeee-0000-0000-0000-000000000000")); // yet its id is known
        var first = listed.Single(s => s.Name == "lab-csp-0001");
        Assert.Equal("3000001", first.SandboxId);
        Assert.Equal("identity/accounts/00000000-0000-0000-0000-000000000002", first.ExternalId);
        Assert.Equal("SFDC00001", first.SfdcAccountId);
        Assert.Equal(DateTimeOffset.Parse("2025-03-27T16:53:47Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds(), first.CreatedAt);
        var request = Assert.Single(h.Csp.Requests);
        Assert.Equal(("GET", "/v2/current_user/accounts", "Token " + h.Csp.Token), (request.Method, request.Path, request.Authorization));
    }

    [Fact]
    public async Task Deletes_by_the_uuid_of_the_external_id_with_token_auth()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 2);
        var account = h.Csp.ActiveSandboxes[1];

        await h.Get<ICspProvider>().DeleteSandboxAsync(SandboxFor(account.Id), CancellationToken.None);

        var request = Assert.Single(h.Csp.Requests);
        Assert.Equal(("DELETE", "/v2/sandbox/accounts/" + account.Uuid, "Token " + h.Csp.Token, 204),
            (request.Method, request.Path, request.Authorization, request.Status));
        Assert.Single(h.Csp.ActiveSandboxes);
    }

    [Fact]
    public async Task A_404_on_delete_is_success()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);

        await h.Get<ICspProvider>().DeleteSandboxAsync(SandboxFor("identity/accounts/0a0a0a0a-0000-0000-0000-000000000000"), CancellationToken.None);

        Assert.Equal(404, Assert.Single(h.Csp.Requests).Status);
    }

    [Fact]
    public async Task A_500_fails_the_call_after_exactly_one_http_attempt()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        h.Csp.Faults.FailFirst = 5;

        var error = await Assert.ThrowsAsync<CspException>(() =>
            h.Get<ICspProvider>().DeleteSandboxAsync(SandboxFor(h.Csp.ActiveSandboxes[0].Id), CancellationToken.None));

        Assert.Equal(500, error.StatusCode);
        Assert.True(error.CountsAsFailure);
        Assert.Single(h.Csp.Requests);
    }

    [Fact]
    public async Task A_wrong_token_is_an_error_that_says_nothing_about_csp_health()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1, settings: new Dictionary<string, string?> { ["Csp:Token"] = "wrong" });

        var error = await Assert.ThrowsAsync<CspException>(() => h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None));

        Assert.Equal(401, error.StatusCode);
        Assert.False(error.CountsAsFailure);
        Assert.DoesNotContain("wrong", error.Message, StringComparison.Ordinal); // never the token
    }

    [Fact]
    public async Task A_429_is_a_breaker_failure_carrying_csp_retry_after()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        h.Csp.Faults.TooManyRequests = true;
        h.Csp.Faults.RetryAfterSeconds = 42;

        var error = await Assert.ThrowsAsync<CspException>(() => h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None));

        Assert.Equal(429, error.StatusCode);
        Assert.True(error.CountsAsFailure);
        Assert.Equal(TimeSpan.FromSeconds(42), error.RetryAfter);
    }

    [Fact]
    public async Task A_malformed_body_is_a_breaker_failure()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 2);
        h.Csp.Faults.MalformedJson = true;

        var error = await Assert.ThrowsAsync<CspException>(() => h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None));

        Assert.True(error.CountsAsFailure);
        Assert.Contains("malformed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_list_is_an_empty_list()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 2);
        h.Csp.Faults.EmptyList = true;

        Assert.Empty((await h.Get<ICspProvider>().ListSandboxesAsync(CancellationToken.None)).Active);
    }

    [Fact]
    public async Task A_slow_answer_past_the_request_timeout_is_a_timeout_failure()
    {
        // Real clock here: the timeout is what is under test, and the fake clock would never let it fire.
        await using var csp = await FakeCspServer.StartAsync(1);
        using var sp = LiveServices(csp, TimeProvider.System, ("Csp:RequestTimeout", "00:00:00.300"));
        // The answer would come after a minute: getting the timeout well before it shows the 300 ms bound cut the call
        // (the margin is wide so that a loaded CI machine cannot fail it; this is not a speed test).
        csp.Faults.Delay = TimeSpan.FromSeconds(60);
        var started = TimeProvider.System.GetTimestamp();

        var error = await Assert.ThrowsAsync<CspException>(() => sp.GetRequiredService<ICspProvider>().ListSandboxesAsync(CancellationToken.None));

        Assert.True(error.CountsAsFailure);
        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_breaker_opens_after_five_failures_and_then_stops_calling_csp()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        h.Csp.Faults.Down = true;
        var csp = h.Get<ICspProvider>();

        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<CspException>(() => csp.ListSandboxesAsync(CancellationToken.None));
        }

        var broken = await Assert.ThrowsAsync<BrokenCircuitException>(() => csp.ListSandboxesAsync(CancellationToken.None));
        Assert.Equal(5, h.Csp.Requests.Count);
        Assert.True(broken.RetryAfter > TimeSpan.Zero);
        Assert.Equal(HealthStatus.Degraded, (await new CspCircuitReadinessCheck(h.Get<CspCircuit>()).CheckHealthAsync(new HealthCheckContext())).Status);
        Assert.Equal(1, h.Get<BrokerMetrics>().CspCircuitState.Value); // broker_csp_circuit_state: open
    }

    [Fact]
    public async Task Polly_telemetry_reports_the_csp_breaker_opening()
    {
        // Polly's meter is process-wide: other tests' pipelines report too, so look for this one's instance.
        using var events = new MetricCollector<int>(null, "Polly", "resilience.polly.strategy.events");
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        h.Csp.Faults.Down = true;
        var csp = h.Get<ICspProvider>();
        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<CspException>(() => csp.ListSandboxesAsync(CancellationToken.None));
        }

        Assert.Contains(events.GetMeasurementSnapshot(), m =>
            Equals(m.Tags["pipeline.name"], CspCircuit.PipelineName) && Equals(m.Tags["event.name"], "OnCircuitOpened"));
        // ... and its log event (category "Polly", which the broker logs from Warning up).
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Category == "Polly" && r.Level >= LogLevel.Warning
            && r.Message.Contains("OnCircuitOpened", StringComparison.Ordinal) && r.Message.Contains(CspCircuit.PipelineName, StringComparison.Ordinal));
    }

    [Fact]
    public async Task After_the_break_one_successful_probe_closes_the_breaker()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        h.Csp.Faults.Down = true;
        var csp = h.Get<ICspProvider>();
        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<CspException>(() => csp.ListSandboxesAsync(CancellationToken.None));
        }

        h.Csp.Faults.Down = false;
        h.Time.Advance(TimeSpan.FromSeconds(59));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => csp.ListSandboxesAsync(CancellationToken.None));
        h.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.Single((await csp.ListSandboxesAsync(CancellationToken.None)).Active);
        Assert.Equal(CircuitState.Closed, h.Get<CspCircuit>().StateProvider.CircuitState);
        Assert.Equal(0, h.Get<BrokerMetrics>().CspCircuitState.Value);
        Assert.Equal(HealthStatus.Healthy, (await new CspCircuitReadinessCheck(h.Get<CspCircuit>()).CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task A_success_among_the_failures_keeps_the_breaker_closed()
    {
        await using var h = await WorkerHarness.StartAsync(sandboxes: 1);
        var csp = h.Get<ICspProvider>();
        await csp.ListSandboxesAsync(CancellationToken.None);
        h.Csp.FailNextCalls(6);

        for (var i = 0; i < 6; i++)
        {
            await Assert.ThrowsAsync<CspException>(() => csp.ListSandboxesAsync(CancellationToken.None));
        }

        Assert.Equal(CircuitState.Closed, h.Get<CspCircuit>().StateProvider.CircuitState); // failure ratio 1.0 was never reached
    }

    [Theory]
    [InlineData("identity/accounts/abc-123", "abc-123")]
    [InlineData("identity/accounts/abc-123/", "abc-123")]
    [InlineData("abc-123", "abc-123")]
    public void The_account_uuid_is_the_last_segment_of_the_external_id(string externalId, string uuid) =>
        Assert.Equal(uuid, CspAccounts.UuidOf(externalId));

    [Fact]
    public void Accounts_without_csp_id_are_skipped_and_named_and_unparsable_dates_become_zero()
    {
        using var document = System.Text.Json.JsonDocument.Parse("""
            {"results": [
              {"id": "identity/accounts/u-1", "name": "a", "account_type": "sandbox", "state": "active", "created_at": "yesterday"},
              {"id": "identity/accounts/u-3", "csp_id": 3, "name": "c", "account_type": "sandbox", "state": "active", "created_at": "yesterday"},
              {"id": "identity/accounts/u-2", "csp_id": "77", "account_type": "sandbox", "state": "active"},
              {"csp_id": 5, "account_type": "sandbox", "state": "active"},
              "junk"
            ]}
            """);

        var skipped = new List<string>();
        var parsed = CspAccounts.Parse(document, skipped.Add).Active;

        Assert.Equal(["account identity/accounts/u-1 without csp_id", "an active sandbox account without id (csp_id 5)", "a String row instead of an account object"], skipped);
        Assert.Equal(2, parsed.Count);
        Assert.Equal(("3", "c", 0L, (string?)null), (parsed[0].SandboxId, parsed[0].Name, parsed[0].CreatedAt, parsed[0].SfdcAccountId));
        Assert.Equal(("77", "sandbox-77"), (parsed[1].SandboxId, parsed[1].Name));
    }

    [Fact]
    public void A_body_without_a_results_array_is_malformed()
    {
        using var document = System.Text.Json.JsonDocument.Parse("""{"accounts": []}""");

        Assert.True(Assert.Throws<CspException>(() => CspAccounts.Parse(document)).CountsAsFailure);
    }

    private static Sandbox SandboxFor(string externalId) => new()
    {
        SandboxId = "1",
        Name = "n",
        ExternalId = externalId,
        Status = SandboxStatus.PendingDeletion,
    };

    private static ServiceProvider LiveServices(FakeCspServer csp, TimeProvider time, params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?> { ["Csp:BaseUrl"] = csp.BaseUrl, ["Csp:Token"] = csp.Token };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(time);
        services.AddSingleton<BrokerMetrics>();
        services.AddOptions<CspOptions>().Bind(configuration.GetSection(CspOptions.SectionName));
        LiveCspRegistration.Register(services);
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task The_live_client_reads_its_settings_from_configuration_with_a_fresh_clock()
    {
        await using var csp = await FakeCspServer.StartAsync(2);
        using var sp = LiveServices(csp, new FakeTimeProvider());

        Assert.Equal(2, (await sp.GetRequiredService<ICspProvider>().ListSandboxesAsync(CancellationToken.None)).Active.Count);
        Assert.Equal(CspOptions.LiveMode, sp.GetRequiredService<ICspProvider>().Mode);
    }
}
