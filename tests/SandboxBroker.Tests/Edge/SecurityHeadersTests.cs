using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using SandboxBroker.Tests.Infrastructure;
using SandboxBroker.Tests.Observability;

namespace SandboxBroker.Tests.Edge;

/// <summary>Security headers on every response the application produces, errors included.</summary>
public sealed partial class SecurityHeadersTests
{
    private const string StrictCsp = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    [Fact]
    public async Task Success_auth_failures_routing_404_429_and_500_all_carry_them()
    {
        var store = new StoreCallCounter();
        await using var broker = new BrokerFactory()
            .With("RateLimiting:PermitsPerSecond", "1")
            .With("RateLimiting:Burst", "3")
            .WithServices(store.Install);
        using var track = broker.TrackClient();
        using var admin = broker.AdminClient();
        using var anonymous = broker.AnonymousClient();

        using (var ok = await anonymous.GetAsync(new Uri("/healthz", UriKind.Relative)))
        {
            AssertSecurityHeaders(ok, HttpStatusCode.OK);
        }

        using (var unauthorized = await anonymous.SendAsync(HttpMethod.Post, "/v1/allocate", "h-1"))
        {
            AssertSecurityHeaders(unauthorized, HttpStatusCode.Unauthorized);
        }

        using (var forbidden = await admin.SendAsync(HttpMethod.Post, "/v1/allocate", "h-1"))
        {
            AssertSecurityHeaders(forbidden, HttpStatusCode.Forbidden);
        }

        using (var routing404 = await track.SendAsync(HttpMethod.Get, "/no-such-path", "h-1"))
        {
            AssertSecurityHeaders(routing404, HttpStatusCode.NotFound);
        }

        using (var notFound = await track.SendAsync(HttpMethod.Get, "/v1/sandboxes/nope", "h-1"))
        {
            AssertSecurityHeaders(notFound, HttpStatusCode.NotFound);
        }

        // 500: the store throws something unexpected; the exception handler answers after clearing the headers.
        store.Fail("GetAsync", () => new InvalidOperationException("disk on fire"));
        using (var failed = await track.SendAsync(HttpMethod.Get, "/v1/sandboxes/boom", "h-2"))
        {
            AssertSecurityHeaders(failed, HttpStatusCode.InternalServerError);
            var body = await failed.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("INTERNAL_ERROR", body.GetProperty("code").GetString());
            Assert.DoesNotContain("disk on fire", body.GetRawText(), StringComparison.Ordinal);
            Assert.Equal("1", failed.Header("X-RateLimit-Limit"));   // set when the response starts, so it survives too
        }

        store.Heal("GetAsync");

        // h-2 had a burst of 3 and spent one on the 500: the bucket runs dry within a few more requests.
        HttpResponseMessage limited;
        var attempts = 0;
        while ((limited = await track.SendAsync(HttpMethod.Get, "/v1/sandboxes/nope", "h-2")).StatusCode != HttpStatusCode.TooManyRequests)
        {
            limited.Dispose();
            Assert.True(++attempts < 10, "h-2 was never rate limited");
        }

        using (limited)
        {
            AssertSecurityHeaders(limited, HttpStatusCode.TooManyRequests);
        }

        // The 500 is counted as a 500 of its route, not as the 200 it was when the exception left the endpoint.
        var metrics = await PrometheusText.ScrapeAsync(anonymous);
        Assert.Equal(1, metrics.Value("http_requests_received_total", ("code", "500"), ("method", "GET"), ("endpoint", "/v1/sandboxes/{sandboxId}")));
    }

    [Fact]
    public async Task The_docs_page_gets_a_policy_allowing_exactly_its_own_inline_script()
    {
        await using var broker = new BrokerFactory();
        using var client = broker.AnonymousClient();
        using var page = await client.GetAsync(new Uri("/v1/docs/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        var csp = page.Header("Content-Security-Policy")!;

        var inline = InlineScript().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(inline);
        foreach (var script in inline)
        {
            var hash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(script)));
            Assert.Contains($"'sha256-{hash}'", csp, StringComparison.Ordinal);
        }

        var directives = csp.Split(';', StringSplitOptions.TrimEntries).ToDictionary(d => d.Split(' ')[0], d => d);
        Assert.Equal("default-src 'none'", directives["default-src"]);
        Assert.Equal("frame-ancestors 'none'", directives["frame-ancestors"]);
        Assert.Equal("connect-src 'self'", directives["connect-src"]);
        Assert.DoesNotContain("'unsafe-inline'", directives["script-src"], StringComparison.Ordinal);
        Assert.DoesNotContain("'unsafe-eval'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("http", csp, StringComparison.Ordinal);   // no external host: the UI is self-hosted

        // Every script the page loads is served by the broker itself.
        foreach (Match source in ScriptSource().Matches(html))
        {
            using var asset = await client.GetAsync(new Uri("/v1/docs/" + source.Groups[1].Value, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal("nosniff", asset.Header("X-Content-Type-Options"));
        }

        // The API itself keeps the strict policy; so does the OpenAPI document.
        using var api = await client.GetAsync(new Uri("/v1/openapi.json", UriKind.Relative));
        Assert.Equal(StrictCsp, api.Header("Content-Security-Policy"));
    }

    private static void AssertSecurityHeaders(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        var what = $"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}";
        Assert.True(response.Header("X-Content-Type-Options") == "nosniff", what);
        Assert.True(response.Header("X-Frame-Options") == "DENY", what);
        Assert.True(response.Header("Referrer-Policy") == "no-referrer", what);
        Assert.True(response.Header("Strict-Transport-Security")?.StartsWith("max-age=", StringComparison.Ordinal) == true, what);
        Assert.True(response.Header("Content-Security-Policy") == StrictCsp, what);
        Assert.NotNull(response.Header("X-Request-ID"));
    }

    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex InlineScript();

    [GeneratedRegex(@"<script[^>]*\bsrc=""([^""]+)""")]
    private static partial Regex ScriptSource();
}
