using Amazon.DynamoDBv2.Model;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// <see cref="IPeriodicShare"/> on the table: one item per name (SHARED#&lt;name&gt; / META) holding the value, when it
/// was computed and the period's lease. Reading costs one strongly consistent GetItem of a small item; computing
/// costs two conditional writes (take the lease only while the value is stale, then write it only while holding it).
/// </summary>
internal sealed class PeriodicShares(DynamoDbTable table, TimeProvider time) : IPeriodicShare
{
    private const string SharedValueAttr = "shared_value";
    private const string ComputedAtAttr = "computed_at_ms";
    private const string LeaseUntilAttr = "lease_until_ms";

    /// <summary>This process, as the lease owner.</summary>
    private readonly string owner = Environment.MachineName + "/" + Guid.NewGuid().ToString("N")[..12];

    public async Task<SharedValue?> GetOrComputeAsync(
        string name, TimeSpan period, Func<CancellationToken, Task<string>> compute, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(compute);
        var key = new Dictionary<string, AttributeValue> { [PartitionKey] = S("SHARED#" + name), [TableLayout.SortKey] = S(SandboxSk) };
        var item = await table.GetItemAsync(key, ct, background: true);
        var last = item is not null && Str(item, SharedValueAttr) is { } value
            ? new SharedValue(value, Long(item, ComputedAtAttr) ?? 0, ComputedHere: false)
            : null;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var periodMs = (long)period.TotalMilliseconds;
        if (last is not null && last.ComputedAtMs + periodMs > now)
        {
            return last;
        }

        // Stale (or never computed): the lease for this period, only while nobody computed it meanwhile and nobody else
        // holds an unexpired lease. A holder that dies loses it after one period.
        var take = new Expr().Set(LeaseOwner, owner).Set(LeaseUntilAttr, now + periodMs);
        var condition = $"(attribute_not_exists({take.Attr(ComputedAtAttr)}) OR {take.Attr(ComputedAtAttr)} <= {take.Val(now - periodMs)})"
            + $" AND (attribute_not_exists({take.Attr(LeaseUntilAttr)}) OR {take.Attr(LeaseUntilAttr)} <= {take.Val(now)} OR {take.Attr(LeaseOwner)} = {take.Val(owner)})";
        if (!await table.TryConditionalUpdateAsync(key, take, condition, ct))
        {
            return last;
        }

        var computed = await compute(ct);
        var at = time.GetUtcNow().ToUnixTimeMilliseconds();
        var write = new Expr().Set(SharedValueAttr, computed).Set(ComputedAtAttr, at);
        // false: this replica was too slow and another took the lease; its value will do.
        var written = await table.TryConditionalUpdateAsync(key, write, $"{write.Attr(LeaseOwner)} = {write.Val(owner)}", ct);
        return new SharedValue(computed, at, ComputedHere: written);
    }
}
