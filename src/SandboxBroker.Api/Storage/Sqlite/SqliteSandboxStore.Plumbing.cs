using Microsoft.Data.Sqlite;
using static SandboxBroker.Api.Storage.Sqlite.SqliteRows;

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
        catch (Exception ex)
        {
            await connection.DisposeAsync();
            if (ex is SqliteException sqlite)
            {
                throw new StoreUnavailableException("the SQLite store could not be opened", sqlite);
            }

            throw;
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
        catch (SqliteException ex) when (IsOutage(ex))
        {
            throw new StoreUnavailableException("the SQLite store failed a write", ex);
        }
        finally
        {
            writeLock.Release();
        }
    }

    /// <summary>$p/$pend for a name-prefix range (binary collation: every name starting with p sorts in [p, pend)).</summary>
    private static (string, object?)[] PrefixParameters(string? prefix, params (string, object?)[] more)
    {
        if (prefix is null)
        {
            return more;
        }

        return [("$p", prefix), ("$pend", PrefixEnd(prefix)), .. more];
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
