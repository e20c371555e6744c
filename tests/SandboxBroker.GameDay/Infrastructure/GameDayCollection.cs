
namespace SandboxBroker.GameDay.Infrastructure;

/// <summary>
/// Every GameDay scenario is in this collection: they run one after another, never alongside each other (each one
/// loads the machine on purpose), and share one DynamoDB Local started on first use.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GameDayCollection : ICollectionFixture<GameDayFixture>
{
    public const string Name = "GameDay";
}

public sealed class GameDayFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private DynamoDbLocal? dynamoDb;

    public string ScratchDirectory { get; } = Directory.CreateTempSubdirectory("sbx-gameday").FullName;

    /// <summary>DynamoDB Local shared by the scenarios that do not stop it (each uses tables of its own).</summary>
    public async Task<DynamoDbLocal> DynamoDbAsync()
    {
        await gate.WaitAsync();
        try
        {
            return dynamoDb ??= await DynamoDbLocal.StartAsync();
        }
        finally
        {
            gate.Release();
        }
    }

    public string NewPath(string name) => Path.Combine(ScratchDirectory, $"{name}-{Guid.NewGuid():N}.db");

    public static string NewTable(string name) => $"gameday_{name}_{Guid.NewGuid():N}"[..40];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (dynamoDb is not null)
        {
            await dynamoDb.DisposeAsync();
        }

        try
        {
            Directory.Delete(ScratchDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
