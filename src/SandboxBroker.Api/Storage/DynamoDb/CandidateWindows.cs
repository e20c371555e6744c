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
/// (avail_shard, name) holds only available items, spread over shards. A reader starts at a random shard of its own
/// (Storage:DynamoDb:Replicas and ReplicaIndex give each replica its share, so replicas rarely race for one sandbox)
/// and, inside it, at a random name seen recently (or at a random end), so a burst of readers mostly sees different
/// candidates. A shard that holds too few is topped up by ONE bounded read of StatusIndex (available items of every
/// shard, and those the original's tools wrote without a shard), this replica's own shards first: an empty pool costs
/// two candidate reads, a nearly empty one the same. Only a name prefix that the first shard and that bounded read
/// both miss, while more available items exist, reads the other shards, by key range (each read returns matches only),
/// so a prefix that matches nothing costs a fixed number of small reads and one bounded page for items the original's
/// tools wrote without a shard, never a read of every available item.
/// Sandboxes this process has just seen claimed are left out (the index may still list them; real GSIs are
/// eventually consistent), and a claim of one costs no write.
/// </summary>
internal sealed class CandidateWindows
{
    private const int RememberedCandidates = 10_000;

    /// <summary>Most items the StatusIndex top-up evaluates: its read cost is bounded whatever the pool's size.</summary>
    public const int TopUpReadLimit = 100;

    /// <summary>Most items the last-resort read for unsharded prefix matches evaluates.</summary>
    public const int UnshardedReadLimit = 1_000;

    private readonly DynamoDbTable table;
    private readonly RecentClaims recentClaims;
    private readonly ScarceClaims scarce;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<string, Sandbox> recentCandidates = new(StringComparer.Ordinal);
    private readonly string?[] recentNames = new string?[64];
    private readonly int[] ownShards;
    private readonly int[] otherShards;
    private readonly int replicas;
    private bool availableIndexMissing;

    public CandidateWindows(DynamoDbTable table, RecentClaims recentClaims, ScarceClaims scarce)
    {
        this.table = table;
        this.recentClaims = recentClaims;
        this.scarce = scarce;
        logger = table.Logger;
        (ownShards, otherShards) = SharesOf(table.Options.Replicas, table.Options.ReplicaIndex);
        replicas = Math.Max(1, table.Options.Replicas);
    }

    /// <summary>Shards s with s mod replicas = index are this replica's own; the rest belong to the others.</summary>
    public static (int[] Own, int[] Others) SharesOf(int replicas, int index)
    {
        var all = Enumerable.Range(0, AvailShardCount).ToArray();
        if (replicas <= 1 || index < 0 || index >= replicas)
        {
            return (all, []);
        }

        return (all.Where(s => s % replicas == index).ToArray(), all.Where(s => s % replicas != index).ToArray());
    }

    /// <summary>Set at start-up when the table lacks AvailableIndex: every candidate read goes to StatusIndex.</summary>
    public void UseStatusIndexOnly() => availableIndexMissing = true;

    /// <summary>Ids of up to <paramref name="limit"/> available candidates; each is remembered for <see cref="TryTake"/>.</summary>
    public async Task<IReadOnlyList<string>> FindAsync(string? namePrefix, int limit, CancellationToken ct)
    {
        if (limit <= 0)
        {
            return [];
        }

        var (found, othersOnly) = availableIndexMissing
            ? (await ReadStatusIndexOnlyAsync(namePrefix, limit, ct), false)
            : await ReadShardsAsync(namePrefix, limit, ct);
        if (namePrefix is null)
        {
            // A prefix's window is short by nature (few names match); only the general pool's tells scarcity.
            scarce.NoteWindow(found.Count, limit, othersOnly);
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

    /// <summary>The window, and whether it holds only other replicas' sandboxes (this replica's share ran dry).</summary>
    private async Task<(List<Sandbox> Found, bool OthersOnly)> ReadShardsAsync(string? prefix, int limit, CancellationToken ct)
    {
        var own = ownShards[Random.Shared.Next(ownShards.Length)];
        var found = new Dictionary<string, Sandbox>(StringComparer.Ordinal);
        Add(found, await ReadFirstShardAsync(own, prefix, limit, ct));
        if (found.Count >= limit)
        {
            return ([.. found.Values.Take(limit)], false);
        }

        var topUp = await TopUpAsync(prefix, limit - found.Count, found, ct);
        Add(found, topUp.Items);
        if (found.Count >= limit || topUp.SawEveryAvailable || (prefix is null && found.Count > 0))
        {
            // Without a prefix the top-up took what was there: a short window still holds candidates.
            return ([.. found.Values.Take(limit)], topUp.OthersOnly);
        }

        // A prefix the first shard and the top-up missed, while more available items exist than the top-up read (or,
        // without a prefix, a top-up page of nothing but sandboxes just claimed: an index that lags): the other shards,
        // at once, by key range. Each read returns matches only, so this costs a fixed number of small reads however
        // many available items do not match.
        var rest = ownShards.Where(s => s != own).Concat(otherShards).ToArray();
        var need = limit - found.Count;
        var parts = await Task.WhenAll(rest.Select(shard => QueryShardAsync(
            shard.ToString(CultureInfo.InvariantCulture), prefix, null, null, Random.Shared.Next(2) == 0, need, ct)));
        foreach (var part in parts)
        {
            Add(found, part);
        }

        if (found.Count == 0 && prefix is not null)
        {
            // No shard holds a match: the one left may be an item the original's tools wrote after start-up (no shard
            // yet) beyond the top-up page. One more bounded read for exactly those.
            Add(found, await ReadUnshardedAsync(prefix, limit, ct));
        }

        return ([.. found.Values.Take(limit)], false);
    }

    /// <summary>
    /// Available items without avail_shard whose name has the prefix, from one StatusIndex page of at most
    /// <see cref="UnshardedReadLimit"/> evaluated items (bounded: a prefix matching nothing never reads the whole
    /// pool); they get a shard here, so the next read finds them in one.
    /// </summary>
    private async Task<List<Sandbox>> ReadUnshardedAsync(string prefix, int need, CancellationToken ct)
    {
        var request = AvailableOnStatusIndex(e => $"attribute_not_exists({e.Attr(AvailShard)}) AND begins_with({e.Attr(Name)}, {e.Val(prefix)})");
        request.Limit = UnshardedReadLimit;
        var response = await table.CallAsync("Query", c => table.Client.QueryAsync(request, c), ct);
        var found = (response.Items ?? []).Select(FromItem)
            .Where(s => s is { Status: SandboxStatus.Available } && !recentClaims.Contains(s.SandboxId)).Select(s => s!).Take(need).ToList();
        if (found.Count > 0)
        {
            await Parallel.ForEachAsync(found, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
                async (sandbox, c) => await AssignShardAsync(sandbox.SandboxId, c));
            DynamoDbLog.Backfilled(logger, found.Count, "found by allocation");
        }

        return found;
    }

    /// <summary>Up to <paramref name="need"/> items of one shard, from a random known name upwards or from a random end: one read.</summary>
    private async Task<List<Sandbox>> ReadFirstShardAsync(int shard, string? prefix, int need, CancellationToken ct)
    {
        var shardValue = shard.ToString(CultureInfo.InvariantCulture);
        // No wrap-around below the pivot: a short read is topped up from StatusIndex, which costs one read whatever
        // the pool holds, where a wrap would cost one more on every short shard (an empty pool above all).
        return PickPivot(prefix) is { } pivot
            ? await QueryShardAsync(shardValue, prefix, pivot, prefix is null ? null : PrefixEnd(prefix), true, need, ct)
            : await QueryShardAsync(shardValue, prefix, null, null, Random.Shared.Next(2) == 0, need, ct);
    }

    /// <summary>
    /// One page of StatusIndex's available items (at most <see cref="TopUpReadLimit"/> evaluated, the prefix as a
    /// filter), this replica's own shards first; items the original's tools wrote without a shard get one here.
    /// SawEveryAvailable: the page reached the end of the available items, so nothing else matches.
    /// </summary>
    private async Task<(List<Sandbox> Items, bool SawEveryAvailable, bool OthersOnly)> TopUpAsync(
        string? prefix, int need, Dictionary<string, Sandbox> already, CancellationToken ct)
    {
        var request = AvailableOnStatusIndex(e => $"begins_with({e.Attr(PartitionKey)}, {e.Val(SandboxPkPrefix)})"
            + (prefix is null ? "" : $" AND begins_with({e.Attr(Name)}, {e.Val(prefix)})"));
        request.ScanIndexForward = Random.Shared.Next(2) == 0;
        // Enough for this replica's share of them (replicas read the same end); a prefix filters, so read a full page.
        request.Limit = prefix is null ? Math.Min(TopUpReadLimit, (need + already.Count) * replicas) : TopUpReadLimit;
        var response = await table.CallAsync("Query", c => table.Client.QueryAsync(request, c), ct);
        var own = new List<Sandbox>();
        var others = new List<Sandbox>();
        var unsharded = new List<string>();
        foreach (var item in response.Items ?? [])
        {
            if (FromItem(item) is not { Status: SandboxStatus.Available } sandbox
                || already.ContainsKey(sandbox.SandboxId) || recentClaims.Contains(sandbox.SandboxId))
            {
                continue;
            }

            var shard = Str(item, AvailShard);
            if (shard is null)
            {
                unsharded.Add(sandbox.SandboxId);
            }

            (IsOwn(shard) ? own : others).Add(sandbox);
        }

        if (unsharded.Count > 0 && !availableIndexMissing)
        {
            // Written by the original's tools after start-up: give them a shard so the next reads find them there.
            await Parallel.ForEachAsync(unsharded, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
                async (id, c) => await AssignShardAsync(id, c));
            DynamoDbLog.Backfilled(logger, unsharded.Count, "found by allocation");
        }

        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(own));
        Random.Shared.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(others));
        // Other replicas' sandboxes only when this replica has none of its own left: a short window of its own costs
        // no race with them, a full one padded with theirs would.
        var othersOnly = own.Count == 0 && already.Count == 0 && others.Count > 0;
        return ([.. (othersOnly ? others : own).Take(need)], !Has(response.LastEvaluatedKey), othersOnly);
    }

    /// <summary>Unsharded items (the original's tools wrote them) count as everyone's own.</summary>
    private bool IsOwn(string? shard) =>
        replicas <= 1 || shard is null || !int.TryParse(shard, NumberStyles.None, CultureInfo.InvariantCulture, out var s) || Array.IndexOf(ownShards, s) >= 0;

    /// <summary>
    /// One key-range read of a shard: names from <paramref name="from"/> (up to <paramref name="to"/>), or every name
    /// with the prefix when there is no range.
    /// </summary>
    private async Task<List<Sandbox>> QueryShardAsync(
        string shard, string? prefix, string? from, string? to, bool forward, int need, CancellationToken ct)
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
    /// A table without AvailableIndex (the original's, when this broker may not add the index): StatusIndex is the
    /// only candidate read, paged with the prefix as a filter. The warning at start-up says so.
    /// </summary>
    private async Task<List<Sandbox>> ReadStatusIndexOnlyAsync(string? prefix, int need, CancellationToken ct)
    {
        var request = AvailableOnStatusIndex(e => prefix is null ? null : $"begins_with({e.Attr(Name)}, {e.Val(prefix)})");
        request.ScanIndexForward = Random.Shared.Next(2) == 0;
        return await QueryUntilAsync(request, need, ct);
    }

    /// <summary>Gives every available item of the original layout an avail_shard (start-up).</summary>
    public async Task BackfillShardsAsync(string reason, int max, CancellationToken ct)
    {
        if (availableIndexMissing)
        {
            return;
        }

        var request = AvailableOnStatusIndex(e => $"attribute_not_exists({e.Attr(AvailShard)})");
        var pending = await QueryUntilAsync(request, max, ct);
        await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (sandbox, c) => await AssignShardAsync(sandbox.SandboxId, c));
        if (pending.Count > 0)
        {
            DynamoDbLog.Backfilled(logger, pending.Count, reason);
        }
    }

    /// <summary>A query of StatusIndex's available items; the filter is built over the same names and values.</summary>
    private QueryRequest AvailableOnStatusIndex(Func<Expr, string?> filter)
    {
        var e = new Expr();
        var key = $"{e.Attr(Status)} = {e.Val(SandboxStatusNames.Available)}";
        return new QueryRequest
        {
            TableName = table.Name,
            IndexName = StatusIndex,
            KeyConditionExpression = key,
            FilterExpression = filter(e),
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
        };
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
