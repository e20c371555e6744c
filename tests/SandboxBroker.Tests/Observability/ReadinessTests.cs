using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SandboxBroker.Api.Observability;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Observability;

/// <summary>/readyz (the framework's health checks tagged ready): a degraded check (e.g. an open CSP circuit) leaves the broker ready.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task A_degraded_check_answers_200_degraded_and_a_failed_one_503()
    {
        var state = new SwitchableCheck();
        await using var broker = new BrokerFactory().WithServices(s => s.AddHealthChecks().AddCheck("test", state, tags: [Readiness.ReadyTag]));
        using var client = broker.AnonymousClient();

        var ready = await ReadAsync(client, HttpStatusCode.OK);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.StartsWith("ok", ready.GetProperty("checks").GetProperty("store").GetString(), StringComparison.Ordinal);

        state.Result = HealthCheckResult.Degraded("circuit open");
        var degraded = await ReadAsync(client, HttpStatusCode.OK);
        Assert.Equal("degraded", degraded.GetProperty("status").GetString());
        Assert.Equal("circuit open", degraded.GetProperty("checks").GetProperty("test").GetString());

        state.Result = HealthCheckResult.Unhealthy("broken");
        var failed = await ReadAsync(client, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("not_ready", failed.GetProperty("status").GetString());
        Assert.Equal("broken", failed.GetProperty("checks").GetProperty("test").GetString());
        Assert.True(failed.GetProperty("timestamp").GetInt64() > 0);

        // Liveness runs no check: a failing dependency never restarts the task.
        using var live = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal("healthy", (await live.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        using var post = await client.PostAsync(new Uri("/readyz", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public async Task Readiness_is_the_framework_health_checks_store_and_sync()
    {
        await using var broker = new BrokerFactory();
        var registrations = broker.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<HealthCheckServiceOptions>>().Value.Registrations;
        Assert.Equal(["store", "sync"], registrations.Where(r => r.Tags.Contains(Readiness.ReadyTag)).Select(r => r.Name).Order(StringComparer.Ordinal));
        var report = await broker.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains(Readiness.ReadyTag));
        Assert.StartsWith("ok", report.Entries["store"].Description, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> ReadAsync(HttpClient client, HttpStatusCode expected)
    {
        using var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(expected, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private sealed class SwitchableCheck : IHealthCheck
    {
        public HealthCheckResult Result { get; set; } = HealthCheckResult.Healthy("fine");

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(Result);
    }
}
