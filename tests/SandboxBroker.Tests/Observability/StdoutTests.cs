using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Observability;

/// <summary>The broker as its own process: everything it writes to stdout, start-up included, is JSON lines.</summary>
public sealed class StdoutTests
{
    [Fact]
    public async Task Every_stdout_line_of_a_real_process_is_a_json_object_without_tokens()
    {
        const string track = "stdout-track-token-0123456789abcdef";
        const string admin = "stdout-admin-token-0123456789abcdef";
        var directory = Path.Combine(Path.GetTempPath(), "sbx-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        await using var process = BrokerProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["BROKER_API_TOKEN"] = track,
            ["BROKER_ADMIN_TOKEN"] = admin,
            ["Csp__Mode"] = "Simulated",
            ["Storage__Sqlite__Path"] = Path.Combine(directory, "broker.db"),
        });
        Assert.True(await process.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), process.Output);

        using var client = new HttpClient { BaseAddress = process.BaseAddress };
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/allocate", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", track);
        request.Headers.Add("X-Instruqt-Sandbox-ID", "stdout-1");
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, response.StatusCode.ToString());
        var requestId = response.Headers.GetValues("X-Request-ID").Single();

        var lines = Array.Empty<string>();
        for (var i = 0; i < 50 && !lines.Any(l => l.Contains(requestId, StringComparison.Ordinal)); i++)
        {
            await Task.Delay(100);
            lines = process.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);   // throws on anything that is not JSON
            Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        }

        Assert.Contains(lines, l => l.Contains("\"Microsoft.Hosting.Lifetime\"", StringComparison.Ordinal));   // start-up lines
        Assert.Contains(lines, l => JsonDocument.Parse(l).RootElement.TryGetProperty("request_id", out var id) && id.GetString() == requestId);
        Assert.DoesNotContain(track, process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(admin, process.Output, StringComparison.Ordinal);
    }
}
