using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// Candidate windows. Available sandboxes carry a random avail_shard (0..15), so the sparse AvailableIndex
/// (avail_shard, name) holds only available items, spread over shards. A reader starts at a random shard and, inside
/// it, at a random name seen recently (or at a random end), so a burst of readers mostly sees different candidates;
/// a shard that holds too few is topped up from the next ones. A name prefix is a key condition on the range key, so
/// a match is found in a few reads wherever it sits in the pool. Sandboxes this process has just seen claimed are left
/// out (the index may still list them; real GSIs are eventually consistent), and a claim of one costs no write.
/// </summary>
internal sealed class CandidateWindows(DynamoDbTable table, RecentClaims recentClaims)
{
    private const int RememberedCandidates = 10_000;
    private readonly ILogger logger = table.Logger;
    private readonly ConcurrentDictionary<string, Sandbox> recentCandidates = new(StringComparer.Ordinal);
    private readonly string?[] recentNames = new string?[64];
    private bool availableIndexMissing;

    /// <summary>Set at start-up when the table lacks AvailableIndex: every candidate read goes to StatusIndex.</summary>
    public void UseStatusIndexOnly() => availableIndexMissing = true;

    /// <summary>Ids of up to <paramref name="limit"/> available candidates; each is remembered for <see cref="TryTake"/>.</summary>
    public async Task<IReadOnlyList<string>> FindAsync(string? namePrefix, int limit, CancellationToken ct)
    {
        if (limit <= 0)
        {
            return [];
        }

        var found = availableIndexMissing ? [] : await ReadShardsAsync(namePrefix, limit, ct);
        if (found.Count == 0)
        {
            // Items written by the original's tools after start-up have no avail_shard yet.
            found = await ReadUnshardedAsync(namePrefix, limit, ct);
        }

        var candidates = found.ToArray();
        Random.Shared.Shuffle(candidates);
        Remember(candidates);
        return Array.ConvertAll(candidates, c => c.SandboxId);
    }

    /// <summary>
    /// Ids of up to <paramref name="limit"/> sandboxes reserved for <paramref name="lab"/>: one read of the lab's
    /// R#&lt;lab&gt; partition of AvailableIndex (a page of up to 100, from a random end), a random few of them, so
    /// concurrent readers of one lab mostly pick different ones.
    /// </summary>
    public async Task<IReadOnlyList<string>> FindReservedAsync(string lab, string? namePrefix, int limit, CancellationToken ct)
    {
        var e = new Expr();
        var keyCondition = $"{e.Attr(AvailShard)} = {e.Val(ReservedShardPrefix + lab)}"
            + (namePrefix is null ? "" : $" AND begins_with({e.Attr(Name)}, {e.Val(namePrefix)})");
        var request = new QueryRequest
        {
            TableName = table.Name,
            IndexName = AvailableIndex,
            KeyConditionExpression = keyCondition,
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
            ScanIndexForward = Random.Shared.Next(2) == 0,
            Limit = 100,
        };
        var found = await QueryUntilAsync(request, 100, ct, SandboxStatus.Reserved);
        var candidates = found.Where(s => s.ReservedFor == lab).ToArray();
        Random.Shared.Shuffle(candidates);
        candidates = candidates[..Math.Min(limit, candidates.Length)];
        Remember(candidates, asPivots: false);
        return Array.ConvertAll(candidates, c => c.SandboxId);
    }

    /// <summary>The candidate as a window of this process read it (so a claim can answer without a read), once.</summary>
    public bool TryTake(string sandboxId, [NotNullWhen(true)] out Sandbox? candidate) => recentCandidates.TryRemove(sandboxId, out candidate);

    private async Task<List<Sandbox>> ReadShardsAsync(string? prefix, int limit, CancellationToken ct)
    {
        var shards = Enumerable.Range(0, AvailShardCount).ToArray();
        Random.Shared.Shuffle(shards);
        var found = new Dictionary<string, Sandbox>(StringComparer.Ordinal);
        Add(found, await ReadShardAsync(shards[0], prefix, limit, startAnywhere: true, ct));
        var read = 1;
        while (found.Count < limit && read < shards.Length)
        {
            // Top up from as many further shards (at once) as the yield so far suggests, plus one; all of them when
            // nothing matched yet. A big pool fills from the first shard; a small one or a sparse prefix costs a
            // round or two of parallel reads rather than sixteen sequential ones.
            var perShard = found.Count / read;
            var batch = perShard == 0 ? shards.Length - read : Math.Min(shards.Length - read, ((limit - found.Count) / perShard) + 2);
            var need = limit - found.Count;
            var parts = await Task.WhenAll(shards[read..(read + batch)].Select(shard => ReadShardAsync(shard, prefix, need, startAnywhere: false, ct)));
            foreach (var part in parts)
            {
                Add(found, part);
            }

            read += batch;
        }

        return [.. found.Values.Take(limit)];
    }

    /// <summary>Up to <paramref name="need"/> items of one shard, from a random end or a random known name (wrapping around).</summary>
    private async Task<List<Sandbox>> ReadShardAsync(int shard, string? prefix, int need, bool startAnywhere, CancellationToken ct)
    {
        var shardValue = shard.ToString(CultureInfo.InvariantCulture);
        // Top-up reads start at an end (one query each); only the first shard starts at a random known name.
        var pivot = startAnywhere ? PickPivot(prefix) : null;
        if (pivot is null)
        {
            return await QueryShardAsync(shardValue, prefix, null, null, Random.Shared.Next(2) == 0, need, ct);
        }

        var upper = prefix is null ? null : PrefixEnd(prefix);
        var items = await QueryShardAsync(shardValue, prefix, pivot, upper, true, need, ct);
        if (items.Count < need)
        {
            var wrapped = await QueryShardAsync(shardValue, prefix, prefix ?? "", pivot, true, need - items.Count, ct, below: true);
            items.AddRange(wrapped.Where(w => !items.Exists(i => i.SandboxId == w.SandboxId)));
        }

        return items;
    }

    /// <summary>
    /// One key-range read of a shard: names from <paramref name="from"/> (up to <paramref name="to"/>, or below it when
    /// <paramref name="below"/>), or every name with the prefix when there is no range.
    /// </summary>
    private async Task<List<Sandbox>> QueryShardAsync(
        string shard, string? prefix, string? from, string? to, bool forward, int need, CancellationToken ct, bool below = false)
    {
        var e = new Expr();
        var keyCondition = $"{e.Attr(AvailShard)} = {e.Val(shard)}";
        var name = prefix is null && from is null ? "" : e.Attr(Name);
        if (from is null)
        {
            keyCondition += prefix is null ? "" : $" AND begins_with({name}, {e.Val(prefix)})";
        }
        else if (to is null)
        {
            keyCondition += $" AND {name} >= {e.Val(from)}";
        }
        else if (below && from.Length == 0)
        {
            keyCondition += $" AND {name} < {e.Val(to)}";
        }
        else
        {
            keyCondition += $" AND {name} BETWEEN {e.Val(from)} AND {e.Val(to)}";
        }

        var request = new QueryRequest
        {
            TableName = table.Name,
            IndexName = AvailableIndex,
            KeyConditionExpression = keyCondition,
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
            ScanIndexForward = forward,
            Limit = need,
        };
        // A key attribute cannot be filtered server-side: drop here the one name a BETWEEN bound may admit outside the prefix.
        var items = await QueryUntilAsync(request, need, ct);
        items.RemoveAll(s => prefix is not null && !s.Name.StartsWith(prefix, StringComparison.Ordinal));
        return items;
    }

    /// <summary>
    /// StatusIndex: available items without avail_shard (written by the original's tools after start-up). They get
    /// one here, so the next read finds them in a shard. Without an AvailableIndex this is the only candidate read.
    /// </summary>
    private async Task<List<Sandbox>> ReadUnshardedAsync(string? prefix, int need, CancellationToken ct)
    {
        var e = new Expr();
        var filters = new List<string>(2);
        if (!availableIndexMissing)
        {
            filters.Add($"attribute_not_exists({e.Attr(AvailShard)})");
        }

        if (prefix is not null)
        {
            filters.Add($"begins_with({e.Attr(Name)}, {e.Val(prefix)})");
        }

        var request = new QueryRequest
        {
            TableName = table.Name,
            IndexName = StatusIndex,
            KeyConditionExpression = $"{e.Attr(Status)} = {e.Val(SandboxStatusNames.Available)}",
            FilterExpression = filters.Count > 0 ? string.Join(" AND ", filters) : null,
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
            ScanIndexForward = Random.Shared.Next(2) == 0,
        };
        var found = await QueryUntilAsync(request, need, ct);
        if (found.Count > 0 && !availableIndexMissing)
        {
            await Parallel.ForEachAsync(found, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
                async (sandbox, c) => await AssignShardAsync(sandbox.SandboxId, c));
            DynamoDbLog.Backfilled(logger, found.Count, "found by allocation");
        }

        return found;
    }

    /// <summary>Gives every available item of the original layout an avail_shard (start-up).</summary>
    public async Task BackfillShardsAsync(string reason, int max, CancellationToken ct)
    {
        if (availableIndexMissing)
        {
            return;
        }

        var e = new Expr();
        var request = new QueryRequest
        {
            TableName = table.Name,
            IndexName = StatusIndex,
            KeyConditionExpression = $"{e.Attr(Status)} = {e.Val(SandboxStatusNames.Available)}",
            FilterExpression = $"attribute_not_exists({e.Attr(AvailShard)})",
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
        };
        var pending = await QueryUntilAsync(request, max, ct);
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (sandbox, c) => await AssignShardAsync(sandbox.SandboxId, c));
        if (pending.Count > 0)
        {
            DynamoDbLog.Backfilled(logger, pending.Count, reason);
        }
    }

    /// <summary>Conditional on the item still being available and unsharded: a claim in between wins.</summary>
    private async Task AssignShardAsync(string sandboxId, CancellationToken ct)
    {
        var e = new Expr().Set(AvailShard, RandomShard());
        // false: claimed or sharded meanwhile, nothing to do.
        await table.TryConditionalUpdateAsync(
            Key(sandboxId), e, $"{e.Attr(Status)} = {e.Val(SandboxStatusNames.Available)} AND attribute_not_exists({e.Attr(AvailShard)})", ct);
    }

    /// <summary>Pages a query until <paramref name="need"/> sandboxes are read or the key range is exhausted.</summary>
    private async Task<List<Sandbox>> QueryUntilAsync(QueryRequest request, int need, CancellationToken ct, SandboxStatus wanted = SandboxStatus.Available)
    {
        var found = new List<Sandbox>();
        do
        {
            var response = await table.CallAsync("Query", c => table.Client.QueryAsync(request, c), ct);
            foreach (var item in response.Items ?? [])
            {
                if (FromItem(item) is { } sandbox && sandbox.Status == wanted && found.Count < need && !recentClaims.Contains(sandbox.SandboxId))
                {
                    found.Add(sandbox);
                }
            }

            request.ExclusiveStartKey = Has(response.LastEvaluatedKey) ? response.LastEvaluatedKey : null;
        }
        while (request.ExclusiveStartKey is not null && found.Count < need);

        return found;
    }

    private static void Add(Dictionary<string, Sandbox> found, List<Sandbox> items)
    {
        foreach (var item in items)
        {
            found.TryAdd(item.SandboxId, item);
        }
    }

    /// <summary>A random name seen in an earlier window (matching the prefix), or null for "start at an end".</summary>
    private string? PickPivot(string? prefix)
    {
        var offset = Random.Shared.Next(recentNames.Length);
        for (var i = 0; i < recentNames.Length; i++)
        {
            var name = Volatile.Read(ref recentNames[(offset + i) % recentNames.Length]);
            if (name is not null && (prefix is null || name.StartsWith(prefix, StringComparison.Ordinal)))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>Keeps a few names as future starting points, and the candidates so a claim can answer without a read.</summary>
    private void Remember(Sandbox[] candidates, bool asPivots = true)
    {
        if (recentCandidates.Count > RememberedCandidates)
        {
            recentCandidates.Clear();
        }

        foreach (var candidate in candidates)
        {
            recentCandidates[candidate.SandboxId] = candidate;
        }

        foreach (var candidate in candidates.Take(asPivots ? 4 : 0))
        {
            Volatile.Write(ref recentNames[Random.Shared.Next(recentNames.Length)], candidate.Name);
        }
    }

    /// <summary>The smallest string above every name that starts with the prefix (ordinal).</summary>
    private static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);
}
