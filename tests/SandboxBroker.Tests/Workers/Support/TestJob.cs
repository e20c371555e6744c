using SandboxBroker.Api.Storage;
using SandboxBroker.Api.Workers.Runner;

namespace SandboxBroker.Tests.Workers.Support;

/// <summary>A job whose passes are counted and can be held open, made to fail, or made to see an open circuit.</summary>
internal sealed class TestJob(string name, TimeSpan interval) : IBrokerJob
{
    private int passes;

    public string Name => name;

    public int Passes => Volatile.Read(ref passes);

    /// <summary>When set, a pass waits for it (so a test can look at the lock while the pass runs).</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>Signalled when a pass has started.</summary>
    public TaskCompletionSource Started { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Exception? Throw { get; set; }

    public List<JobTick> Ticks { get; } = [];

    public TimeSpan IntervalFor(JobState? state) => interval;

    public async Task<JobVerdict> RunPassAsync(JobProgress progress, CancellationToken ct)
    {
        Interlocked.Increment(ref passes);
        Started.TrySetResult();
        if (Hold is { } hold)
        {
            await hold.Task.WaitAsync(ct);
        }

        if (Throw is { } error)
        {
            throw error;
        }

        return JobVerdict.Success;
    }

    public void Observe(JobTick tick)
    {
        lock (Ticks)
        {
            Ticks.Add(tick);
        }
    }

    public void ResetStarted() => Started = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
