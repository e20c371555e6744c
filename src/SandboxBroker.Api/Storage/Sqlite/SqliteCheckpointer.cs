using System.Diagnostics.CodeAnalysis;
using Microsoft.Data.Sqlite;

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>
/// Copies the WAL into the database file off the request path: a passive checkpoint on its own connection every
/// <see cref="Period"/>, beside the writer (passive: it never blocks the writer or a reader, and stops short of frames
/// a reader still needs). Without it, the checkpoint (page copies and an fsync) ran inside the commit of whichever
/// allocation batch crossed the threshold, and every allocation queued behind it waited: that was the burst's p99.
/// The writer keeps its own automatic checkpoint as the bound on the WAL (<see cref="WriterBoundPages"/>): once the
/// WAL is that large it checkpoints what is left — little, since this loop copied the rest — and the WAL starts over.
/// </summary>
internal sealed class SqliteCheckpointer : IDisposable
{
    /// <summary>How often the background checkpoint runs; a quiet store's checkpoint finds nothing and costs nothing.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(200);

    /// <summary>The writer's wal_autocheckpoint (pages of 4 KB): the WAL's bound when this loop falls behind.</summary>
    public const int WriterBoundPages = 8000;

    private readonly string connectionString;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task loop;
    private int disposed;

    public SqliteCheckpointer(string connectionString)
    {
        this.connectionString = connectionString;
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
                }

                await command.ExecuteNonQueryAsync(stopping.Token);
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
}
