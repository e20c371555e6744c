using Microsoft.Extensions.Options;

namespace SandboxBroker.Api.Csp;

/// <summary>Says at start-up which CSP the broker talks to; Simulated loudly, so nobody mistakes it for production.</summary>
internal sealed partial class CspModeAnnouncer(ICspProvider csp, IOptions<CspOptions> options, ILogger<CspModeAnnouncer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (csp.Mode == CspOptions.LiveMode)
        {
            LogLive(logger, options.Value.BaseUrl);
        }
        else
        {
            LogSimulated(logger, options.Value.Simulated.PoolSize, options.Value.Simulated.NamePrefix);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "CSP mode Live: {BaseUrl}")]
    private static partial void LogLive(ILogger logger, string baseUrl);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "CSP mode SIMULATED: no real CSP is called; an in-process pool of {PoolSize} sandboxes named {NamePrefix}-NNNN stands in for it")]
    private static partial void LogSimulated(ILogger logger, int poolSize, string namePrefix);
}
