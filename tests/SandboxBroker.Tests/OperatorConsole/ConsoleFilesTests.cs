using System.Net;
using System.Text.RegularExpressions;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.OperatorConsole;

/// <summary>The console's files as the broker serves them: from the assembly, same-origin only, no secret in the page.</summary>
public sealed partial class ConsoleFilesTests : IAsyncLifetime
{
    private readonly BrokerFactory broker = new BrokerFactory().With("Csp:Simulated:PoolSize", "0");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Fact]
    public async Task The_page_and_every_file_it_references_are_served_with_a_self_only_policy()
    {
        using var client = broker.AnonymousClient();
        using var page = await client.GetAsync("/console/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("http", policy, StringComparison.Ordinal);

        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);          // nothing inline: the policy would block it
        Assert.DoesNotContain("style=", html, StringComparison.Ordinal);
        var references = Reference().Matches(html).Select(m => m.Groups["file"].Value).ToList();
        Assert.Contains("app.js", references);
        Assert.Contains("console.css", references);
        foreach (var file in references)
        {
            Assert.DoesNotContain("//", file, StringComparison.Ordinal);             // no CDN, no other host
            using var response = await client.GetAsync("/console/" + file);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{file}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task Modules_import_only_their_siblings()
    {
        using var client = broker.AnonymousClient();
        foreach (var module in new[] { "app.js", "api.js", "ui.js", "chart.js", "overview.js", "sandboxes.js", "repairs.js", "jobs.js" })
        {
            using var response = await client.GetAsync("/console/" + module);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
            var source = await response.Content.ReadAsStringAsync();
            Assert.All(Import().Matches(source), m => Assert.StartsWith("./", m.Groups["from"].Value, StringComparison.Ordinal));
            Assert.DoesNotContain("localStorage", source, StringComparison.Ordinal);   // the token lives in sessionStorage only
            Assert.DoesNotContain("document.cookie =", source, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_the_slash_it_redirects_and_unknown_files_are_404()
    {
        using var client = broker.AnonymousClient(); // follows no redirect
        using var bare = await client.GetAsync("/console");
        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/console/", bare.Headers.Location?.OriginalString);
        using var missing = await client.GetAsync("/console/../appsettings.json");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var unknown = await client.GetAsync("/console/secrets.txt");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_second_request_with_the_etag_is_answered_304()
    {
        using var client = broker.AnonymousClient();
        using var first = await client.GetAsync("/console/app.js");
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/console/app.js");
        request.Headers.IfNoneMatch.Add(etag);
        using var second = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
    }

    [GeneratedRegex(@"(?:src|href)=""(?<file>[^""#]+)""")]
    private static partial Regex Reference();

    [GeneratedRegex(@"import\s[^;]*?from\s+""(?<from>[^""]+)""")]
    private static partial Regex Import();
}
