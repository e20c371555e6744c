using System.Net;
using SandboxBroker.Testing;

namespace SandboxBroker.Tests.Observability;

/// <summary>
/// One namespace's level raised by an environment variable (Serilog's configuration section), on a real process:
/// probe requests are logged at Debug, so they appear only when the request logger's namespace is lowered to Debug.
/// </summary>
public sealed class LogLevelOverrideTests
{
    [Fact]
    public async Task An_environment_variable_lowers_one_namespace_to_debug_and_only_that_one()
    {
        Assert.False(await LogsHealthzAsync(new Dictionary<string, string?>()), "a probe request was logged at the default level");
        Assert.True(await LogsHealthzAsync(new Dictionary<string, string?>
        {
            ["Serilog__MinimumLevel__Override__Serilog.AspNetCore.RequestLoggingMiddleware"] = "Debug",
        }), "the override did not lower the request logger to Debug");
    }

    private static async Task<bool> LogsHealthzAsync(Dictionary<string, string?> settings)
    {
        var directory = Path.Combine(Path.GetTempPath(), "sbx-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        settings["ASPNETCORE_ENVIRONMENT"] = "Production";
        settings["BROKER_API_TOKEN"] = "override-track-token-0123456789";
        settings["BROKER_ADMIN_TOKEN"] = "override-admin-token-0123456789";
        settings["Csp__Mode"] = "Simulated";
        settings["Storage__Sqlite__Path"] = Path.Combine(directory, "broker.db");
        await using var broker = BrokerProcess.Start(settings);
        Assert.True(await broker.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), broker.Output);

        using var client = new HttpClient { BaseAddress = broker.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        // An Information line after the probe: once it is written, the probe's line would have been written too.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri("/v1/sandboxes-marker", UriKind.Relative))).StatusCode);
        for (var i = 0; i < 50 && !broker.Output.Contains("/v1/sandboxes-marker", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.Contains("/v1/sandboxes-marker", broker.Output, StringComparison.Ordinal);
        return broker.Output.Contains("\"action\":\"GET /healthz\"", StringComparison.Ordinal);
    }
}
