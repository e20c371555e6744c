using Microsoft.Data.Sqlite;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage.Sqlite;

internal sealed partial class SqliteSandboxStore
{
    private SqliteConnection Writer => writer ?? throw new InvalidOperationException("the store is not initialised");

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync();
            throw new StoreUnavailableException("the SQLite store could not be opened", ex);
        }
    }

    /// <summary>Runs one write under the single-writer lock.</summary>
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, T> write, CancellationToken ct)
    {
        await writeLock.WaitAsync(ct);
        try
        {
            return write(Writer);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 5 or 6 or 10 or 13 or 14) // BUSY, LOCKED, IOERR, FULL, CANTOPEN
        {
            throw new StoreUnavailableException("the SQLite store failed a write", ex);
        }
        finally
        {
            writeLock.Release();
        }
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = Command(connection, sql);
        command.ExecuteNonQuery();
    }

    private static Sandbox? ReadOne(SqliteConnection connection, string sql, params (string, object?)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return ReadOne(command);
    }

    private static Sandbox? ReadOne(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        return reader.Read() ? Map(reader) : null;
    }

    private static List<Sandbox> ReadMany(SqliteConnection connection, string sql, (string, object?)[] parameters)
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
    private static Sandbox Map(SqliteDataReader r)
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
        };
    }

    /// <summary>$p/$pend for a name-prefix range (binary collation: every name starting with p sorts in [p, pend)).</summary>
    private static (string, object?)[] PrefixParameters(string? prefix, params (string, object?)[] more)
    {
        if (prefix is null)
        {
            return more;
        }

        var end = prefix[..^1] + (char)(prefix[^1] + 1);
        return [("$p", prefix), ("$pend", end), .. more];
    }

    private static void AddSet(List<string> sets, List<(string, object?)> parameters, string column, object? value)
    {
        if (value is null)
        {
            return;
        }

        var name = "$" + column;
        sets.Add($"{column} = {name}");
        parameters.Add((name, value));
    }
}
