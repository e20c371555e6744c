using System.Net;
using System.Net.Sockets;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// The table as every part of the store calls it: two gates on requests in flight (allocation and the holder's calls;
/// background and admin reads: counts for gauges and stats, listings, job records, so a big count never queues an
/// allocation behind it), and outages (throttling, 5xx,
/// timeouts, refused connections, a missing table or credentials) turned into <see cref="StoreUnavailableException"/>,
/// which the API answers with 503. A cancellation the caller asked for stays a cancellation.
/// </summary>
internal sealed class DynamoDbTable(IAmazonDynamoDB client, DynamoDbStorageOptions options, ILogger logger) : IDisposable
{
    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "ThrottlingException", "Throttling", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
        "InternalServerError", "InternalFailure", "ServiceUnavailable", "TransactionInProgressException",
        "ResourceNotFoundException", "UnrecognizedClientException", "AccessDeniedException",
    };

    // Requests in flight per store instance (one per process): Storage:DynamoDb:MaxInFlight and :MaxBackgroundInFlight.
    private readonly SemaphoreSlim inFlight = new(options.MaxInFlight, options.MaxInFlight);
    private readonly SemaphoreSlim backgroundInFlight = new(options.MaxBackgroundInFlight, options.MaxBackgroundInFlight);

    public IAmazonDynamoDB Client => client;

    public string Name { get; } = options.TableName;

    public DynamoDbStorageOptions Options => options;

    public ILogger Logger => logger;

    /// <summary>The client belongs to whoever created it (DI disposes it).</summary>
    public void Dispose()
    {
        inFlight.Dispose();
        backgroundInFlight.Dispose();
    }

    /// <summary>One call; <paramref name="background"/>: a background or admin read, which waits at its own gate.</summary>
    public async Task<T> CallAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken ct, bool queue = true, bool background = false)
    {
        var gate = background ? backgroundInFlight : inFlight;
        // A burst waits here, under the caller's budget, rather than inside the SDK's per-request timeout: a store
        // that answers slowly under load must not turn into timeouts and retried requests that add to its load.
        // Readiness pings do not queue behind a burst (they ask whether DynamoDB answers, not how busy we are).
        if (queue)
        {
            await gate.WaitAsync(ct);
        }

        try
        {
            return await call(ct);
        }
        catch (Exception ex) when (IsUnavailable(ex, ct))
        {
            DynamoDbLog.StoreUnavailable(logger, operation, ex.GetType().Name, ex.Message);
            throw new StoreUnavailableException($"DynamoDB {operation} failed: {ex.GetType().Name}", ex);
        }
        finally
        {
            if (queue)
            {
                gate.Release();
            }
        }
    }

    /// <summary>A consistent read of one item; null when it does not exist.</summary>
    public async Task<Dictionary<string, AttributeValue>?> GetItemAsync(Dictionary<string, AttributeValue> key, CancellationToken ct, bool background = false)
    {
        var request = new GetItemRequest { TableName = Name, Key = key, ConsistentRead = true };
        var response = await CallAsync("GetItem", c => client.GetItemAsync(request, c), ct, background: background);
        return Has(response.Item) ? response.Item : null;
    }

    /// <summary>
    /// One conditional UpdateItem: the SETs/REMOVEs of <paramref name="e"/> on <paramref name="key"/> when
    /// <paramref name="condition"/> holds. False when the condition failed (the expected outcome of a lost race).
    /// </summary>
    public async Task<bool> TryConditionalUpdateAsync(Dictionary<string, AttributeValue> key, Expr e, string condition, CancellationToken ct)
    {
        var request = new UpdateItemRequest
        {
            TableName = Name,
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

    /// <summary>Pages a query to its end, handing each page's items to <paramref name="take"/> until it says stop (a background read).</summary>
    public async Task QueryPagesAsync(QueryRequest request, Func<List<Dictionary<string, AttributeValue>>, bool> take, CancellationToken ct)
    {
        do
        {
            var response = await CallAsync("Query", c => client.QueryAsync(request, c), ct, background: true);
            if (!take(response.Items ?? []))
            {
                return;
            }

            request.ExclusiveStartKey = Has(response.LastEvaluatedKey) ? response.LastEvaluatedKey : null;
        }
        while (request.ExclusiveStartKey is not null);
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
}
