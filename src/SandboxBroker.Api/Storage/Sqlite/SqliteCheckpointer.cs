using System.Diagnostics.CodeAnalysis;
using Microsoft.Data.Sqlite;

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>
/// Copies the WAL into the database file off the request path, on its own connection every <see cref="Period"/>, in
/// two phases. First passive checkpoints beside the writer (they never block it) copy what the WAL holds, each followed
/// by an fsync of the database file, until what the writer appended during one is small; an fsync of the WAL follows.
/// Then, every <see cref="PeriodsPerLockedPass"/> periods and holding the write lock between two writer batches, one
/// more passive checkpoint copies the small rest and syncs it: the WAL is then wholly in the database, and the
/// writer's next transaction starts it over from its first frame. The writer's own automatic checkpoint
/// (<see cref="WriterBoundPages"/>) stays as the bound should this loop fall behind.
/// Why: under a steady stream of allocations a checkpoint beside the writer never reaches the WAL's end (the writer
/// appends while it copies), so the WAL grew to the writer's bound every ~0.4 s and the writer's own checkpoint then
/// copied and fsynced tens of megabytes inside an allocation batch's commit (35–90 ms): that was the p99 at a 100,000
/// pool. And SQLite fsyncs the database file only in the pass that reaches the WAL's end, so without the fsyncs here
/// the locked pass would write back every page of the cycle while the writer waits (BENCHMARKS.md, "WAL checkpoints").
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    /// <summary>How often a pass beside the writer runs; a quiet store's pass finds nothing and costs nothing.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Every this many periods (one second) the cycle ends with the pass under the lock. Each one holds the writer for
    /// two fsyncs (~10 ms here), so once a second rather than every period keeps the requests it delays near 1 %;
    /// the passes between keep what it has to copy small.
    /// </summary>
    public const int PeriodsPerLockedPass = 5;

    /// <summary>
    /// The writer's wal_autocheckpoint (pages of 4 KB): the WAL's bound should this loop fall behind. A sustained
    /// stream of allocations appends about 27,000 frames a second here, so this leaves twice the room one cycle needs.
    /// </summary>
    public const int WriterBoundPages = 64000;

    /// <summary>The catch-up passes stop once the writer appended fewer frames than this during one (about 4 MB).</summary>
    private const int LockedPassFrames = 1000;

    /// <summary>Catch-up passes before a locked pass at most, so a writer faster than the disk still gets its locked pass.</summary>
    private const int MaxCatchUpPasses = 4;

    private readonly string connectionString;
    private readonly SemaphoreSlim writeLock;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task loop;
    private FileStream? databaseFile;
    private FileStream? walFile;
    private WalState settled = new(-1, -1);
    private long periods;
    private int disposed;

    public SqliteCheckpointer(string connectionString, SemaphoreSlim writeLock)
    {
        this.connectionString = connectionString;
        this.writeLock = writeLock;
        loop = Task.Run(RunAsync);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return; // the host may dispose the store more than once
        }

        stopping.Cancel();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // The loop ends on the cancellation; nothing else escapes it.
        }

        stopping.Dispose();
        // Closing a descriptor of the database file drops every POSIX lock this process holds on it (SQLite's
        // included), so this one closes only here, when the store is shutting down.
        databaseFile?.Dispose();
        walFile?.Dispose();
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types",
        Justification = "A failed background checkpoint is retried next period; the writer's own checkpoint bounds the WAL meanwhile.")]
    private async Task RunAsync()
    {
        // Not pooled: this connection lives as long as the store and must not be handed to a reader.
        var builder = new SqliteConnectionStringBuilder(connectionString) { Pooling = false };
        await using var connection = new SqliteConnection(builder.ToString());
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Period, stopping.Token);
                if (connection.State != System.Data.ConnectionState.Open)
                {
                    await connection.OpenAsync(stopping.Token);
                    // A connection opens the WAL on its first read; until then wal_checkpoint answers -1 and does nothing.
                    await using var read = connection.CreateCommand();
                    read.CommandText = "SELECT COUNT(*) FROM sqlite_master";
                    await read.ExecuteScalarAsync(stopping.Token);
                }

                databaseFile ??= OpenToSync(connection.DataSource);
                walFile ??= OpenToSync(connection.DataSource + "-wal");
                var wal = await CheckpointAsync(command);
                if (wal == settled)
                {
                    continue; // nothing written since the last locked pass: no fsync, no lock
                }

                databaseFile?.Flush(flushToDisk: true);
                if (++periods % PeriodsPerLockedPass != 0)
                {
                    continue;
                }

                // A pass copies the WAL as it was when the pass began; the next one finds what the writer appended
                // meanwhile. Passes beside the writer go on while that is large, then one pass under the lock ends it.
                for (var pass = 1; pass < MaxCatchUpPasses; pass++)
                {
                    var now = await CheckpointAsync(command);
                    databaseFile?.Flush(flushToDisk: true);
                    var appended = now.Frames - wal.Frames;
                    wal = now;
                    if (appended < LockedPassFrames)
                    {
                        break;
                    }
                }

                // The WAL's newest frames, written back beside the writer too: the locked pass's own fsync of the WAL
                // then finds only what the writer appended since.
                walFile?.Flush(flushToDisk: true);
                await writeLock.WaitAsync(stopping.Token);
                try
                {
                    settled = await CheckpointAsync(command);
                }
                finally
                {
                    writeLock.Release();
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // The file is unreachable for now (disk, permissions): the writer reports that on its own path.
            }
        }
    }

    /// <summary>One passive checkpoint: the WAL's frames when it began and the frames copied by now (-1, -1 when it could not run).</summary>
    private async Task<WalState> CheckpointAsync(SqliteCommand command)
    {
        await using var reader = await command.ExecuteReaderAsync(stopping.Token);
        return await reader.ReadAsync(stopping.Token) ? new WalState(reader.GetInt64(1), reader.GetInt64(2)) : new WalState(-1, -1);
    }

    /// <summary>A descriptor to fsync a file through (never read or written); null when there is no such file (in memory).</summary>
    private static FileStream? OpenToSync(string path) =>
        File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete) : null;

    private readonly record struct WalState(long Frames, long Copied);
}
