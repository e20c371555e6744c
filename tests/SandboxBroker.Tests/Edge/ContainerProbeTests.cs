using System.Diagnostics;
using SandboxBroker.Testing;

namespace SandboxBroker.Tests.Edge;

/// <summary>
/// Issue 19 item 11: `dotnet SandboxBroker.Api.dll --probe [path]` is the container health check of the chiseled image
/// (no shell, no curl): exit 0 when the path answers 200 on the port of ASPNETCORE_HTTP_PORTS, 1 otherwise.
/// </summary>
public sealed class ContainerProbeTests
{
    private static readonly string AppDll = Path.Combine(AppContext.BaseDirectory, "SandboxBroker.Api.dll");

    [Fact]
    public async Task The_probe_passes_on_a_serving_broker_and_fails_on_a_refused_path_or_a_closed_port()
    {
        var directory = Path.Combine(Path.GetTempPath(), "sbx-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        await using var broker = BrokerProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["BROKER_API_TOKEN"] = "probe-track-token-0123456789",
            ["BROKER_ADMIN_TOKEN"] = "probe-admin-token-0123456789",
            ["Csp__Mode"] = "Simulated",
            ["Storage__Sqlite__Path"] = Path.Combine(directory, "broker.db"),
        });
        Assert.True(await broker.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), broker.Output);

        Assert.Equal(0, await ProbeAsync(broker.Port));                        // /healthz
        Assert.Equal(0, await ProbeAsync(broker.Port, "/readyz"));
        Assert.Equal(1, await ProbeAsync(broker.Port, "/v1/admin/stats"));     // 401 is not healthy
        Assert.Equal(1, await ProbeAsync(BrokerProcess.FreePort()));           // nothing listens
    }

    private static async Task<int> ProbeAsync(int port, string? path = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(AppDll);
        info.ArgumentList.Add("--probe");
        if (path is not null)
        {
            info.ArgumentList.Add(path);
        }

        info.Environment["ASPNETCORE_HTTP_PORTS"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.StartsWith($"probe http://127.0.0.1:{port}{path ?? "/healthz"}:", (await output).Trim(), StringComparison.Ordinal);
        return process.ExitCode;
    }
}
