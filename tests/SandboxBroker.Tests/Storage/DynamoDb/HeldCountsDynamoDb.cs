using System.Reflection;
using System.Runtime.ExceptionServices;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace SandboxBroker.Tests.Storage.DynamoDb;

/// <summary>
/// An <see cref="IAmazonDynamoDB"/> whose COUNT queries (pool gauges, admin stats) wait until <see cref="Release"/>
/// before they reach the table: a count as slow as a big one on a busy table. Every other call goes through at once.
/// </summary>
public class HeldCountsDynamoDb : DispatchProxy
{
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IAmazonDynamoDB? target;
    private int held;

    /// <summary>COUNT queries that reached the client and are waiting (or waited) for the release.</summary>
    public int Held => Volatile.Read(ref held);

    public static (IAmazonDynamoDB Client, HeldCountsDynamoDb Holder) Wrap(IAmazonDynamoDB target)
    {
        var proxy = Create<IAmazonDynamoDB, HeldCountsDynamoDb>();
        var holder = (HeldCountsDynamoDb)(object)proxy;
        holder.target = target;
        return (proxy, holder);
    }

    public void Release() => released.TrySetResult();

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IAmazonDynamoDB.QueryAsync) && args is [QueryRequest { Select: var select } query, CancellationToken ct]
            && select == Select.COUNT)
        {
            Interlocked.Increment(ref held);
            return HoldAsync(query, ct);
        }

        try
        {
            return targetMethod.Invoke(target, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
    }

    private async Task<QueryResponse> HoldAsync(QueryRequest query, CancellationToken ct)
    {
        await released.Task.WaitAsync(ct);
        return await target!.QueryAsync(query, ct);
    }
}
