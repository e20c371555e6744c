using System.Net;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Edge;

/// <summary>CORS from Cors:AllowedOrigins: nothing is allowed unless configured.</summary>
public sealed class CorsTests
{
    private const string Lab = "https://lab.example";
    private static readonly string[] RequestHeaders =
    [
        "authorization", "content-type", "x-request-id", "x-instruqt-sandbox-id", "x-track-id", "x-instruqt-track-id",
        "x-sandbox-name-prefix", "idempotency-key",
    ];

    [Fact]
    public async Task A_preflight_from_a_configured_origin_needs_no_token_and_allows_the_section_4_headers()
    {
        await using var broker = new BrokerFactory().With("Cors:AllowedOrigins:0", Lab);
        using var client = broker.AnonymousClient();
        using var response = await client.SendAsync(Preflight("/v1/allocate", Lab));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Lab, response.Header("Access-Control-Allow-Origin"));
        var allowed = response.Header("Access-Control-Allow-Headers")!.ToLowerInvariant().Split(',', StringSplitOptions.TrimEntries);
        Assert.Subset(allowed.ToHashSet(), RequestHeaders.ToHashSet());
        Assert.Contains("POST", response.Header("Access-Control-Allow-Methods")!, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Header("X-Content-Type-Options"));
    }

    [Fact]
    public async Task An_actual_request_from_the_origin_may_read_the_request_id_and_rate_headers()
    {
        await using var broker = new BrokerFactory().With("Cors:AllowedOrigins:0", Lab);
        using var client = broker.TrackClient();
        using var request = EdgeClient.Request(HttpMethod.Get, "/v1/sandboxes/x1", "cors-1");
        request.Headers.Add("Origin", Lab);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(Lab, response.Header("Access-Control-Allow-Origin"));
        var exposed = response.Header("Access-Control-Expose-Headers")!.ToLowerInvariant();
        foreach (var header in new[] { "x-request-id", "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining" })
        {
            Assert.Contains(header, exposed, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Another_origin_and_the_default_configuration_get_no_allow_origin()
    {
        await using (var configured = new BrokerFactory().With("Cors:AllowedOrigins:0", Lab))
        {
            using var client = configured.AnonymousClient();
            using var response = await client.SendAsync(Preflight("/v1/allocate", "https://evil.example"));
            Assert.Null(response.Header("Access-Control-Allow-Origin"));
        }

        await using (var unconfigured = new BrokerFactory())
        {
            using var client = unconfigured.AnonymousClient();
            using var response = await client.SendAsync(Preflight("/v1/allocate", Lab));
            Assert.Null(response.Header("Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task A_star_allows_any_origin_and_the_legacy_alias_lists_origins()
    {
        await using (var any = new BrokerFactory().With("Cors:AllowedOrigins:0", "*"))
        {
            using var client = any.AnonymousClient();
            using var response = await client.SendAsync(Preflight("/v1/allocate", "https://anywhere.example"));
            Assert.Equal("*", response.Header("Access-Control-Allow-Origin"));
        }

        await using var listed = new BrokerFactory()
            .With("Cors:AllowedOrigins:0", "https://a.example")
            .With("Cors:AllowedOrigins:1", "https://b.example/");
        using var listedClient = listed.AnonymousClient();
        using var b = await listedClient.SendAsync(Preflight("/v1/allocate", "https://b.example"));
        Assert.Equal("https://b.example", b.Header("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_malformed_origin_stops_the_start()
    {
        var (exit, output) = await StartupFailure.RunAsync(("CORS_ALLOWED_ORIGINS", "https://lab.example,lab.example/path"));
        Assert.NotEqual(0, exit ?? 0);
        Assert.Contains("Cors:AllowedOrigins: 'lab.example/path' is not an origin", output, StringComparison.Ordinal);
    }

    private static HttpRequestMessage Preflight(string path, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, new Uri(path, UriKind.Relative));
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", string.Join(",", RequestHeaders));
        return request;
    }
}
