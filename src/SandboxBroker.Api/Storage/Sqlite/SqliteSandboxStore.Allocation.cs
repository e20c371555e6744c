using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>
/// The whole allocation on the writer (see <see cref="ISingleWriterAllocation"/>), with group commit: allocations
/// queue up, and one loop takes everything queued (up to <see cref="MaxBatch"/>) under the write lock and runs it as
/// one transaction, each allocation inside its own savepoint (so a failing one rolls back alone). A caller hears its
/// result only after that transaction committed. A burst then costs one commit (WAL append, locks) per batch instead
/// of per allocation, and pages that several claims touch are written once.
/// </summary>
internal sealed partial class SqliteSandboxStore : ISingleWriterAllocation
{
    private const int MaxBatch = 64;
    private const int MaxWindows = 8;
    private readonly Channel<PendingAllocation> pendingAllocations =
        Channel.CreateUnbounded<PendingAllocation>(new UnboundedChannelOptions { SingleReader = true });
    private Task? allocationLoop;
    private AllocationCommands? allocationCommands;

    public async Task<SingleWriterAllocation> AllocateAsync(SingleWriterAllocationRequest request, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (allocationLoop is null)
        {
            throw new InvalidOperationException("the store is not initialised");
        }

        var pending = new PendingAllocation(request);
        ObjectDisposedException.ThrowIf(!pendingAllocations.Writer.TryWrite(pending), this);

        // Cancelled while still queued: it never runs. Once the loop has taken it, it runs to its commit and the
        // caller gets its outcome (as a claim under the write lock always did).
        await using (ct.Register(static state => ((PendingAllocation)state!).TryCancel(), pending))
        {
            return await pending.Done.Task;
        }
    }

    private void StartAllocationLoop() => allocationLoop ??= Task.Run(RunAllocationLoopAsync);

    private void StopAllocationLoop()
    {
        pendingAllocations.Writer.TryComplete();
        allocationLoop?.Wait(TimeSpan.FromSeconds(10));
        allocationCommands?.Dispose();
    }

    private async Task RunAllocationLoopAsync()
    {
        var reader = pendingAllocations.Reader;
        var batch = new List<PendingAllocation>(MaxBatch);
        while (await reader.WaitToReadAsync())
        {
            try
            {
                await writeLock.WaitAsync();
                try
                {
                    while (batch.Count < MaxBatch && reader.TryRead(out var next))
                    {
                        if (next.TryTake())
                        {
                            batch.Add(next);
                        }
                    }

                    if (batch.Count > 0)
                    {
                        RunBatch(Writer, batch);
                    }
                }
                finally
                {
                    writeLock.Release();
                }
            }
            catch (Exception ex)
            {
                // Never leave a caller waiting: whatever went wrong outside the batch fails every allocation taken.
                foreach (var pending in batch)
                {
                    pending.Fail(ex);
                }
            }

            foreach (var pending in batch)
            {
                pending.Publish();
            }

            batch.Clear();
        }
    }

    private void RunBatch(SqliteConnection connection, List<PendingAllocation> batch)
    {
        var commands = allocationCommands ??= new AllocationCommands(connection);
        try
        {
            using var transaction = connection.BeginTransaction();
            commands.Enlist(transaction);
            foreach (var pending in batch)
            {
                commands.Savepoint.ExecuteNonQuery();
                try
                {
                    pending.Succeed(Allocate(commands, pending.Request));
                    commands.ReleaseSavepoint.ExecuteNonQuery();
                }
                catch (Exception ex) when (ex is SqliteException or StoreUnavailableException or InvalidDataException)
                {
                    commands.RollbackToSavepoint.ExecuteNonQuery();
                    commands.ReleaseSavepoint.ExecuteNonQuery();
                    pending.Fail(ex);
                }
            }

            transaction.Commit();
        }
        catch (SqliteException ex)
        {
            // The commit (or the transaction itself) failed: nothing of this batch was written.
            foreach (var pending in batch)
            {
                pending.Fail(ex);
            }
        }
    }

    private static SingleWriterAllocation Allocate(AllocationCommands commands, SingleWriterAllocationRequest request)
    {
        var recorded = commands.ReadKey(request.Requester, request.IdempotencyKey);
        if (recorded is not null && commands.ReadSandbox(recorded) is { Status: SandboxStatus.Allocated } held && held.IsHeldBy(request.Requester))
        {
            return new SingleWriterAllocation.Held(held);
        }

        // Only this connection writes, so the first conditional claim of a window wins; the loop is a safeguard.
        for (var window = 0; window < MaxWindows; window++)
        {
            var candidates = commands.CandidateRows(request.NamePrefix, request.CandidateCount);
            if (candidates.Count == 0)
            {
                return new SingleWriterAllocation.PoolEmpty();
            }

            Random.Shared.Shuffle(CollectionsMarshal.AsSpan(candidates));
            foreach (var rowId in candidates)
            {
                if (commands.Claim(rowId, request) is not { } claimed)
                {
                    continue;
                }

                // The idempotency record was read in this transaction: absent, or naming the released sandbox.
                commands.RecordKey(request.Requester, request.IdempotencyKey, claimed.SandboxId, request.Now);
                return new SingleWriterAllocation.Claimed(claimed, recorded is not null);
            }
        }

        throw new StoreUnavailableException("the SQLite store found candidates but could not claim one");
    }

    /// <summary>
    /// The allocation's statements on the writer connection, prepared once and re-run with new parameter values
    /// (preparing them for every allocation cost more than running them). Used only by the allocation loop, under the
    /// write lock.
    /// </summary>
    private sealed class AllocationCommands
    {
        private readonly SqliteCommand readKey;
        private readonly SqliteCommand readSandbox;
        private readonly SqliteCommand[] window;
        private readonly SqliteCommand[] prefixWindow;
        private readonly SqliteCommand claim;
        private readonly SqliteCommand recordKey;
        private readonly SqliteCommand[] all;

        public AllocationCommands(SqliteConnection connection)
        {
            SqliteCommand Make(string sql, params string[] parameters)
            {
                var command = connection.CreateCommand();
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
            readKey = Make("SELECT sandbox_id FROM idempotency WHERE requester = $r AND idempotency_key = $k", "$r", "$k");
            readSandbox = Make(Select + " WHERE sandbox_id = $id", "$id");
            window = [.. new[] { ">=", "<" }.Select(op => Make(
                $"SELECT rowid FROM sandboxes INDEXED BY ix_sandboxes_status_rnd WHERE status = 'available' AND rnd {op} $r ORDER BY rnd LIMIT $k",
                "$r", "$k"))];
            prefixWindow = [.. new[] { ">=", "<" }.Select(op => Make(
                "SELECT rowid FROM sandboxes INDEXED BY ix_sandboxes_status_name WHERE status = 'available' AND name >= $p AND name < $pend " +
                $"AND rnd {op} $r ORDER BY rnd LIMIT $k",
                "$p", "$pend", "$r", "$k"))];
            claim = Make(
                "UPDATE sandboxes SET status = 'allocated', allocated_to_track = $r, allocated_at = $now, idempotency_key = $k, " +
                "track_name = $track, expires_at = $exp, lab_duration_hours = $hours, updated_at = $now " +
                "WHERE rowid = $rowid AND status = 'available' RETURNING " + SqliteSchema.Columns,
                "$r", "$now", "$k", "$track", "$exp", "$hours", "$rowid");
            recordKey = Make(
                "INSERT INTO idempotency (requester, idempotency_key, sandbox_id, updated_at) VALUES ($r, $k, $id, $now) " +
                "ON CONFLICT (requester, idempotency_key) DO UPDATE SET sandbox_id = excluded.sandbox_id, updated_at = excluded.updated_at",
                "$r", "$k", "$id", "$now");
            all = [Savepoint, ReleaseSavepoint, RollbackToSavepoint, readKey, readSandbox, .. window, .. prefixWindow, claim, recordKey];
        }

        public SqliteCommand Savepoint { get; }

        public SqliteCommand ReleaseSavepoint { get; }

        public SqliteCommand RollbackToSavepoint { get; }

        public void Enlist(SqliteTransaction transaction)
        {
            foreach (var command in all)
            {
                command.Transaction = transaction;
            }
        }

        public string? ReadKey(string requester, string key)
        {
            readKey.Parameters[0].Value = requester;
            readKey.Parameters[1].Value = key;
            return readKey.ExecuteScalar() as string;
        }

        public Sandbox? ReadSandbox(string sandboxId)
        {
            readSandbox.Parameters[0].Value = sandboxId;
            return ReadOne(readSandbox);
        }

        /// <summary>Row ids of up to <paramref name="limit"/> available sandboxes from a random point of the pool (wrapping around).</summary>
        public List<long> CandidateRows(string? namePrefix, int limit)
        {
            var start = Random.Shared.NextInt64();
            var rows = new List<long>(limit);
            foreach (var command in namePrefix is null ? window : prefixWindow)
            {
                if (rows.Count >= limit)
                {
                    break;
                }

                var p = command.Parameters;
                if (namePrefix is not null)
                {
                    p["$p"].Value = namePrefix;
                    p["$pend"].Value = namePrefix[..^1] + (char)(namePrefix[^1] + 1);
                }

                p["$r"].Value = start;
                p["$k"].Value = limit - rows.Count;
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    rows.Add(reader.GetInt64(0));
                }
            }

            return rows;
        }

        public Sandbox? Claim(long rowId, SingleWriterAllocationRequest request)
        {
            var p = claim.Parameters;
            p[0].Value = request.Requester;
            p[1].Value = request.Now;
            p[2].Value = request.IdempotencyKey;
            p[3].Value = (object?)request.TrackName ?? DBNull.Value;
            p[4].Value = request.ExpiresAt;
            p[5].Value = request.LabDurationHours;
            p[6].Value = rowId;
            return ReadOne(claim);
        }

        public void RecordKey(string requester, string key, string sandboxId, long now)
        {
            var p = recordKey.Parameters;
            p[0].Value = requester;
            p[1].Value = key;
            p[2].Value = sandboxId;
            p[3].Value = now;
            recordKey.ExecuteNonQuery();
        }

        public void Dispose()
        {
            foreach (var command in all)
            {
                command.Dispose();
            }
        }
    }

    /// <summary>One queued allocation: queued → taken by the loop (runs to its commit), or queued → cancelled (never runs).</summary>
    private sealed class PendingAllocation(SingleWriterAllocationRequest request)
    {
        private const int Queued = 0;
        private const int Taken = 1;
        private const int Cancelled = 2;
        private int state;
        private SingleWriterAllocation? result;
        private Exception? error;

        public SingleWriterAllocationRequest Request => request;

        public TaskCompletionSource<SingleWriterAllocation> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool TryTake() => Interlocked.CompareExchange(ref state, Taken, Queued) == Queued;

        public void TryCancel()
        {
            if (Interlocked.CompareExchange(ref state, Cancelled, Queued) == Queued)
            {
                Done.TrySetCanceled();
            }
        }

        public void Succeed(SingleWriterAllocation outcome) => result = outcome;

        public void Fail(Exception exception)
        {
            result = null;
            error = exception;
        }

        /// <summary>After the batch's commit (or its failure): the caller sees the outcome only now.</summary>
        public void Publish()
        {
            if (error is SqliteException { SqliteErrorCode: 5 or 6 or 10 or 13 or 14 } sqlite) // BUSY, LOCKED, IOERR, FULL, CANTOPEN
            {
                Done.TrySetException(new StoreUnavailableException("the SQLite store failed a write", sqlite));
            }
            else if (error is not null)
            {
                Done.TrySetException(error);
            }
            else
            {
                Done.TrySetResult(result ?? throw new InvalidOperationException("an allocation was taken but not run"));
            }
        }
    }
}
