using SandboxBroker.Api.Storage.Sqlite;

namespace SandboxBroker.Tests.Storage;

/// <summary>
/// The embedded store's background checkpoint: under a writer that never pauses, the WAL still starts over from its
/// first frame (the pass under the write lock), so it neither grows to the writer's own bound (whose checkpoint ran
/// inside an allocation's commit) nor without end.
/// </summary>
public sealed class SqliteCheckpointerTests : IDisposable
{
    /// <summary>A WAL frame: a 24-byte header and a 4 KB page.</summary>
    private const long FrameBytes = 24 + 4096;

    private readonly string directory = Path.Combine(Path.GetTempPath(), "sbx-sqlite-checkpointer-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task The_wal_starts_over_while_a_writer_commits_without_pause_and_no_write_is_lost()
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "broker.db");
        using var store = new SqliteSandboxStore(path);
        await store.InitializeAsync(default);

        // Commit after commit, each its own transaction (each appends at least one frame), for four locked passes'
        // worth of periods, staying below the writer's own bound: only the background checkpoint can start the WAL over.
        // Meanwhile the WAL header's salt is sampled: SQLite draws a new one every time the WAL starts over.
        using var sampling = new CancellationTokenSource();
        var salts = SampleWalSaltsAsync(path + "-wal", sampling.Token);
        var commits = 0L;
        var stopAt = DateTime.UtcNow + (SqliteCheckpointer.Period * SqliteCheckpointer.PeriodsPerLockedPass * 4);
        while (DateTime.UtcNow < stopAt && commits < SqliteCheckpointer.WriterBoundPages * 3 / 4)
        {
            await store.AddToSequenceAsync("checkpointer-test", 1, default);
            commits++;
            // Through the thread pool's queue, as request handlers go (a synchronous loop would starve it), and a
            // pause now and then so a fast machine does not reach the commit cap within the first locked pass.
            if (commits % 20 == 0)
            {
                await Task.Delay(1);
            }
            else
            {
                await Task.Yield();
            }
        }

        await sampling.CancelAsync();
        var restarts = (await salts).Count - 1;
        var walBytes = new FileInfo(path + "-wal").Length;
        Assert.True(commits > 2000, $"only {commits} commits in the time given: the test proves nothing below that");
        Assert.True(restarts >= 2, $"the WAL started over {restarts} times in {commits} commits");
        // Without a restart the WAL would hold every frame appended: at least one per commit.
        Assert.True(walBytes < commits * FrameBytes / 2,
            $"the WAL holds {walBytes / FrameBytes} frames after {commits} commits: it did not start over");
        Assert.Equal(commits, await store.AddToSequenceAsync("checkpointer-test", 0, default));
    }

    /// <summary>The distinct salt-1 values (header bytes 16–19) the WAL had while sampled every few milliseconds.</summary>
    private static async Task<HashSet<uint>> SampleWalSaltsAsync(string walPath, CancellationToken ct)
    {
        var salts = new HashSet<uint>();
        var header = new byte[32];
        while (!ct.IsCancellationRequested)
        {
            // Safe beside SQLite: it locks the -shm file and the database, never the WAL.
            await using (var wal = new FileStream(walPath, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                if (await wal.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, CancellationToken.None) == header.Length)
                {
                    salts.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(16)));
                }
            }

            try
            {
                await Task.Delay(5, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return salts;
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still closing: the temp directory is cleaned up by the machine.
        }
    }
}
