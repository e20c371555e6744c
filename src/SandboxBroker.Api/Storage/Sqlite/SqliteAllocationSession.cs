using Microsoft.Data.Sqlite;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Api.Storage.Sqlite.SqliteRows;

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>
/// The allocation primitives on the writer connection, inside the transaction of the current batch (see
/// <see cref="SqliteAllocationQueue"/>). Nothing else writes meanwhile, so every read is current and a claim of a
/// candidate just read cannot lose. Statements are prepared once and re-run with new parameter values: preparing them
/// for every allocation cost more than running them. Every call completes synchronously.
/// </summary>
internal sealed class SqliteAllocationSession : IAllocationSession, IDisposable
{
    private readonly SqliteCommand readKey;
    private readonly SqliteCommand readSandbox;
    private readonly SqliteCommand window;
    private readonly SqliteCommand prefixWindow;
    private readonly SqliteCommand claim;
    private readonly SqliteCommand claimReserved;
    private readonly SqliteCommand reservedWindow;
    private readonly SqliteCommand reservedPrefixWindow;
    private readonly SqliteCommand recordKey;
    private readonly SqliteCommand[] all;

    public SqliteAllocationSession(SqliteConnection writer)
    {
        SqliteCommand Make(string sql, params string[] parameters)
        {
            var command = writer.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter(name, DBNull.Value));
            }

            return command;
        }

        Savepoint = Make("SAVEPOINT allocation");
        ReleaseSavepoint = Make("RELEASE allocation");
        RollbackToSavepoint = Make("ROLLBACK TO allocation");
        readKey = Make(SqliteSchema.ReadKey, "$r", "$k");
        readSandbox = Make(SqliteSchema.ReadSandbox, "$id");
        // The lowest available names (a covering partial index: no table read, no scan over taken rows). One writer
        // runs every allocation, so nothing competes for the same candidates, and taking them in index order keeps
        // the pages an allocation writes (row, indexes, WAL) next to those of the one before, whatever the pool size.
        window = Make(
            "SELECT sandbox_id FROM sandboxes INDEXED BY ix_sandboxes_available WHERE status = 'available' ORDER BY name LIMIT $k",
            "$k");
        prefixWindow = Make(
            "SELECT sandbox_id FROM sandboxes INDEXED BY ix_sandboxes_available WHERE status = 'available' AND name >= $p AND name < $pend " +
            "ORDER BY name LIMIT $k",
            "$p", "$pend", "$k");
        claim = Make(SqliteSchema.Claim, "$r", "$now", "$k", "$track", "$exp", "$hours", "$via", "$id", "$ev");
        claimReserved = Make(SqliteSchema.ClaimReserved, "$r", "$now", "$k", "$track", "$exp", "$hours", "$via", "$id", "$ev");
        // A lab's reserved sandboxes: one writer, so no window placement is needed, only the lab (and prefix).
        reservedWindow = Make(
            "SELECT sandbox_id FROM sandboxes INDEXED BY ix_sandboxes_reserved_for WHERE status = 'reserved' AND reserved_for = $t ORDER BY rnd LIMIT $k",
            "$t", "$k");
        reservedPrefixWindow = Make(
            "SELECT sandbox_id FROM sandboxes INDEXED BY ix_sandboxes_reserved_for WHERE status = 'reserved' AND reserved_for = $t " +
            "AND name >= $p AND name < $pend ORDER BY rnd LIMIT $k",
            "$t", "$p", "$pend", "$k");
        recordKey = Make(SqliteSchema.RecordKey, "$r", "$k", "$id", "$now");
        all = [Savepoint, ReleaseSavepoint, RollbackToSavepoint, readKey, readSandbox, window, prefixWindow, claim, claimReserved, reservedWindow, reservedPrefixWindow, recordKey];
    }

    public SqliteCommand Savepoint { get; }

    public SqliteCommand ReleaseSavepoint { get; }

    public SqliteCommand RollbackToSavepoint { get; }

    /// <summary>Runs every statement in the batch's transaction (Microsoft.Data.Sqlite requires it be named).</summary>
    public void Enlist(SqliteTransaction transaction)
    {
        foreach (var command in all)
        {
            command.Transaction = transaction;
        }
    }

    public ValueTask<string?> ReadKeyAsync(string requester, string idempotencyKey, CancellationToken ct) =>
        ValueTask.FromResult(ReadKey(requester, idempotencyKey));

    public ValueTask<Sandbox?> ReadAsync(string sandboxId, CancellationToken ct) => ValueTask.FromResult(ReadSandbox(sandboxId));

    public ValueTask<IReadOnlyList<string>> FindCandidatesAsync(CandidateQuery query, CancellationToken ct)
    {
        if (query.ReservedFor is not null)
        {
            return ValueTask.FromResult<IReadOnlyList<string>>(FindReserved(query));
        }

        var command = query.NamePrefix is null ? window : prefixWindow;
        var p = command.Parameters;
        if (query.NamePrefix is not null)
        {
            p["$p"].Value = query.NamePrefix;
            p["$pend"].Value = PrefixEnd(query.NamePrefix);
        }

        p["$k"].Value = query.Limit;
        return ValueTask.FromResult<IReadOnlyList<string>>(ReadIds(command, query.Limit));
    }

    public ValueTask<ClaimResult> TryClaimAsync(ClaimRequest request, CancellationToken ct)
    {
        var recorded = ReadKey(request.Requester, request.IdempotencyKey);
        if (!string.Equals(recorded, request.ReplacesSandboxId, StringComparison.Ordinal))
        {
            return ValueTask.FromResult<ClaimResult>(new ClaimResult.KeyTaken(recorded));
        }

        var command = request.ReservedFor is null ? claim : claimReserved;
        var p = command.Parameters;
        p[0].Value = request.Requester;
        p[1].Value = request.Now;
        p[2].Value = request.IdempotencyKey;
        p[3].Value = (object?)(request.ReservedFor ?? request.TrackName) ?? DBNull.Value;
        p[4].Value = request.ExpiresAt;
        p[5].Value = request.LabDurationHours;
        p[6].Value = (object?)request.AllocatedVia ?? DBNull.Value;
        p[7].Value = request.SandboxId;
        p[8].Value = SqliteHistory.Serialize(request.Event());
        if (command.ExecuteNonQuery() != 1)
        {
            return ValueTask.FromResult<ClaimResult>(new ClaimResult.SandboxTaken());
        }

        var claimed = ReadSandbox(request.SandboxId) ?? throw new InvalidOperationException($"sandbox {request.SandboxId} vanished inside its claim's transaction");

        p = recordKey.Parameters;
        p[0].Value = request.Requester;
        p[1].Value = request.IdempotencyKey;
        p[2].Value = request.SandboxId;
        p[3].Value = request.Now;
        recordKey.ExecuteNonQuery();
        return ValueTask.FromResult<ClaimResult>(new ClaimResult.Claimed(claimed));
    }

    public void Dispose()
    {
        foreach (var command in all)
        {
            command.Dispose();
        }
    }

    private Sandbox? ReadSandbox(string sandboxId)
    {
        readSandbox.Parameters[0].Value = sandboxId;
        return ReadOne(readSandbox);
    }

    private List<string> FindReserved(CandidateQuery query)
    {
        var command = query.NamePrefix is null ? reservedWindow : reservedPrefixWindow;
        var p = command.Parameters;
        p["$t"].Value = query.ReservedFor;
        p["$k"].Value = query.Limit;
        if (query.NamePrefix is not null)
        {
            p["$p"].Value = query.NamePrefix;
            p["$pend"].Value = PrefixEnd(query.NamePrefix);
        }

        return ReadIds(command, query.Limit);
    }

    private static List<string> ReadIds(SqliteCommand command, int limit)
    {
        var ids = new List<string>(limit);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private string? ReadKey(string requester, string idempotencyKey)
    {
        readKey.Parameters[0].Value = requester;
        readKey.Parameters[1].Value = idempotencyKey;
        return readKey.ExecuteScalar() as string;
    }
}
