using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using static SandboxBroker.Api.Storage.Sqlite.SqliteRows;

namespace SandboxBroker.Api.Storage.Sqlite;

/// <summary>
/// Allocation plans on the writer, with group commit: plans queue up, and one loop takes everything queued (up to
/// <see cref="MaxBatch"/>) under the write lock and runs it as one transaction, each plan inside its own savepoint (so
/// one that throws rolls back alone). A caller hears its result only after that transaction committed. A burst then
/// costs one commit (WAL append, locks) per batch instead of per allocation, and every read comes from the writer's
/// warm page cache (a reader connection's cache is dropped by every commit, which made reads the dominant cost).
/// </summary>
internal sealed class SqliteAllocationQueue : IDisposable
{
    private const int MaxBatch = 64;
    private readonly Channel<PendingPlan> queue = Channel.CreateUnbounded<PendingPlan>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection writer;
    private readonly SemaphoreSlim writeLock;
    private readonly SqliteAllocationSession session;
    private readonly Task loop;

    public SqliteAllocationQueue(SqliteConnection writer, SemaphoreSlim writeLock)
    {
        this.writer = writer;
        this.writeLock = writeLock;
        session = new SqliteAllocationSession(writer);
        loop = Task.Run(RunLoopAsync);
    }

    public async Task<T> RunAsync<T>(AllocationPlan<T> plan, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var pending = new PendingPlan<T>(plan, ct);
        ObjectDisposedException.ThrowIf(!queue.Writer.TryWrite(pending), this);

        // Cancelled while still queued: it never runs. Once the loop has taken it, it runs to its commit (or, when
        // the plan itself stops on the cancellation, to its savepoint's rollback) and the caller hears the outcome.
        await using (ct.Register(static state => ((PendingPlan)state!).TryCancel(), pending))
        {
            return await pending.Done.Task;
        }
    }

    public void Dispose()
    {
        queue.Writer.TryComplete();
        loop.Wait(TimeSpan.FromSeconds(10));
        session.Dispose();
    }

    [SuppressMessage("Design", "CA1031:Do not catch general exception types",
        Justification = "The failure is handed to every caller of the batch; the loop itself must keep serving.")]
    private async Task RunLoopAsync()
    {
        var reader = queue.Reader;
        var batch = new List<PendingPlan>(MaxBatch);
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
                        RunBatch(batch);
                    }
                }
                finally
                {
                    writeLock.Release();
                }
            }
            catch (Exception ex)
            {
                // Never leave a caller waiting: whatever went wrong outside the batch fails every plan taken.
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

    [SuppressMessage("Design", "CA1031:Do not catch general exception types",
        Justification = "A plan's failure is rolled back and handed to its caller; the other plans of the batch commit.")]
    private void RunBatch(List<PendingPlan> batch)
    {
        try
        {
            using var transaction = writer.BeginTransaction();
            session.Enlist(transaction);
            foreach (var pending in batch)
            {
                session.Savepoint.ExecuteNonQuery();
                try
                {
                    pending.Run(session);
                    session.ReleaseSavepoint.ExecuteNonQuery();
                }
                catch (Exception ex)
                {
                    // The plan wrote nothing that survives; its caller gets the exception, the others go on.
                    session.RollbackToSavepoint.ExecuteNonQuery();
                    session.ReleaseSavepoint.ExecuteNonQuery();
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

    /// <summary>One queued plan: queued → taken by the loop (runs to its commit), or queued → cancelled (never runs).</summary>
    private abstract class PendingPlan
    {
        private const int Queued = 0;
        private const int Taken = 1;
        private const int Cancelled = 2;
        private int state;

        protected Exception? Error { get; private set; }

        public bool TryTake() => Interlocked.CompareExchange(ref state, Taken, Queued) == Queued;

        public void TryCancel()
        {
            if (Interlocked.CompareExchange(ref state, Cancelled, Queued) == Queued)
            {
                Cancel();
            }
        }

        /// <summary>Runs the plan on the writer; it must complete without waiting (every session call does).</summary>
        public abstract void Run(IAllocationSession session);

        public void Fail(Exception exception) => Error = exception;

        /// <summary>After the batch's commit (or its failure): the caller sees the outcome only now.</summary>
        public abstract void Publish();

        protected abstract void Cancel();

        protected static Exception Translate(Exception error) => error is SqliteException sqlite && IsOutage(sqlite)
            ? new StoreUnavailableException("the SQLite store failed a write", sqlite)
            : error;
    }

    private sealed class PendingPlan<T>(AllocationPlan<T> plan, CancellationToken ct) : PendingPlan
    {
        private T? result;

        public TaskCompletionSource<T> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run(IAllocationSession session)
        {
            var running = plan(session, ct);
            if (!running.IsCompleted)
            {
                // Waiting here would hold the writer (and every other caller) hostage to whatever it waits for.
                throw new InvalidOperationException("an allocation plan waited on something other than the SQLite session");
            }

            result = running.Result;
        }

        public override void Publish()
        {
            if (Error is { } error)
            {
                if (error is OperationCanceledException && ct.IsCancellationRequested)
                {
                    Done.TrySetCanceled(ct);
                }
                else
                {
                    Done.TrySetException(Translate(error));
                }
            }
            else
            {
                Done.TrySetResult(result!);
            }
        }

        protected override void Cancel() => Done.TrySetCanceled(ct);
    }
}
