using System.Net;
using SandboxBroker.Testing;

namespace SandboxBroker.Tests.Edge;

/// <summary>
/// Behind the ALB (a real Kestrel process, loopback standing in for the load balancer's network): with
/// Edge:KnownNetworks the unauthenticated per-IP bucket is per client named by X-Forwarded-For and log lines carry the
/// client's address; without it the header is ignored, so no client can pick its own bucket.
/// </summary>
public sealed class ForwardedHeadersTests
{
    // One permit per second refills; a burst of 100 leaves room to see whose bucket a request was charged to.
    private const int Burst = 100;

    [Fact]
    public async Task From_a_known_network_each_forwarded_client_has_its_own_bucket_and_log_address()
    {
        await using var broker = await StartAsync(("Edge__KnownNetworks__0", "127.0.0.0/8"));
        using var client = new HttpClient { BaseAddress = broker.BaseAddress };

        // The bucket refills at 1 permit/s; on a loaded machine ten requests can take seconds, so A's bucket is only
        // required to be lower than the full one B finds.
        var first = await UnauthenticatedBurstAsync(client, "203.0.113.7", 10);
        Assert.True(first[^1] < Burst - 1, $"client A's bucket: {string.Join(", ", first)}");
        var second = await UnauthenticatedBurstAsync(client, "198.51.100.9", 1);
        Assert.Equal([Burst - 1], second);                                // another client behind the same node has a full bucket

        await WaitForAsync(broker, "\"client_ip\":\"198.51.100.9\"");
        Assert.Contains("\"client_ip\":\"203.0.113.7\"", broker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_known_networks_the_forwarded_header_is_ignored()
    {
        await using var broker = await StartAsync();
        using var client = new HttpClient { BaseAddress = broker.BaseAddress };

        var first = await UnauthenticatedBurstAsync(client, "203.0.113.7", 10);
        var other = await UnauthenticatedBurstAsync(client, "198.51.100.9", 1);
        Assert.True(other[0] <= first[^1] + 3, $"{other[0]} left after {string.Join(", ", first)}"); // same peer, same bucket, whatever the header says

        await WaitForAsync(broker, "\"client_ip\":\"127.0.0.1\"");
        Assert.DoesNotContain("203.0.113.7", broker.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_known_network_that_is_not_a_cidr_range_stops_the_start_with_its_name()
    {
        await using var broker = BrokerProcess.Start(Environment(("Edge__KnownNetworks__0", "10.0.0.0/99")));
        Assert.Equal(1, await broker.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Edge:KnownNetworks: '10.0.0.0/99' is not a CIDR range", broker.Output, StringComparison.Ordinal);
    }

    /// <summary>Anonymous requests under the base path (charged to the per-IP bucket); what each left in the bucket.</summary>
    private static async Task<List<int>> UnauthenticatedBurstAsync(HttpClient client, string forwardedFor, int count)
    {
        var remaining = new List<int>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/openapi.json", UriKind.Relative));
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            remaining.Add(int.Parse(response.Headers.GetValues("X-RateLimit-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture));
        }

        return remaining;
    }

    private static async Task<BrokerProcess> StartAsync(params (string Key, string Value)[] settings)
    {
        var broker = BrokerProcess.Start(Environment(settings));
        Assert.True(await broker.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), broker.Output);
        return broker;
    }

    private static Dictionary<string, string?> Environment(params (string Key, string Value)[] settings)
    {
        var directory = Path.Combine(Path.GetTempPath(), "sbx-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["BROKER_API_TOKEN"] = "forwarded-track-token-0123456789",
            ["BROKER_ADMIN_TOKEN"] = "forwarded-admin-token-0123456789",
            ["Csp__Mode"] = "Simulated",
            ["Storage__Sqlite__Path"] = Path.Combine(directory, "broker.db"),
            ["RateLimiting__PermitsPerSecond"] = "1",
            ["RateLimiting__Burst"] = Burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return environment;
    }

    private static async Task WaitForAsync(BrokerProcess broker, string text)
    {
        for (var i = 0; i < 50 && !broker.Output.Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.Contains(text, broker.Output, StringComparison.Ordinal);
    }
}
