using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>The broker in process (embedded store, simulated CSP, jobs off), to read what it really serves.</summary>
public sealed class BrokerApp : WebApplicationFactory<Program>
{
    public const string TrackToken = "deploy-tests-track-token-0123456789";
    public const string AdminToken = "deploy-tests-admin-token-0123456789";

    private readonly string directory = Path.Combine(Path.GetTempPath(), "sbx-deploytests", Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string?> settings;

    public BrokerApp()
        : this(new Dictionary<string, string?>())
    {
    }

    /// <summary>A broker with these settings (colon form) on top of the defaults.</summary>
    internal BrokerApp(IReadOnlyDictionary<string, string?> overrides)
    {
        Directory.CreateDirectory(directory);
        settings = new Dictionary<string, string?>
        {
            ["Broker:TrackTokens:0"] = TrackToken,
            ["Broker:AdminTokens:0"] = AdminToken,
            ["Storage:Provider"] = "Sqlite",
            ["Storage:Sqlite:Path"] = Path.Combine(directory, "broker.db"),
            ["Csp:Mode"] = "Simulated",
            ["Jobs:Enabled"] = "false",
            ["Logging:MinimumLevel"] = "Warning",
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public HttpClient ClientWith(string token)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
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
