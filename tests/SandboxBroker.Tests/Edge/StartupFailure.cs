using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Edge;

/// <summary>Starts the real broker process with otherwise valid Production settings and waits for it to give up.</summary>
internal static class StartupFailure
{
    public static async Task<(int? ExitCode, string Output)> RunAsync(params (string Key, string? Value)[] settings)
    {
        var directory = Directory.CreateTempSubdirectory("sbx-edge").FullName;
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["BROKER_API_TOKEN"] = "edge-track-token-0123456789",
            ["BROKER_ADMIN_TOKEN"] = "edge-admin-token-0123456789",
            ["Csp__Mode"] = "Simulated",
            ["Storage__Sqlite__Path"] = Path.Combine(directory, "edge.db"),
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        await using var broker = BrokerProcess.Start(environment);
        var exit = await broker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, broker.Output);
    }
}
