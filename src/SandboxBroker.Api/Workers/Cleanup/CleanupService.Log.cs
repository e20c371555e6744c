namespace SandboxBroker.Api.Workers.Cleanup;

internal sealed partial class CleanupService
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId} deleted upstream (attempt {Attempt}); tombstoned")]
    private static partial void LogDeleted(ILogger logger, string sandboxId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Sandbox {SandboxId} deletion attempt {Attempt} of {MaxAttempts} failed: {Error}; next attempt at {NextAttemptAt}")]
    private static partial void LogFailed(ILogger logger, string sandboxId, int attempt, int maxAttempts, string error, long nextAttemptAt);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Sandbox {SandboxId} deletion failed {Attempt} times (last: {Error}); now deletion_failed, an operator must retry it")]
    private static partial void LogGaveUp(ILogger logger, string sandboxId, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cleanup pass ended early: the CSP circuit is open; {Skipped} due sandboxes wait for the next pass")]
    private static partial void LogCircuitOpen(ILogger logger, int skipped);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Cleanup pass: {Due} due, {Deleted} deleted, {Failed} failed ({GaveUp} gave up), {Skipped} skipped, {DurationMs} ms")]
    private static partial void LogPass(ILogger logger, int due, int deleted, int failed, int gaveUp, int skipped, long durationMs);
}
