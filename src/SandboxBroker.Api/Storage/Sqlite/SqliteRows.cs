using Microsoft.Data.Sqlite;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>Commands and row mapping shared by the store's readers and its writer.</summary>
internal static class SqliteRows
{
    public static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = Command(connection, sql);
        command.ExecuteNonQuery();
    }

    public static Sandbox? ReadOne(SqliteConnection connection, string sql, params (string, object?)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return ReadOne(command);
    }

    public static Sandbox? ReadOne(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        return reader.Read() ? Map(reader) : null;
    }

    public static List<Sandbox> ReadMany(SqliteConnection connection, string sql, (string, object?)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var result = new List<Sandbox>();
        while (reader.Read())
        {
            result.Add(Map(reader));
        }

        return result;
    }

    /// <summary>Column order of <see cref="SqliteSchema.Columns"/>.</summary>
    public static Sandbox Map(SqliteDataReader r)
    {
        if (!SandboxStatusNames.TryParse(r.GetString(3), out var status))
        {
            throw new InvalidDataException($"unknown sandbox status '{r.GetString(3)}'");
        }

        return new Sandbox
        {
            SandboxId = r.GetString(0),
            Name = r.GetString(1),
            ExternalId = r.GetString(2),
            Status = status,
            AllocatedTo = r.IsDBNull(4) ? null : r.GetString(4),
            AllocatedAt = r.GetInt64(5),
            IdempotencyKey = r.IsDBNull(6) ? null : r.GetString(6),
            TrackName = r.IsDBNull(7) ? null : r.GetString(7),
            ExpiresAt = r.IsDBNull(8) ? null : r.GetInt64(8),
            LabDurationHours = r.GetDouble(9),
            DeletionRequestedAt = r.IsDBNull(10) ? null : r.GetInt64(10),
            DeletionRetryCount = r.GetInt32(11),
            LastError = r.IsDBNull(12) ? null : r.GetString(12),
            NextAttemptAt = r.IsDBNull(13) ? null : r.GetInt64(13),
            LastSynced = r.IsDBNull(14) ? null : r.GetInt64(14),
            CreatedAt = r.GetInt64(15),
            UpdatedAt = r.GetInt64(16),
            SfdcAccountId = r.IsDBNull(17) ? null : r.GetString(17),
            DeletedAt = r.IsDBNull(18) ? null : r.GetInt64(18),
            DeletionVerifiedAt = r.IsDBNull(19) ? null : r.GetInt64(19),
            NiosxaasCleanedAt = r.IsDBNull(20) ? null : r.GetInt64(20),
            NiosxaasCleanupSkipped = r.GetInt64(21) != 0,
            NiosxaasCleanupFailedReason = r.IsDBNull(22) ? null : r.GetString(22),
            AllocatedVia = r.IsDBNull(23) ? null : r.GetString(23),
            ReservationId = r.IsDBNull(24) ? null : r.GetString(24),
            ReservedFor = r.IsDBNull(25) ? null : r.GetString(25),
        };
    }

    /// <summary>Failures that mean the store cannot write now (BUSY, LOCKED, IOERR, FULL, CANTOPEN): answered with 503.</summary>
    public static bool IsOutage(SqliteException ex) => ex.SqliteErrorCode is 5 or 6 or 10 or 13 or 14;

    /// <summary>The smallest string above every name that starts with the prefix (binary collation).</summary>
    public static string PrefixEnd(string prefix) => prefix[..^1] + (char)(prefix[^1] + 1);
}
