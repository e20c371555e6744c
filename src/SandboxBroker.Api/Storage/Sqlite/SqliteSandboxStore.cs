using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SandboxBroker.Api.Sandboxes;
using static SandboxBroker.Api.Storage.Sqlite.SqliteRows;

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, single node. Reads use pooled connections (WAL lets them run
/// beside the writer); all writes go through one connection under a lock, so they never meet SQLITE_BUSY and
/// each state change is one conditional statement (or one short transaction) on the state it expects.
/// </summary>
internal sealed partial class SqliteSandboxStore : ISandboxStore, IDisposable
{
    private const string Select = "SELECT " + SqliteSchema.Columns + " FROM sandboxes";
    private readonly string connectionString;
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private SqliteConnection? writer;
    private SqliteAllocationQueue? allocations;
    private SqliteCheckpointer? checkpointer;

    public SqliteSandboxStore(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 5,
        }.ToString();
    }

    public string ConnectionString => connectionString;

    public Task InitializeAsync(CancellationToken ct)
    {
        SqliteConnection? connection = null;
        try
        {
            connection = new SqliteConnection(connectionString);
            connection.Open();
            // WAL: readers do not block the writer; synchronous=NORMAL keeps every committed write across a
            // process crash (kill -9), only an OS crash may lose the last commits. Checkpoints run in the background
            // (SqliteCheckpointer); the writer's own one only bounds the WAL, and it keeps up to 32 MB of pages cached:
            // under a burst, checkpoints inside a commit and page re-reads were a third of an allocation's cost.
            // temp_store=MEMORY keeps the sub-journal of the per-plan savepoints (SqliteAllocationQueue) in memory: on
            // a file it spilled past 64 KiB in every batch, a temp file created, written page by page and unlinked per
            // commit, about two thirds of the writer's pwrite calls (strace, BENCHMARKS.md).
            Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
            Execute(connection, $"PRAGMA wal_autocheckpoint={SqliteCheckpointer.WriterBoundPages}; PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY;");
            Execute(connection, SqliteSchema.Create);
            // Files written by an earlier version gain the newer columns (empty histories, no current run).
            foreach (var (table, column, definition) in SqliteSchema.AddedColumns)
            {
                using var probe = Command(connection, "SELECT COUNT(*) FROM pragma_table_info($t) WHERE name = $c", ("$t", table), ("$c", column));
                if ((long)probe.ExecuteScalar()! == 0)
                {
                    Execute(connection, $"ALTER TABLE {table} ADD COLUMN {column} {definition}");
                }
            }
            Execute(connection, SqliteSchema.AfterMigration);
            writer = connection;
            allocations = new SqliteAllocationQueue(connection, writeLock);
            checkpointer = new SqliteCheckpointer(connectionString, writeLock);
            connection = null; // the store owns it now
        }
        finally
        {
            // A file that cannot be opened or migrated must not leave the connection (and its file handle) behind.
            connection?.Dispose();
        }

        return Task.CompletedTask;
    }

    public async Task PingAsync(CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM sandboxes LIMIT 1";
        await command.ExecuteScalarAsync(ct);
    }

    public async Task<Sandbox?> GetAsync(string sandboxId, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        return ReadOne(connection, SqliteSchema.ReadSandbox, ("$id", sandboxId));
    }

    public async Task<string?> GetIdempotentSandboxIdAsync(string requester, string idempotencyKey, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        await using var command = Command(connection, SqliteSchema.ReadKey, ("$r", requester), ("$k", idempotencyKey));
        return await command.ExecuteScalarAsync(ct) as string;
    }

    public Task<T> RunAllocationAsync<T>(AllocationPlan<T> plan, CancellationToken ct) =>
        (allocations ?? throw new InvalidOperationException("the store is not initialised")).RunAsync(plan, ct);

    public async Task<TransitionResult> TransitionAsync(StateChange change, CancellationToken ct)
    {
        var sets = new List<string> { "status = $to", "updated_at = $now", SqliteHistory.Append };
        var parameters = new List<(string, object?)>
        {
            ("$id", change.SandboxId), ("$from", change.From.ToWire()), ("$to", change.To.ToWire()), ("$now", change.Now),
            ("$ev", SqliteHistory.Serialize(SandboxEvent.Of(change))),
        };
        AddSet(sets, parameters, "deletion_requested_at", change.DeletionRequestedAt);
        AddSet(sets, parameters, "deletion_retry_count", change.DeletionRetryCount);
        AddSet(sets, parameters, "last_error", change.LastError);
        AddSet(sets, parameters, "next_attempt_at", change.NextAttemptAt);
        AddSet(sets, parameters, "deleted_at", change.DeletedAt);
        AddSet(sets, parameters, "deletion_verified_at", change.DeletionVerifiedAt);
        if (change.ClearDeletedAt)
        {
            sets.Add("deleted_at = NULL");
        }

        if (change.NiosXaas is { } mark)
        {
            AddSet(sets, parameters, "niosxaas_cleaned_at", mark.CleanedAt);
            sets.Add("niosxaas_cleanup_skipped = $nxskip, niosxaas_cleanup_failed_reason = $nxfail");
            parameters.Add(("$nxskip", mark.Skipped ? 1 : 0));
            parameters.Add(("$nxfail", string.IsNullOrEmpty(mark.FailedReason) ? null : mark.FailedReason));
        }

        AddSet(sets, parameters, "expires_at", change.ExpiresAt);
        AddSet(sets, parameters, "reservation_id", change.ReservationId);
        AddSet(sets, parameters, "reserved_for", change.ReservedFor);
        if (change.ClearReservation)
        {
            sets.Add("reservation_id = NULL");
            sets.Add("reserved_for = NULL");
        }
        if (change.ClearLastError)
        {
            sets.Add("last_error = NULL");
        }

        if (change.ClearNextAttempt)
        {
            sets.Add("next_attempt_at = NULL");
        }

        var where = "sandbox_id = $id AND status = $from";
        if (change.RequireUnverified)
        {
            where += " AND deletion_verified_at IS NULL";
        }

        if (change.RequireHolder is not null)
        {
            where += " AND allocated_to_track = $holder";
            parameters.Add(("$holder", change.RequireHolder));
            if (change.RequireAllocatedVia is not null)
            {
                where += " AND (allocated_via IS NULL OR allocated_via = $via)";
                parameters.Add(("$via", change.RequireAllocatedVia));
            }
        }

        if (change.RequireRetryCount is not null)
        {
            where += " AND deletion_retry_count = $rc";
            parameters.Add(("$rc", change.RequireRetryCount));
        }

        if (change.RequireUpdatedAtOrBefore is not null)
        {
            where += " AND updated_at <= $untouched";
            parameters.Add(("$untouched", change.RequireUpdatedAtOrBefore));
        }

        if (change.RequireReservationId is not null)
        {
            where += " AND reservation_id = $rid";
            parameters.Add(("$rid", change.RequireReservationId));
        }

        if (change.RequireExpiresAt is { } expiresAt)
        {
            where += " AND COALESCE(expires_at, 0) = $rexp";
            parameters.Add(("$rexp", expiresAt));
        }

        var sql = $"UPDATE sandboxes SET {string.Join(", ", sets)} WHERE {where} RETURNING {SqliteSchema.Columns}";
        var applied = await WriteAsync(connection => ReadOne(connection, sql, [.. parameters]), ct);
        if (applied is not null)
        {
            return new TransitionResult.Applied(applied);
        }

        var current = await GetAsync(change.SandboxId, ct);
        return current is null ? new TransitionResult.NotFound() : new TransitionResult.Conflict(current);
    }

    public Task<UpsertOutcome> UpsertFromUpstreamAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct) =>
        WriteAsync(connection =>
        {
            using var transaction = connection.BeginTransaction();
            using var read = Command(connection, "SELECT status FROM sandboxes WHERE sandbox_id = $id", ("$id", sandbox.SandboxId));
            read.Transaction = transaction;
            var status = read.ExecuteScalar() as string;
            UpsertOutcome outcome;
            if (status is null)
            {
                outcome = Insert(connection, transaction, sandbox, now, cause) ? UpsertOutcome.Created : UpsertOutcome.Untouched;
            }
            else if (status is SandboxStatusNames.Available or SandboxStatusNames.Stale)
            {
                // A revival (stale → available) is a state change and is recorded; a refresh of an available one is not.
                var revive = status == SandboxStatusNames.Stale;
                using var update = Command(connection,
                    "UPDATE sandboxes SET status = 'available', name = $name, external_id = $ext, sfdc_account_id = $sfdc, " +
                    "last_synced = $now, updated_at = $now" + (revive ? ", " + SqliteHistory.Append : "") +
                    " WHERE sandbox_id = $id AND status = $expected",
                    ("$name", sandbox.Name), ("$ext", sandbox.ExternalId), ("$sfdc", sandbox.SfdcAccountId), ("$now", now),
                    ("$id", sandbox.SandboxId), ("$expected", status),
                    ("$ev", revive ? SqliteHistory.Serialize(SandboxEvent.Of(Transitions.Revive(sandbox.SandboxId, now, cause))) : null));
                update.Transaction = transaction;
                var changed = update.ExecuteNonQuery() == 1;
                outcome = !changed ? UpsertOutcome.Untouched
                    : status == SandboxStatusNames.Stale ? UpsertOutcome.Revived : UpsertOutcome.Refreshed;
            }
            else if (status is SandboxStatusNames.Reserved)
            {
                // Sync treats a held sandbox like an available one: refreshed, its hold left as it is.
                using var refresh = Command(connection,
                    "UPDATE sandboxes SET name = $name, external_id = $ext, sfdc_account_id = $sfdc, last_synced = $now " +
                    "WHERE sandbox_id = $id AND status = 'reserved'",
                    ("$name", sandbox.Name), ("$ext", sandbox.ExternalId), ("$sfdc", sandbox.SfdcAccountId), ("$now", now), ("$id", sandbox.SandboxId));
                refresh.Transaction = transaction;
                outcome = refresh.ExecuteNonQuery() == 1 ? UpsertOutcome.Refreshed : UpsertOutcome.Untouched;
            }
            else
            {
                outcome = UpsertOutcome.Untouched;
            }

            transaction.Commit();
            return outcome;
        }, ct);

    public Task<bool> RegisterAsync(UpstreamSandbox sandbox, long now, ChangeCause cause, CancellationToken ct) =>
        WriteAsync(connection => Insert(connection, null, sandbox, now, cause), ct);

    public async Task<SandboxHistory?> GetHistoryAsync(string sandboxId, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        await using var command = Command(connection, SqliteSchema.ReadHistory, ("$id", sandboxId));
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        return SandboxStatusNames.TryParse(reader.GetString(0), out var status)
            ? new SandboxHistory(sandboxId, status, SqliteHistory.Parse(reader.GetString(1)))
            : throw new InvalidDataException($"unknown sandbox status '{reader.GetString(0)}'");
    }

    public Task<bool> PurgeTombstoneAsync(string sandboxId, CancellationToken ct) =>
        WriteAsync(connection =>
        {
            using var command = Command(connection, "DELETE FROM sandboxes WHERE sandbox_id = $id AND status = 'deleted'", ("$id", sandboxId));
            return command.ExecuteNonQuery() == 1;
        }, ct);

    private static bool Insert(SqliteConnection connection, SqliteTransaction? transaction, UpstreamSandbox sandbox, long now, ChangeCause cause)
    {
        using var insert = Command(connection,
            "INSERT INTO sandboxes (sandbox_id, name, external_id, status, allocated_at, lab_duration_hours, deletion_retry_count, " +
            "last_synced, created_at, updated_at, sfdc_account_id, rnd, history) " +
            "SELECT $id, $name, $ext, 'available', 0, $hours, 0, $now, $created, $now, $sfdc, $rnd, " + SqliteHistory.First + " " +
            // One CSP account, one sandbox: never a second live record for an external_id (SPEC 11.3).
            "WHERE NOT EXISTS (SELECT 1 FROM sandboxes WHERE external_id = $ext AND status <> 'deleted') " +
            "ON CONFLICT (sandbox_id) DO NOTHING",
            ("$id", sandbox.SandboxId), ("$name", sandbox.Name), ("$ext", sandbox.ExternalId), ("$now", now),
            ("$created", sandbox.CreatedAt > 0 ? sandbox.CreatedAt : now), ("$sfdc", sandbox.SfdcAccountId),
            ("$hours", Sandbox.DefaultLabDurationHours), ("$rnd", Random.Shared.NextInt64()),
            ("$ev", SqliteHistory.Serialize(SandboxEvent.Created(cause, now))));
        insert.Transaction = transaction;
        return insert.ExecuteNonQuery() == 1;
    }

    public async Task<SandboxPage> ListAsync(SandboxQuery query, CancellationToken ct)
    {
        var where = new List<string>();
        var parameters = new List<(string, object?)> { ("$limit", query.Limit + 1) };
        if (query.Status is { } status)
        {
            where.Add("status = $status");
            parameters.Add(("$status", status.ToWire()));
        }
        else
        {
            where.Add("status <> 'deleted'");
        }

        if (query.NamePrefix is not null)
        {
            where.Add("name >= $p AND name < $pend");
            parameters.AddRange(PrefixParameters(query.NamePrefix));
        }

        if (query.TrackName is not null)
        {
            where.Add("track_name = $track");
            parameters.Add(("$track", query.TrackName));
        }

        if (query.Requester is not null)
        {
            where.Add("allocated_to_track = $holder");
            parameters.Add(("$holder", query.Requester));
        }

        if (query.After is not null)
        {
            where.Add("sandbox_id > $after");
            parameters.Add(("$after", query.After));
        }

        await using var connection = await OpenReaderAsync(ct);
        var sql = $"{Select} WHERE {string.Join(" AND ", where)} ORDER BY sandbox_id LIMIT $limit";
        var rows = ReadMany(connection, sql, [.. parameters]);
        if (rows.Count <= query.Limit)
        {
            return new SandboxPage(rows, null);
        }

        rows.RemoveAt(rows.Count - 1);
        return new SandboxPage(rows, rows[^1].SandboxId);
    }

    public async IAsyncEnumerable<Sandbox> ScanByStatusAsync(SandboxStatus status, [EnumeratorCancellation] CancellationToken ct)
    {
        string? after = null;
        while (true)
        {
            var page = await ListAsync(new SandboxQuery { Status = status, Limit = 500, After = after }, ct);
            foreach (var sandbox in page.Items)
            {
                yield return sandbox;
            }

            if (page.Next is null)
            {
                yield break;
            }

            after = page.Next;
        }
    }

    public IAsyncEnumerable<SandboxHistory> ScanHistoriesAsync(SandboxStatus status, CancellationToken ct) =>
        ScanHistoriesChangedSinceAsync(status, 0, ct);

    public async IAsyncEnumerable<SandboxHistory> ScanHistoriesChangedSinceAsync(
        SandboxStatus status, long since, [EnumeratorCancellation] CancellationToken ct)
    {
        var after = "";
        while (true)
        {
            var page = new List<SandboxHistory>(500);
            await using (var connection = await OpenReaderAsync(ct))
            await using (var command = Command(connection,
                "SELECT sandbox_id, history FROM sandboxes WHERE status = $s AND sandbox_id > $after AND updated_at >= $since " +
                "ORDER BY sandbox_id LIMIT 500",
                ("$s", status.ToWire()), ("$after", after), ("$since", since)))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    page.Add(new SandboxHistory(reader.GetString(0), status, SqliteHistory.Parse(reader.GetString(1))));
                }
            }

            foreach (var history in page)
            {
                yield return history;
            }

            if (page.Count < 500)
            {
                yield break;
            }

            after = page[^1].SandboxId;
        }
    }

    public async Task<PoolCounts> CountAsync(string? namePrefix, CancellationToken ct)
    {
        await using var connection = await OpenReaderAsync(ct);
        var sql = namePrefix is null
            ? "SELECT status, COUNT(*) FROM sandboxes GROUP BY status"
            : "SELECT status, COUNT(*) FROM sandboxes WHERE name >= $p AND name < $pend GROUP BY status";
        await using var command = Command(connection, sql, PrefixParameters(namePrefix));
        await using var reader = await command.ExecuteReaderAsync(ct);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        await reader.DisposeAsync();
        await using var unverified = Command(connection,
            "SELECT COUNT(*) FROM sandboxes WHERE status = 'deleted' AND deleted_at IS NOT NULL AND deletion_verified_at IS NULL" +
            (namePrefix is null ? "" : " AND name >= $p AND name < $pend"), PrefixParameters(namePrefix));
        var unverifiedCount = (long)(await unverified.ExecuteScalarAsync(ct))!;

        long Of(string status) => counts.GetValueOrDefault(status);
        return new PoolCounts(Of(SandboxStatusNames.Available), Of(SandboxStatusNames.Allocated), Of(SandboxStatusNames.PendingDeletion),
            Of(SandboxStatusNames.DeletionFailed), Of(SandboxStatusNames.Stale), Of(SandboxStatusNames.Deleted), Of(SandboxStatusNames.Reserved))
        {
            UnverifiedDeletions = unverifiedCount,
        };
    }

    public Task<long> AddToSequenceAsync(string name, long delta, CancellationToken ct) =>
        WriteAsync(connection =>
        {
            using var command = Command(connection,
                "INSERT INTO sequences (name, value) VALUES ($n, $d) ON CONFLICT (name) DO UPDATE SET value = value + $d RETURNING value",
                ("$n", name), ("$d", delta));
            return (long)command.ExecuteScalar()!;
        }, ct);

    public void Dispose()
    {
        allocations?.Dispose();
        writer?.Dispose();
        checkpointer?.Dispose(); // last: it holds a descriptor of the file whose closing drops the process's locks
        writeLock.Dispose();
    }
}
