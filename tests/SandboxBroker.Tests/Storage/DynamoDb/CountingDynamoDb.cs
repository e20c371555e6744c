using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Amazon.DynamoDBv2;

namespace SandboxBroker.Tests.Storage.DynamoDb;

/// <summary>An <see cref="IAmazonDynamoDB"/> that forwards every call and counts them by operation.</summary>
public class CountingDynamoDb : DispatchProxy
{
    private static readonly string[] ConditionalWriteOperations = ["TransactWriteItemsAsync", "UpdateItemAsync", "PutItemAsync", "DeleteItemAsync"];
    private readonly ConcurrentDictionary<string, int> calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> ticks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> maxTicks = new(StringComparer.Ordinal);
    private IAmazonDynamoDB? target;

    public static (IAmazonDynamoDB Client, CountingDynamoDb Counter) Wrap(IAmazonDynamoDB target)
    {
        var proxy = Create<IAmazonDynamoDB, CountingDynamoDb>();
        var counter = (CountingDynamoDb)(object)proxy;
        counter.target = target;
        return (proxy, counter);
    }

    public int this[string operation] => calls.GetValueOrDefault(operation + "Async");

    /// <summary>TransactWriteItems (one, however many items) plus single-item writes, all of which the store sends conditionally.</summary>
    public int ConditionalWrites => ConditionalWriteOperations.Sum(o => calls.GetValueOrDefault(o));

    public int Total => calls.Values.Sum();

    public void Reset()
    {
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
        calls.AddOrUpdate(targetMethod.Name, 1, (_, n) => n + 1);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var result = targetMethod.Invoke(target, args);
            if (result is Task task)
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
}
