namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>The DynamoDB store's log lines (category: the store).</summary>
internal static partial class DynamoDbLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "DynamoDB {Operation} failed ({Error}): {Reason}")]
    public static partial void StoreUnavailable(ILogger logger, string operation, string error, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created DynamoDB table {Table}; it and its indexes {Indexes} are ACTIVE")]
    public static partial void TableCreated(ILogger logger, string table, string indexes);

    [LoggerMessage(Level = LogLevel.Information, Message = "DynamoDB table {Table} exists; it and its indexes {Indexes} are ACTIVE")]
    public static partial void TableReady(ILogger logger, string table, string indexes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Added index {Index} to DynamoDB table {Table}; it is ACTIVE")]
    public static partial void IndexAdded(ILogger logger, string table, string index);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DynamoDB table {Table} lacks {Index}: allocation reads candidates from StatusIndex instead (slower, more contention)")]
    public static partial void AvailableIndexMissing(ILogger logger, string table, string index);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check DynamoDB table {Table} ({Reason}); assuming the layout of docs/dynamodb-layout.md")]
    public static partial void DescribeFailed(ILogger logger, string table, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not enable TTL on {Table}.{Attribute}: {Reason}")]
    public static partial void TtlFailed(ILogger logger, string table, string attribute, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Gave {Count} available sandbox(es) in the original layout an avail_shard ({Reason})")]
    public static partial void Backfilled(ILogger logger, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "CSP account {ExternalId} is held by sandbox {Holder} and also stored as sandbox {SandboxId} (a record from before account markers): retire one of them")]
    public static partial void AccountHeldTwice(ILogger logger, string externalId, string holder, string sandboxId);
}
