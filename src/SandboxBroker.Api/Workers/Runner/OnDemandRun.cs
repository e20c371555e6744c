using System.Runtime.ExceptionServices;

namespace SandboxBroker.Api.Workers.Runner;

/// <summary>What an admin-triggered pass came to.</summary>
internal abstract record OnDemandRun<T>
{
    private OnDemandRun()
    {
    }

    public sealed record Completed(T Result, string RunId) : OnDemandRun<T>;

    /// <summary>Our pass is still running after the wait; it goes on in the background under <see cref="Holder"/>'s lock.</summary>
    public sealed record Running(string Holder, string RunId) : OnDemandRun<T>;

    /// <summary>
    /// Another pass kept the run lock for the whole wait (holder null: it was released just now); <see cref="RunId"/> is
    /// that pass's run, when the store knows it.
    /// </summary>
    public sealed record Busy(string? Holder, string? RunId) : OnDemandRun<T>;

    /// <summary>This instance is shutting down and starts no more passes.</summary>
    public sealed record Stopping : OnDemandRun<T>;
}

/// <summary>A finished pass: its result or the exception it ended with, and the verdict recorded for it.</summary>
internal sealed record PassOutcome<T>(T? Result, JobVerdict Verdict, Exception? Error)
{
    public void ThrowIfFailed()
    {
        if (Error is not null)
        {
            ExceptionDispatchInfo.Capture(Error).Throw();
        }
    }
}

/// <summary>Which pass runs: the job, its run id (the record's key) and what triggered it (schedule or admin).</summary>
internal sealed record PassRun(string Job, string RunId, string Trigger);
