using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Sync;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Allocation;

/// <summary>The must-shows for races, over HTTP: 200 requesters on 200 sandboxes; 50 calls by one requester.</summary>
public sealed class TrackApiConcurrencyTests : IAsyncLifetime
{
    private readonly BrokerFactory broker = new BrokerFactory()
        .With("Csp:Simulated:PoolSize", "200")
        .With("RateLimiting:Enabled", "false");

    public async Task InitializeAsync() => await broker.Get<SyncService>().RunOnceAsync(default);

    public async Task DisposeAsync() => await broker.DisposeAsync();

    private static async Task<(HttpStatusCode Status, string? SandboxId)> AllocateAsync(HttpClient client, string requester)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate");
        request.Headers.Add("X-Instruqt-Sandbox-ID", requester);
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, body.TryGetProperty("sandbox_id", out var id) ? id.GetString() : null);
    }

    [Fact]
    public async Task Two_hundred_requesters_at_once_hold_two_hundred_distinct_sandboxes()
    {
        using var client = broker.TrackClient();
        var results = await Task.WhenAll(Enumerable.Range(1, 200).Select(i => AllocateAsync(client, $"burst-{i}")));
        Assert.All(results, r => Assert.Equal(HttpStatusCode.Created, r.Status));
        Assert.Equal(200, results.Select(r => r.SandboxId).Distinct().Count());

        var holders = new List<string>();
        await foreach (var sandbox in broker.Get<ISandboxStore>().ScanByStatusAsync(SandboxStatus.Allocated, default))
        {
            holders.Add(sandbox.AllocatedTo!);
        }

        Assert.Equal(200, holders.Count);
        Assert.Equal(200, holders.Distinct().Count());
    }

    [Fact]
    public async Task Fifty_calls_by_one_requester_at_once_get_one_sandbox()
    {
        using var client = broker.TrackClient();
        var results = await Task.WhenAll(Enumerable.Range(1, 50).Select(_ => AllocateAsync(client, "same-one")));
        Assert.All(results, r => Assert.Contains(r.Status, new[] { HttpStatusCode.Created, HttpStatusCode.OK }));
        Assert.Single(results, r => r.Status == HttpStatusCode.Created);
        Assert.Single(results.Select(r => r.SandboxId).Distinct());
    }
}
