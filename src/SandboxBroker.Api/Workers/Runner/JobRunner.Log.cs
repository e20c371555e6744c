namespace SandboxBroker.Api.Workers.Runner;

internal sealed partial class JobRunner
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {Job} pass started on {Owner}")]
    private static partial void LogPassStarted(ILogger logger, string job, string owner);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Job} pass ended: {Outcome} in {DurationMs} ms")]
    private static partial void LogPassEnded(ILogger logger, string job, string outcome, long durationMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Job} pass failed")]
    private static partial void LogPassFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {Job} is due but runs elsewhere ({Holder})")]
    private static partial void LogNotOurs(ILogger logger, string job, string holder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} lost its run lock; the pass stops after its current step")]
    private static partial void LogLeaseLost(ILogger logger, string job);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} could not renew its run lock: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, string job, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} could not record its outcome: {Reason}")]
    private static partial void LogCompleteFailed(ILogger logger, string job, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown: {Count} job passes were still running")]
    private static partial void LogDrainTimedOut(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {Job} run {RunId}: its record could not be stored ({Reason})")]
    private static partial void LogRunNotSaved(ILogger logger, string job, string runId, string reason);
}
