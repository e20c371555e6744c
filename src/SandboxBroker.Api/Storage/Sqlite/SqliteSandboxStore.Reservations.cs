using System.Text.Json;
using SandboxBroker.Api.Reservations;
using static SandboxBroker.Api.Storage.Sqlite.SqliteRows;

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>Reservation records (one JSON record per row) and the counts the capacity view and reservations read.</summary>
internal sealed partial class SqliteSandboxStore
{
    /// <summary>States a sandbox can be in once allocated: the allocation rate counts them all.</summary>
    private const string AllocatedOrLater = "('allocated', 'pending_deletion', 'deletion_failed', 'deleted')";

    public async Task<long> CountAllocatedSinceAsync(string? namePrefix, long since, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        var sql = $"SELECT COUNT(*) FROM sandboxes WHERE status IN {AllocatedOrLater} AND allocated_at >= $since"
            + (namePrefix is null ? "" : " AND name >= $p AND name < $pend");
        await using var command = Command(connection, sql, PrefixParameters(namePrefix, ("$since", since)));
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public Task<bool> CreateReservationAsync(Reservation reservation, CancellationToken ct) =>
        WriteAsync(connection =>
        {
            using var command = Command(connection,
                "INSERT INTO reservations (reservation_id, status, created_at, record) VALUES ($id, $s, $c, $r) ON CONFLICT DO NOTHING",
                ("$id", reservation.ReservationId), ("$s", reservation.Status), ("$c", reservation.CreatedAt),
                ("$r", JsonSerializer.Serialize(reservation, ReservationJsonContext.Default.Reservation)));
            return command.ExecuteNonQuery() == 1;
        }, ct);

    public async Task<Reservation?> GetReservationAsync(string reservationId, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        await using var command = Command(connection, "SELECT record FROM reservations WHERE reservation_id = $id", ("$id", reservationId));
        return await command.ExecuteScalarAsync(ct) is string record ? Parse(record) : null;
    }

    public async Task<IReadOnlyList<Reservation>> ListReservationsAsync(CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        await using var command = Command(connection, "SELECT record FROM reservations ORDER BY created_at DESC, reservation_id LIMIT 500");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var list = new List<Reservation>();
        while (await reader.ReadAsync(ct))
        {
            list.Add(Parse(reader.GetString(0)));
        }

        return list;
    }

    public Task<bool> EndReservationAsync(string reservationId, long endedAt, CancellationToken ct) =>
        WriteAsync(connection =>
        {
            using var command = Command(connection,
                "UPDATE reservations SET status = 'ended', record = json_set(record, '$.status', 'ended', '$.ended_at', $at) " +
                "WHERE reservation_id = $id AND status = 'active'",
                ("$id", reservationId), ("$at", endedAt));
            return command.ExecuteNonQuery() == 1;
        }, ct);

    public async Task<ReservationCounts> CountReservationAsync(Reservation reservation, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        await using var command = Command(connection,
            "SELECT COALESCE(SUM(status = 'reserved'), 0), COALESCE(SUM(status IN " + AllocatedOrLater + "), 0) " +
            "FROM sandboxes WHERE reservation_id = $id",
            ("$id", reservation.ReservationId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new ReservationCounts(reader.GetInt64(0), reader.GetInt64(1));
    }

    private static Reservation Parse(string record) =>
        JsonSerializer.Deserialize(record, ReservationJsonContext.Default.Reservation)
        ?? throw new InvalidDataException("an empty reservation record");
}
