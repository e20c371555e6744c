using System.Net.Http.Headers;

namespace SandboxBroker.Cli.Tests.Infrastructure;

/// <summary>
/// Two real brokers as their own processes for the whole test run: one on SQLite, one on DynamoDB Local. Production
/// settings with real tokens; an empty simulated CSP and no scheduled jobs, so nothing but the tests changes the pool
/// (admin triggers still run). Tests keep apart by sandbox name prefix.
/// </summary>
public sealed class Brokers : IAsyncLifetime
{
    public const string AdminToken = "cli-admin-token-5f1c2a9e7b";
    public const string TrackToken = "cli-track-token-0d4e8b61aa";

    private readonly string directory = Directory.CreateTempSubdirectory("sbx-cli").FullName;
    private DynamoDbLocal? dynamo;

    public BrokerProcess Sqlite { get; private set; } = null!;

    public BrokerProcess DynamoDb { get; private set; } = null!;

    public BrokerProcess For(string store) => store == "dynamodb" ? DynamoDb : Sqlite;

    public async Task InitializeAsync()
    {
        dynamo = await DynamoDbLocal.SharedAsync();
        Sqlite = await StartAsync(new() { ["Storage__Sqlite__Path"] = Path.Combine(directory, "cli.db") });
        DynamoDb = await StartAsync(new()
        {
            ["Storage__Provider"] = "DynamoDb",
            ["Storage__DynamoDb__ServiceUrl"] = dynamo.ServiceUrl,
            ["Storage__DynamoDb__Region"] = "us-east-1",
            ["Storage__DynamoDb__TableName"] = "cli_" + Guid.NewGuid().ToString("N"),
            ["Storage__DynamoDb__CreateTable"] = "true",
            ["AWS_ACCESS_KEY_ID"] = "dummy",
            ["AWS_SECRET_ACCESS_KEY"] = "dummy",
        });
    }

    /// <summary>An HTTP client with the track token, for what a lab does (allocate) before an operator steps in.</summary>
    public static HttpClient TrackClient(BrokerProcess broker, string requester)
    {
        var client = new HttpClient { BaseAddress = broker.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TrackToken);
        client.DefaultRequestHeaders.Add("X-Instruqt-Sandbox-ID", requester);
        return client;
    }

    /// <summary>A broker of its own with these settings over the defaults (Production, tokens, empty CSP, no schedule).</summary>
    public static async Task<BrokerProcess> StartAsync(Dictionary<string, string?> settings)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Broker__AdminTokens__0"] = AdminToken,
            ["Broker__TrackTokens__0"] = TrackToken,
            ["Csp__Mode"] = "Simulated",
            ["Csp__Simulated__PoolSize"] = "0",
            ["Jobs__Enabled"] = "false",
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        var broker = BrokerProcess.Start(environment);
        if (!await broker.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)))
        {
            var output = broker.Output;
            await broker.DisposeAsync();
            throw new InvalidOperationException("the broker did not become ready:\n" + output);
        }

        return broker;
    }

    public async Task DisposeAsync()
    {
        if (Sqlite is not null)
        {
            await Sqlite.DisposeAsync();
        }

        if (DynamoDb is not null)
        {
            await DynamoDb.DisposeAsync();
        }

        if (dynamo is not null)
        {
            await DynamoDbLocal.ReleaseSharedAsync();
        }

        Directory.Delete(directory, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class BrokersCollection : ICollectionFixture<Brokers>
{
    public const string Name = "brokers";
}
