using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace SandboxBroker.Testing;

/// <summary>
/// An <see cref="IAmazonDynamoDB"/> that forwards every call to the real client and counts them by operation.
/// <see cref="Wrap(IAmazonDynamoDB)"/> also times each call (for <see cref="Summary"/>);
/// <see cref="Wrap(IAmazonDynamoDB, ConcurrentDictionary{string, long})"/> only counts, into the caller's dictionary
/// (operation name without "Async": TransactWriteItemsAsync → "TransactWriteItems"), so a benchmark pays nothing more.
/// </summary>
public class CountingDynamoDb : DispatchProxy
{
    private static readonly string[] ConditionalWriteOperations = ["TransactWriteItemsAsync", "UpdateItemAsync", "PutItemAsync", "DeleteItemAsync"];
    private readonly ConcurrentDictionary<string, int> calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> ticks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> maxTicks = new(StringComparer.Ordinal);
    private long itemsRead;
    private long readUnitsMilli;
    private IAmazonDynamoDB? target;
    private ConcurrentDictionary<string, long>? operations; // set: count into it only, untimed

    public static (IAmazonDynamoDB Client, CountingDynamoDb Counter) Wrap(IAmazonDynamoDB target)
    {
        var proxy = Create<IAmazonDynamoDB, CountingDynamoDb>();
        var counter = (CountingDynamoDb)(object)proxy;
        counter.target = target;
        return (proxy, counter);
    }

    /// <summary>Counts each operation the client is asked for into <paramref name="counts"/>, untimed.</summary>
    public static IAmazonDynamoDB Wrap(IAmazonDynamoDB target, ConcurrentDictionary<string, long> counts)
    {
        var proxy = Create<IAmazonDynamoDB, CountingDynamoDb>();
        var counter = (CountingDynamoDb)(object)proxy;
        counter.target = target;
        counter.operations = counts;
        return proxy;
    }

    public int this[string operation] => calls.GetValueOrDefault(operation + "Async");

    /// <summary>TransactWriteItems (one, however many items) plus single-item writes, all of which the store sends conditionally.</summary>
    public int ConditionalWrites => ConditionalWriteOperations.Sum(o => calls.GetValueOrDefault(o));

    public int Total => calls.Values.Sum();

    /// <summary>GetItem, Query and Scan calls: what a read bound counts.</summary>
    public int Reads => this["GetItem"] + this["Query"] + this["Scan"] + this["BatchGetItem"];

    /// <summary>Items DynamoDB evaluated for Query and Scan (ScannedCount, before any filter): what a read costs in size.</summary>
    public long ItemsRead => Interlocked.Read(ref itemsRead);

    /// <summary>Read capacity units DynamoDB reported (each read asks for ReturnConsumedCapacity=TOTAL).</summary>
    public double ReadUnits => Interlocked.Read(ref readUnitsMilli) / 1000.0;

    public void Reset()
    {
        Interlocked.Exchange(ref itemsRead, 0);
        Interlocked.Exchange(ref readUnitsMilli, 0);
        calls.Clear();
        ticks.Clear();
        maxTicks.Clear();
    }

    /// <summary>Calls per operation, with mean and max latency.</summary>
    public string Summary() => string.Join(", ", calls.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c =>
        $"{c.Key.Replace("Async", "", StringComparison.Ordinal)}={c.Value}" +
        $" ({TimeSpan.FromTicks(ticks.GetValueOrDefault(c.Key) / Math.Max(c.Value, 1)).TotalMilliseconds:F0} ms avg, {TimeSpan.FromTicks(maxTicks.GetValueOrDefault(c.Key)).TotalMilliseconds:F0} max)"));

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (operations is null)
        {
            calls.AddOrUpdate(targetMethod.Name, 1, (_, n) => n + 1);
        }
        else if (targetMethod.Name.EndsWith("Async", StringComparison.Ordinal))
        {
            operations.AddOrUpdate(targetMethod.Name[..^5], 1, (_, n) => n + 1);
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (operations is null)
        {
            AskForCapacity(args);
        }

        try
        {
            var result = targetMethod.Invoke(target, args);
            // The caller's await resumes only after the read is counted: a count that landed later (a separate
            // continuation) could fall after a test's Reset and be charged to the next step.
            if (operations is null && result is Task<QueryResponse> query)
            {
                result = AfterCountingAsync(query, r => CountRead(r.ScannedCount, r.ConsumedCapacity));
            }
            else if (operations is null && result is Task<ScanResponse> scan)
            {
                result = AfterCountingAsync(scan, r => CountRead(r.ScannedCount, r.ConsumedCapacity));
            }
            else if (operations is null && result is Task<GetItemResponse> get)
            {
                result = AfterCountingAsync(get, r => CountRead(0, r.ConsumedCapacity));
            }

            if (operations is null && result is Task task)
            {
                task.ContinueWith(_ =>
                {
                    var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks;
                    ticks.AddOrUpdate(targetMethod.Name, elapsed, (_, t) => t + elapsed);
                    maxTicks.AddOrUpdate(targetMethod.Name, elapsed, (_, t) => Math.Max(t, elapsed));
                }, TaskScheduler.Default);
            }

            return result;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }

    private static async Task<T> AfterCountingAsync<T>(Task<T> call, Action<T> count)
    {
        var response = await call.ConfigureAwait(false);
        count(response);
        return response;
    }

    private static void AskForCapacity(object?[]? args)
    {
        switch (args is { Length: > 0 } ? args[0] : null)
        {
            case QueryRequest q when q.ReturnConsumedCapacity is null:
                q.ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL;
                break;
            case ScanRequest s when s.ReturnConsumedCapacity is null:
                s.ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL;
                break;
            case GetItemRequest g when g.ReturnConsumedCapacity is null:
                g.ReturnConsumedCapacity = ReturnConsumedCapacity.TOTAL;
                break;
        }
    }

    private void CountRead(int? scanned, ConsumedCapacity? capacity)
    {
        Interlocked.Add(ref itemsRead, scanned ?? 0);
        Interlocked.Add(ref readUnitsMilli, (long)Math.Round((capacity?.ReadCapacityUnits ?? capacity?.CapacityUnits ?? 0) * 1000));
    }
}
