using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>The broker in process (embedded store, simulated CSP, jobs off), to read what it really serves.</summary>
public sealed class BrokerApp : WebApplicationFactory<Program>
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "sbx-deploytests", Guid.NewGuid().ToString("N"));

    public BrokerApp() => Directory.CreateDirectory(directory);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Broker:TrackTokens:0", "deploy-tests-track-token-0123456789");
        builder.UseSetting("Broker:AdminTokens:0", "deploy-tests-admin-token-0123456789");
        builder.UseSetting("Storage:Provider", "Sqlite");
        builder.UseSetting("Storage:Sqlite:Path", Path.Combine(directory, "broker.db"));
        builder.UseSetting("Csp:Mode", "Simulated");
        builder.UseSetting("Jobs:Enabled", "false");
        builder.UseSetting("Logging:MinimumLevel", "Warning");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // still open; the temp cleaner removes it later
        }
    }
}
