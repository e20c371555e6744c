namespace SandboxBroker.Api.Workers.Runner;

/// <summary>
/// Graceful shutdown for passes not owned by a worker (admin-triggered ones that outlived their request): on
/// SIGTERM they stop after their current step, and the host waits (bounded by its shutdown timeout) for them to
/// record their outcome and release their run locks.
/// </summary>
internal sealed class JobRunnerShutdown(JobRunner runner, IHostApplicationLifetime lifetime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(runner.BeginShutdown);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        runner.BeginShutdown();
        return runner.DrainAsync(cancellationToken);
    }
}
