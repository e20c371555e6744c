using System.Text.Json;
using Amazon.DynamoDBv2.Model;
using SandboxBroker.Api.Reservations;
using static SandboxBroker.Api.Storage.DynamoDb.SandboxItem;
using static SandboxBroker.Api.Storage.DynamoDb.TableLayout;

namespace SandboxBroker.Api.Storage.DynamoDb;

/// <summary>
/// Reservation records: PK = RESERVATION, SK = reservation id (ids sort by creation time), the record as JSON. One
/// partition, so listing is one Query. They carry no status attribute (that would put them in StatusIndex) and no SBX#
/// key (the original's dashboard treats those as sandboxes).
/// </summary>
internal sealed class ReservationRecords(DynamoDbTable table)
{
    private const string State = "rsv_status";

    public async Task<bool> CreateAsync(Reservation reservation, CancellationToken ct)
    {
        var e = new Expr();
        var item = KeyOf(reservation.ReservationId);
        item[ReservationRecord] = S(JsonSerializer.Serialize(reservation, ReservationJsonContext.Default.Reservation));
        item[State] = S(reservation.Status);
        var request = new PutItemRequest
        {
            TableName = table.Name,
            Item = item,
            ConditionExpression = $"attribute_not_exists({e.Attr(PartitionKey)})",
            ExpressionAttributeNames = e.Names,
        };
        try
        {
            await table.CallAsync("PutItem", c => table.Client.PutItemAsync(request, c), ct);
            return true;
        }
        catch (Amazon.DynamoDBv2.Model.ConditionalCheckFailedException)
        {
            return false;
        }
    }

    public async Task<Reservation?> GetAsync(string reservationId, CancellationToken ct) =>
        await table.GetItemAsync(KeyOf(reservationId), ct) is { } item ? Map(item) : null;

    public async Task<IReadOnlyList<Reservation>> ListAsync(CancellationToken ct)
    {
        var e = new Expr();
        var request = new QueryRequest
        {
            TableName = table.Name,
            KeyConditionExpression = $"{e.Attr(PartitionKey)} = {e.Val(ReservationPk)}",
            ExpressionAttributeNames = e.Names,
            ExpressionAttributeValues = e.Values,
            ScanIndexForward = false,
            ConsistentRead = true,
        };
        var list = new List<Reservation>();
        await table.QueryPagesAsync(request, items =>
        {
            list.AddRange(items.Select(Map).OfType<Reservation>());
            return list.Count < 500;
        }, ct);
        return list;
    }

    /// <summary>active → ended: one conditional update of the record's state and its JSON.</summary>
    public async Task<bool> EndAsync(string reservationId, long endedAt, CancellationToken ct)
    {
        if (await GetAsync(reservationId, ct) is not { Status: Reservation.Active } current)
        {
            return false;
        }

        var ended = current with { Status = Reservation.Ended, EndedAt = endedAt };
        var e = new Expr()
            .Set(State, Reservation.Ended)
            .Set(ReservationRecord, JsonSerializer.Serialize(ended, ReservationJsonContext.Default.Reservation));
        return await table.TryConditionalUpdateAsync(KeyOf(reservationId), e, $"{e.Attr(State)} = {e.Val(Reservation.Active)}", ct);
    }

    private static Dictionary<string, AttributeValue> KeyOf(string reservationId) =>
        new() { [PartitionKey] = S(ReservationPk), [TableLayout.SortKey] = S(reservationId) };

    private static Reservation? Map(Dictionary<string, AttributeValue> item) =>
        Str(item, ReservationRecord) is { } json ? JsonSerializer.Deserialize(json, ReservationJsonContext.Default.Reservation) : null;
}
