using System.Collections.Concurrent;
using System.Reflection;
using Amazon.DynamoDBv2;

namespace SandboxBroker.LoadTests.Harness;

/// <summary>
/// An <see cref="IAmazonDynamoDB"/> that counts the operations the store calls on it (TransactWriteItemsAsync →
/// "TransactWriteItems") and passes every call to the real client: the raw-store run's own count, beside the relay's.
/// </summary>
public class CountingDynamoDb : DispatchProxy
{
    private IAmazonDynamoDB inner = null!;
    private ConcurrentDictionary<string, long> counts = null!;

    public static IAmazonDynamoDB Wrap(IAmazonDynamoDB client, ConcurrentDictionary<string, long> counts)
    {
        var proxy = Create<IAmazonDynamoDB, CountingDynamoDb>();
        var self = (CountingDynamoDb)(object)proxy;
        self.inner = client;
        self.counts = counts;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var name = targetMethod!.Name;
        if (name.EndsWith("Async", StringComparison.Ordinal))
        {
            counts.AddOrUpdate(name[..^5], 1, (_, n) => n + 1);
        }

        try
        {
            return targetMethod.Invoke(inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }
}
