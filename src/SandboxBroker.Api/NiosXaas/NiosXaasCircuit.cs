using Microsoft.Extensions.Options;
using Polly;
using SandboxBroker.Api.Csp;
using SandboxBroker.Api.Observability;

namespace SandboxBroker.Api.NiosXaas;

/// <summary>
/// The NIOSXaaS calls' own resilience pipeline (<see cref="UpstreamCircuit"/>: a circuit breaker over
/// NiosXaas:CircuitBreaker:* around a per-call timeout of NiosXaas:Timeout), no retry (one HTTP attempt per call).
/// Separate from the CSP circuit: NIOSXaaS being down opens this one only, and an open NIOSXaaS circuit fails the
/// step, never the account delete.
/// </summary>
internal sealed partial class NiosXaasCircuit
{
    public const string PipelineName = "niosxaas";

    public NiosXaasCircuit(IOptions<NiosXaasOptions> options, TimeProvider time, BrokerMetrics metrics, ILoggerFactory loggerFactory)
    {
        var settings = options.Value;
        var logger = loggerFactory.CreateLogger<NiosXaasCircuit>();
        RequestTimeout = settings.Timeout;
        Pipeline = UpstreamCircuit.Build(
            PipelineName,
            settings.CircuitBreaker,
            settings.Timeout,
            IsFailure,
            metrics.NiosXaasCircuitState,
            new UpstreamCircuit.Transitions(
                Opened: (seconds, lastError) => LogOpened(logger, seconds, lastError),
                HalfOpened: null,
                Closed: () => LogClosed(logger)),
            time,
            loggerFactory);
    }

    public ResiliencePipeline Pipeline { get; }

    public TimeSpan RequestTimeout { get; }

    /// <summary>Upstream faults (5xx, 429, timeouts, broken connections, bodies that are not the documented JSON).</summary>
    internal static bool IsFailure(Exception? exception) => exception switch
    {
        NiosXaasException nx => nx.CountsAsFailure,
        IOException => true,
        _ => UpstreamCircuit.IsTransportFailure(exception),
    };

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "NIOSXaaS circuit opened for {BreakSeconds} s after repeated failures (last: {LastError}); the pre-delete step is skipped, accounts are still deleted")]
    private static partial void LogOpened(ILogger logger, double breakSeconds, string lastError);

    [LoggerMessage(Level = LogLevel.Information, Message = "NIOSXaaS circuit closed: NIOSXaaS answers again")]
    private static partial void LogClosed(ILogger logger);
}

/// <summary>NIOSXaaS answered with an error or a malformed body, or not at all.</summary>
public sealed class NiosXaasException(string message, int? statusCode = null, Exception? inner = null) : Exception(message, inner)
{
    public int? StatusCode { get; } = statusCode;

    /// <summary>A fault the breaker counts (5xx, 429, timeout, connection failure, malformed body).</summary>
    public bool CountsAsFailure { get; init; }

    /// <summary>401: the JWT (or the credentials) were refused.</summary>
    public bool Unauthorized => StatusCode == 401;
}
