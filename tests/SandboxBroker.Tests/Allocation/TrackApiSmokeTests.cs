using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Allocation;

public sealed class TrackApiSmokeTests : IAsyncLifetime
{
    private readonly BrokerFactory broker = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Fact]
    public async Task Healthz_answers_over_a_real_socket()
    {
        using var client = broker.AnonymousClient();
        Assert.StartsWith("http://127.0.0.1:", client.BaseAddress!.ToString(), StringComparison.Ordinal);
        var body = await client.GetFromJsonAsync<JsonElement>("/healthz");
        Assert.Equal("healthy", body.GetProperty("status").GetString());
    }
}
