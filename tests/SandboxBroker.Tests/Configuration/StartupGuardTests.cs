using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Configuration;

/// <summary>
/// Production refuses to start on settings that would make the broker open, fake or split-brained: checked on the
/// real process (exit code and the message an operator reads).
/// </summary>
public sealed class StartupGuardTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("sbx-guard").FullName;

    private Dictionary<string, string?> Production(params (string Key, string? Value)[] settings)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Storage__Sqlite__Path"] = Path.Combine(directory, "guard.db"),
            ["Csp__Mode"] = "Simulated",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return environment;
    }

    private static async Task<(int? ExitCode, string Output)> RunAsync(Dictionary<string, string?> environment)
    {
        await using var broker = BrokerProcess.Start(environment);
        var exit = await broker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, broker.Output);
    }

    [Fact]
    public async Task Production_without_tokens_exits_non_zero_naming_the_missing_settings()
    {
        var (exit, output) = await RunAsync(Production());
        Assert.NotNull(exit);
        Assert.NotEqual(0, exit);
        Assert.Contains("Broker:TrackTokens (or BROKER_API_TOKEN) is required in Production", output, StringComparison.Ordinal);
        Assert.Contains("Broker:AdminTokens (or BROKER_ADMIN_TOKEN) is required in Production", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_with_the_development_tokens_exits_non_zero()
    {
        var (exit, output) = await RunAsync(Production(("BROKER_API_TOKEN", "dev-track-token"), ("BROKER_ADMIN_TOKEN", "dev-admin-token")));
        Assert.NotEqual(0, exit ?? 0);
        Assert.Contains("development token", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_without_an_explicit_store_exits_non_zero()
    {
        var (exit, output) = await RunAsync(Production(("BROKER_API_TOKEN", "t-1234567890abcdef"), ("BROKER_ADMIN_TOKEN", "a-1234567890abcdef"),
            ("Storage__Sqlite__Path", null)));
        Assert.NotEqual(0, exit ?? 0);
        Assert.Contains("No store configured", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replica_index_outside_the_replica_count_or_a_zero_gate_exits_non_zero_naming_it()
    {
        var tokens = new[] { ("BROKER_API_TOKEN", (string?)"t-1234567890abcdef"), ("BROKER_ADMIN_TOKEN", "a-1234567890abcdef") };
        var (exit, output) = await RunAsync(Production([.. tokens, ("Storage__DynamoDb__Replicas", "4"), ("Storage__DynamoDb__ReplicaIndex", "4")]));
        Assert.NotEqual(0, exit ?? 0);
        Assert.Contains("Storage:DynamoDb:ReplicaIndex must be 0..3 (Replicas = 4), not 4", output, StringComparison.Ordinal);

        (exit, output) = await RunAsync(Production([.. tokens, ("Storage__DynamoDb__MaxBackgroundInFlight", "0")]));
        Assert.NotEqual(0, exit ?? 0);
        Assert.Contains("Storage:DynamoDb:MaxBackgroundInFlight must be 1..1024, not 0", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Live_mode_without_a_csp_token_exits_non_zero()
    {
        var (exit, output) = await RunAsync(Production(("BROKER_API_TOKEN", "t-1234567890abcdef"), ("BROKER_ADMIN_TOKEN", "a-1234567890abcdef"),
            ("Csp__Mode", "Live")));
        Assert.NotEqual(0, exit ?? 0);
        Assert.Contains("CSP token", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Niosxaas_enabled_without_credentials_exits_non_zero_naming_them()
    {
        var (exit, output) = await RunAsync(Production(("BROKER_API_TOKEN", "t-1234567890abcdef"), ("BROKER_ADMIN_TOKEN", "a-1234567890abcdef"),
            ("NIOSXAAS_ENABLED", "true"), ("NIOSXAAS_EMAIL", "ops@example.com")));
        Assert.NotEqual(0, exit ?? 0);
        Assert.Contains("NiosXaas:Password (NIOSXAAS_PASSWORD) is not set", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_with_tokens_from_the_original_names_serves_the_track_api()
    {
        await using var broker = BrokerProcess.Start(Production(("BROKER_API_TOKEN", "t-1234567890abcdef"), ("BROKER_ADMIN_TOKEN", "a-1234567890abcdef")));
        Assert.True(await broker.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), broker.Output);
        using var client = new HttpClient { BaseAddress = broker.BaseAddress };
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate");
        request.Headers.Add("Authorization", "Bearer t-1234567890abcdef");
        request.Headers.Add("X-Instruqt-Sandbox-ID", "prod-1");
        using var response = await client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
