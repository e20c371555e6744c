using System.Runtime.CompilerServices;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// Listing and counting read only sandbox items: StatusIndex (only sandboxes carry status), TrackIndex (only
/// sandboxes carry allocated_to_track), or a Scan filtered to SBX#/META. Pages end on an item's own key, so a page
/// cut short by filters never skips or repeats an item.
/// </summary>
internal sealed class SandboxListing(DynamoDbTable table)
{
    private static readonly string[] TableKeys = [PartitionKey, TableLayout.SortKey];
    private static readonly string[] StatusIndexKeys = [PartitionKey, TableLayout.SortKey, Status, AllocatedAt];
    private static readonly string[] TrackIndexKeys = [PartitionKey, TableLayout.SortKey, AllocatedToTrack, AllocatedAt];
    private bool availableIndexMissing;

    public async Task<SandboxPage> ListAsync(SandboxQuery query, CancellationToken ct)
    {
        var limit = Math.Max(query.Limit, 1);
        var (read, keyNames, fingerprint) = ListRequest(query);
        if (query.After is not null)
        {
            var start = ListCursor.Decode(query.After, fingerprint, keyNames);
            if ((query.Status is { } status && start[Status].S != status.ToWire())
                || (query.Status is null && query.Requester is not null && start[AllocatedToTrack].S != query.Requester))
            {
                throw new InvalidCursorException("the cursor is not valid for this query");
            }

            read.ExclusiveStartKey = start;
        }

        var rows = new List<(Sandbox Sandbox, Dictionary<string, AttributeValue> Item)>(limit + 1);
        // limit + 1 rows tell whether another page exists, so the last page has no cursor (as on SQLite).
        // Filters that drop many items (prefix, track, a requester on StatusIndex, the Scan's item-kind filter) read
        // bigger pages; the page still ends on its last returned item.
        var thinned = query.NamePrefix is not null || query.TrackName is not null || read.Scan is not null
            || (query.Status is not null && query.Requester is not null);
        read.SetLimit(thinned ? Math.Min(1000, (limit + 1) * 4) : limit + 1);
        do
        {
            var (items, last) = await ReadPageAsync(read, ct);
            foreach (var item in items)
            {
                if (FromItem(item) is { } sandbox && rows.Count <= limit)
                {
                    rows.Add((sandbox, item));
                }
            }

            read.ExclusiveStartKey = last;
        }
        while (read.ExclusiveStartKey is not null && rows.Count <= limit);

        if (rows.Count <= limit)
        {
            return new SandboxPage([.. rows.Select(r => r.Sandbox)], null);
        }

        var page = rows.Take(limit).ToList();
        return new SandboxPage([.. page.Select(r => r.Sandbox)], ListCursor.Encode(fingerprint, keyNames, page[^1].Item));
    }

    private (PagedRead Read, string[] KeyNames, string Fingerprint) ListRequest(SandboxQuery query)
    {
        var e = new Expr();
        var filters = new List<string>();
        string[] keys;
        string path;
        QueryRequest? index = null;
        ScanRequest? scan = null;
        if (query.Status is { } status)
        {
            (keys, path) = (StatusIndexKeys, StatusIndex);
            index = new QueryRequest { IndexName = StatusIndex, KeyConditionExpression = $"{e.Attr(Status)} = {e.Val(status.ToWire())}" };
            AddEquals(AllocatedToTrack, query.Requester);
        }
        else
        {
            filters.Add($"{e.Attr(Status)} <> {e.Val(SandboxStatusNames.Deleted)}");
            if (query.Requester is not null)
            {
                (keys, path) = (TrackIndexKeys, TrackIndex);
                index = new QueryRequest { IndexName = TrackIndex, KeyConditionExpression = $"{e.Attr(AllocatedToTrack)} = {e.Val(query.Requester)}" };
            }
            else
            {
                (keys, path) = (TableKeys, "scan");
                scan = new ScanRequest();
                filters.Add($"begins_with({e.Attr(PartitionKey)}, {e.Val(SandboxPkPrefix)}) AND {e.Attr(TableLayout.SortKey)} = {e.Val(SandboxSk)}");
            }
        }

        if (query.NamePrefix is not null)
        {
            filters.Add($"begins_with({e.Attr(Name)}, {e.Val(query.NamePrefix)})");
        }

        AddEquals(TrackName, query.TrackName);
        var filter = filters.Count > 0 ? string.Join(" AND ", filters) : null;
        if (index is not null)
        {
            index.TableName = table.Name;
            index.FilterExpression = filter;
            index.ExpressionAttributeNames = e.Names;
            index.ExpressionAttributeValues = e.Values;
        }
        else
        {
            scan!.TableName = table.Name;
            scan.FilterExpression = filter;
            scan.ExpressionAttributeNames = e.Names;
            scan.ExpressionAttributeValues = e.Values;
        }

        var fingerprint = ListCursor.Fingerprint(table.Name, path, query.Status?.ToWire(), query.NamePrefix, query.TrackName, query.Requester);
        return (new PagedRead(index, scan), keys, fingerprint);

        void AddEquals(string attribute, string? value)
        {
            if (value is not null)
            {
                filters.Add($"{e.Attr(attribute)} = {e.Val(value)}");
            }
        }
    }

    public async IAsyncEnumerable<Sandbox> ScanByStatusAsync(SandboxStatus status, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var (sandbox, _) in ScanItemsAsync(status, ct))
        {
            yield return sandbox;
        }
    }

    public async IAsyncEnumerable<SandboxHistory> ScanHistoriesAsync(
        SandboxStatus status, [EnumeratorCancellation] CancellationToken ct, long changedSince = 0)
    {
        await foreach (var (sandbox, item) in ScanItemsAsync(status, ct, changedSince))
        {
            yield return new SandboxHistory(sandbox.SandboxId, sandbox.Status, HistoryAttribute.Read(item));
        }
    }

    /// <summary>
    /// Every sandbox item in one state, from StatusIndex (which projects every attribute); with
    /// <paramref name="changedSince"/> the index filters out items whose updated_at is older, so only recent ones travel.
    /// </summary>
    private async IAsyncEnumerable<(Sandbox Sandbox, Dictionary<string, AttributeValue> Item)> ScanItemsAsync(
        SandboxStatus status, [EnumeratorCancellation] CancellationToken ct, long changedSince = 0)
    {
        var e = new Expr();
        var request = new QueryRequest
        {
            TableName = table.Name,
            IndexName = StatusIndex,
            KeyConditionExpression = $"{e.Attr(Status)} = {e.Val(status.ToWire())}",
            Limit = 500,
        };
        if (changedSince > 0)
        {
            request.FilterExpression = $"{e.Attr(UpdatedAt)} >= {e.Val(changedSince)}";
        }

        request.ExpressionAttributeNames = e.Names;
        request.ExpressionAttributeValues = e.Values;
        do
        {
            var response = await table.CallAsync("Query", c => table.Client.QueryAsync(request, c), ct, background: true);
            foreach (var item in response.Items ?? [])
            {
                if (FromItem(item) is { } sandbox && sandbox.Status == status)
                {
                    yield return (sandbox, item);
                }
            }

            request.ExclusiveStartKey = Has(response.LastEvaluatedKey) ? response.LastEvaluatedKey : null;
        }
        while (request.ExclusiveStartKey is not null);
    }

    /// <summary>
    /// One COUNT query per live state on StatusIndex, and one on AvailableIndex's U# partition for unverified
    /// deletions, all at once: reads live items and unverified tombstones only, never the tombstones (issue 20 item 3),
    /// so <see cref="PoolCounts.Deleted"/> is null here.
    /// </summary>
    public async Task<PoolCounts> CountAsync(string? namePrefix, CancellationToken ct)
    {
        var live = SandboxStatusNames.All.Where(s => s != SandboxStatus.Deleted).ToList();
        var unverified = availableIndexMissing
            ? CountAsync(SandboxStatus.Deleted, namePrefix, ct, unverifiedOnly: true)
            : CountUnverifiedAsync(namePrefix, ct);
        var counts = await Task.WhenAll(live.Select(status => CountAsync(status, namePrefix, ct)).Append(unverified));
        long Of(SandboxStatus status) => counts[live.IndexOf(status)];
        return new PoolCounts(Of(SandboxStatus.Available), Of(SandboxStatus.Allocated), Of(SandboxStatus.PendingDeletion),
            Of(SandboxStatus.DeletionFailed), Of(SandboxStatus.Stale), Deleted: null, Of(SandboxStatus.Reserved))
        {
            UnverifiedDeletions = counts[^1],
        };
    }

    /// <summary>Set at start-up when the table lacks AvailableIndex: unverified deletions are then counted on StatusIndex.</summary>
    public void UseStatusIndexOnly() => availableIndexMissing = true;

    /// <summary>Unverified tombstones: the U# partition of AvailableIndex (the prefix in the key condition).</summary>
    private async Task<long> CountUnverifiedAsync(string? namePrefix, CancellationToken ct)
    {
        var e = new Expr();
        var request = new QueryRequest
        {
            TableName = table.Name,
            IndexName = AvailableIndex,
            KeyConditionExpression = $"{e.Attr(AvailShard)} = {e.Val(UnverifiedShard)}"
                + (namePrefix is null ? "" : $" AND begins_with({e.Attr(Name)}, {e.Val(namePrefix)})"),
            Select = Select.COUNT,
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
        };
        return await CountPagesAsync(request, ct);
    }

    private async Task<long> CountPagesAsync(QueryRequest request, CancellationToken ct)
    {
        long total = 0;
        do
        {
            var response = await table.CallAsync("Query", c => table.Client.QueryAsync(request, c), ct, background: true);
            total += response.Count ?? 0;
            request.ExclusiveStartKey = Has(response.LastEvaluatedKey) ? response.LastEvaluatedKey : null;
        }
        while (request.ExclusiveStartKey is not null);

        return total;
    }

    /// <summary>States a sandbox can be in once allocated: the allocation rate and a reservation's allocated count.</summary>
    private static readonly SandboxStatus[] AllocatedOrLater =
        [SandboxStatus.Allocated, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, SandboxStatus.Deleted];

    /// <summary>Sandboxes allocated since a time: a COUNT of the allocated_at range of StatusIndex, per state, at once.</summary>
    public async Task<long> CountAllocatedSinceAsync(string? namePrefix, long since, CancellationToken ct) =>
        (await Task.WhenAll(AllocatedOrLater.Select(s => CountAsync(s, namePrefix, ct, since)))).Sum();

    /// <summary>
    /// A reservation's held sandboxes (reserved, carrying its id) and those allocated from it (allocated since it was
    /// created, carrying its id): range counts on StatusIndex.
    /// </summary>
    public async Task<Reservations.ReservationCounts> CountReservationAsync(Reservations.Reservation reservation, CancellationToken ct)
    {
        var held = CountAsync(SandboxStatus.Reserved, reservation.NamePrefix, ct, reservationId: reservation.ReservationId);
        var allocated = await Task.WhenAll(AllocatedOrLater.Select(s =>
            CountAsync(s, reservation.NamePrefix, ct, reservation.CreatedAt, reservation.ReservationId)));
        return new Reservations.ReservationCounts(await held, allocated.Sum());
    }

    private async Task<long> CountAsync(
        SandboxStatus status, string? namePrefix, CancellationToken ct, long? allocatedSince = null, string? reservationId = null,
        bool unverifiedOnly = false)
    {
        var e = new Expr();
        var request = new QueryRequest
        {
            TableName = table.Name,
            IndexName = StatusIndex,
            KeyConditionExpression = $"{e.Attr(Status)} = {e.Val(status.ToWire())}"
                + (allocatedSince is { } since ? $" AND {e.Attr(AllocatedAt)} >= {e.Val(since)}" : ""),
            Select = Select.COUNT,
        };
        // Only sandbox items carry status; the PK filter keeps foreign items with a status out all the same.
        request.FilterExpression = $"begins_with({e.Attr(PartitionKey)}, {e.Val(SandboxPkPrefix)})"
            + (namePrefix is null ? "" : $" AND begins_with({e.Attr(Name)}, {e.Val(namePrefix)})")
            + (unverifiedOnly ? $" AND attribute_exists({e.Attr(DeletedAt)}) AND attribute_not_exists({e.Attr(DeletionVerifiedAt)})" : "")
            + (reservationId is null ? "" : $" AND {e.Attr(ReservationId)} = {e.Val(reservationId)}");
        request.ExpressionAttributeNames = e.Names;
        request.ExpressionAttributeValues = e.Values;
        return await CountPagesAsync(request, ct);
    }

    private async Task<(List<Dictionary<string, AttributeValue>> Items, Dictionary<string, AttributeValue>? Last)> ReadPageAsync(
        PagedRead read, CancellationToken ct)
    {
        if (read.Query is { } query)
        {
            var response = await table.CallAsync("Query", c => table.Client.QueryAsync(query, c), ct, background: true);
            return (response.Items ?? [], Has(response.LastEvaluatedKey) ? response.LastEvaluatedKey : null);
        }

        var page = await table.CallAsync("Scan", c => table.Client.ScanAsync(read.Scan!, c), ct, background: true);
        return (page.Items ?? [], Has(page.LastEvaluatedKey) ? page.LastEvaluatedKey : null);
    }

    /// <summary>A Query on an index or a Scan of the table, paged the same way.</summary>
    private sealed class PagedRead(QueryRequest? query, ScanRequest? scan)
    {
        public QueryRequest? Query => query;

        public ScanRequest? Scan => scan;

        public Dictionary<string, AttributeValue>? ExclusiveStartKey
        {
            get => query is not null ? query.ExclusiveStartKey : scan!.ExclusiveStartKey;
            set
            {
                if (query is not null)
                {
                    query.ExclusiveStartKey = value;
                }
                else
                {
                    scan!.ExclusiveStartKey = value;
                }
            }
        }

        public void SetLimit(int limit)
        {
            if (query is not null)
            {
                query.Limit = limit;
            }
            else
            {
                scan!.Limit = limit;
            }
        }
    }
}
