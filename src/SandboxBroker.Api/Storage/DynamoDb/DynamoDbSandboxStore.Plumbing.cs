using System.Net;
using System.Net.Sockets;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace SandboxBroker.Api.Storage.DynamoDb;

internal sealed partial class DynamoDbSandboxStore
{
    /// <summary>Requests in flight per store instance (one per process); real DynamoDB serves far more, a local one far fewer.</summary>
    private const int MaxInFlight = 16;
    private readonly SemaphoreSlim inFlight = new(MaxInFlight, MaxInFlight);
    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "ThrottlingException", "Throttling", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
        "InternalServerError", "InternalFailure", "ServiceUnavailable", "TransactionInProgressException",
        "ResourceNotFoundException", "UnrecognizedClientException", "AccessDeniedException",
    };

    /// <summary>
    /// Runs one DynamoDB request and turns outages (throttling, 5xx, timeouts, refused connections, a missing table
    /// or credentials) into <see cref="StoreUnavailableException"/>, which the API answers with 503. A cancellation
    /// the caller asked for stays a cancellation.
    /// </summary>
    /// <summary>
    /// One conditional UpdateItem: SETs/REMOVEs of <paramref name="e"/> on <paramref name="key"/> when
    /// <paramref name="condition"/> holds. False when the condition failed (the expected outcome of a lost race).
    /// </summary>
    private async Task<bool> TryConditionalUpdateAsync(
        Dictionary<string, AttributeValue> key, Expr e, string condition, CancellationToken ct)
    {
        var request = new UpdateItemRequest
        {
            TableName = table,
            Key = key,
            UpdateExpression = e.Update(),
            ConditionExpression = condition,
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
        };
        try
        {
            await CallAsync("UpdateItem", c => client.UpdateItemAsync(request, c), ct);
            return true;
        }
        catch (ConditionalCheckFailedException)
        {
            return false;
        }
    }

    private async Task<T> CallAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken ct, bool queue = true)
    {
        // A burst waits here, under the caller's budget, rather than inside the SDK's per-request timeout: a store
        // that answers slowly under load must not turn into timeouts and retried requests that add to its load.
        // Readiness pings do not queue behind a burst (they ask whether DynamoDB answers, not how busy we are).
        if (queue)
        {
            await inFlight.WaitAsync(ct);
        }

        try
        {
            return await call(ct);
        }
        catch (Exception ex) when (IsUnavailable(ex, ct))
        {
            Log.StoreUnavailable(logger, operation, ex.GetType().Name, ex.Message);
            throw new StoreUnavailableException($"DynamoDB {operation} failed: {ex.GetType().Name}", ex);
        }
        finally
        {
            if (queue)
            {
                inFlight.Release();
            }
        }
    }

    private static bool IsUnavailable(Exception ex, CancellationToken ct) => ex switch
    {
        OperationCanceledException => !ct.IsCancellationRequested, // the SDK's own timeout
        ConditionalCheckFailedException or TransactionCanceledException => false,
        AmazonServiceException service => (int)service.StatusCode >= 500 || service.StatusCode == HttpStatusCode.TooManyRequests
            || TransientCodes.Contains(service.ErrorCode ?? ""),
        AmazonClientException => true, // no connection, no credentials, unparsable answer
        HttpRequestException or IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    private static bool Has<T>(ICollection<T>? collection) => collection is { Count: > 0 };

    private static partial class Log
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
    }
}
