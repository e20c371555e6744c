using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SandboxBroker.Api.Observability;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Observability;

/// <summary>/readyz: a degraded check (e.g. an open CSP circuit) leaves the broker ready.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task A_degraded_check_answers_200_degraded_and_a_failed_one_503()
    {
        var state = new SwitchableCheck();
        await using var broker = new BrokerFactory().WithServices(s => s.AddSingleton<IReadinessCheck>(state));
        using var client = broker.AnonymousClient();

        var ready = await ReadAsync(client, HttpStatusCode.OK);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.StartsWith("ok", ready.GetProperty("checks").GetProperty("store").GetString(), StringComparison.Ordinal);

        state.Result = new CheckResult(CheckStatus.Degraded, "circuit open");
        var degraded = await ReadAsync(client, HttpStatusCode.OK);
        Assert.Equal("degraded", degraded.GetProperty("status").GetString());
        Assert.Equal("circuit open", degraded.GetProperty("checks").GetProperty("test").GetString());

        state.Result = new CheckResult(CheckStatus.Failed, "broken");
        var failed = await ReadAsync(client, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("not_ready", failed.GetProperty("status").GetString());
    }

    private static async Task<JsonElement> ReadAsync(HttpClient client, HttpStatusCode expected)
    {
        using var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(expected, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private sealed class SwitchableCheck : IReadinessCheck
    {
        public CheckResult Result { get; set; } = new(CheckStatus.Ok, "fine");

        public string Name => "test";

        public Task<CheckResult> CheckAsync(CancellationToken ct) => Task.FromResult(Result);
    }
}
