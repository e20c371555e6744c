using Microsoft.Extensions.Options;
using SandboxBroker.Api.Sandboxes;
using SandboxBroker.Api.Storage.Sqlite;

namespace SandboxBroker.Api.Storage;

internal static class StorageExtensions
{
    /// <summary>DI key of the store implementation the provider registered (wrapped by <see cref="TransitionLoggingStore"/>).</summary>
    public const string ChosenStore = "chosen-store";

    /// <summary>Registers the one <see cref="ISandboxStore"/> chosen by <see cref="StoreSelection"/>; answers which one.</summary>
    public static StoreChoice AddStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StorageOptions>, NestedStorageOptionsValidator>();
        var provider = StoreSelection.Choose(builder.Configuration, builder.Environment);
        var choice = new StoreChoice(provider);
        builder.Services.AddSingleton(choice);
        if (provider == StorageOptions.DynamoDbProvider)
        {
            DynamoDb.DynamoDbRegistration.Register(builder.Services);
        }
        else
        {
            builder.Services.AddSingleton(sp =>
            {
                var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
                var path = Path.IsPathRooted(options.Sqlite.Path)
                    ? options.Sqlite.Path
                    : Path.Combine(sp.GetRequiredService<IHostEnvironment>().ContentRootPath, options.Sqlite.Path);
                return new SqliteSandboxStore(path);
            });
            builder.Services.AddKeyedSingleton<ISandboxStore>(ChosenStore, (sp, _) => sp.GetRequiredService<SqliteSandboxStore>());
        }

        // Everyone else sees the chosen store through the transition log (and one span per call when traces are exported).
        builder.Services.AddSingleton<ISandboxStore>(sp => new TransitionLoggingStore(
            Observability.TracingExtensions.Traced(sp, sp.GetRequiredKeyedService<ISandboxStore>(ChosenStore)),
            sp.GetRequiredService<ILogger<TransitionLoggingStore>>()));

        builder.Services.AddSingleton<ISandboxRecords>(sp => sp.GetRequiredService<ISandboxStore>());
        builder.Services.AddHostedService<StoreInitializer>();
        return choice;
    }
}

/// <summary>The nested DynamoDB options, which DataAnnotations leaves unchecked: replicas, replica index, in-flight gates.</summary>
internal sealed class NestedStorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options) =>
        options?.DynamoDb.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}

/// <summary>The store this process runs on (for logs, readiness and the Simulated-mode default).</summary>
internal sealed record StoreChoice(string Provider)
{
    public bool IsEmbedded => Provider == StorageOptions.SqliteProvider;
}

/// <summary>Prepares the store before the server accepts requests (hosted services start before Kestrel).</summary>
internal sealed partial class StoreInitializer(ISandboxStore store, StoreChoice choice, ILogger<StoreInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        LogReady(logger, choice.Provider);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Store ready: {Provider:l}")]
    private static partial void LogReady(ILogger logger, string provider);
}
