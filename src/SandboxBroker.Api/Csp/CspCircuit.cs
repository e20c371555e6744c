using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using SandboxBroker.Api.Observability;

namespace SandboxBroker.Api.Csp;

/// <summary>
/// The one resilience pipeline every live CSP call runs through (<see cref="UpstreamCircuit"/>: a circuit breaker
/// over Csp:CircuitBreaker:* around a per-call timeout of Csp:RequestTimeout). No retry: one HTTP attempt per call, the
/// cleanup worker's per-sandbox backoff is the retry. Polly's "Polly" meter counts the breaker's and the timeout's
/// events under pipeline name "csp" for any OpenTelemetry or dotnet-counters listener.
/// </summary>
internal sealed partial class CspCircuit
{
    public const string PipelineName = "csp";

    public CspCircuit(IOptions<CspOptions> options, TimeProvider time, BrokerMetrics metrics, ILoggerFactory loggerFactory)
    {
        var settings = options.Value;
        var logger = loggerFactory.CreateLogger<CspCircuit>();
        RequestTimeout = settings.RequestTimeout;
        Pipeline = UpstreamCircuit.Build(
            PipelineName,
            settings.CircuitBreaker,
            settings.RequestTimeout,
            IsFailure,
            metrics.CspCircuitState,
            new UpstreamCircuit.Transitions(
                Opened: (seconds, lastError) => LogOpened(logger, seconds, lastError),
                HalfOpened: () => LogHalfOpened(logger),
                Closed: () => LogClosed(logger)),
            time,
            loggerFactory,
            StateProvider);
    }

    public ResiliencePipeline Pipeline { get; }

    /// <summary>For readiness and metrics only: callers never look at it before calling (it would never half-open).</summary>
    public CircuitBreakerStateProvider StateProvider { get; } = new();

    public TimeSpan RequestTimeout { get; }

    /// <summary>What the breaker counts: upstream faults, never the caller's own cancellation.</summary>
    internal static bool IsFailure(Exception? exception) =>
        exception is CspException csp ? csp.CountsAsFailure : UpstreamCircuit.IsTransportFailure(exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CSP circuit opened for {BreakSeconds} s after repeated failures (last: {LastError}); CSP calls are paused")]
    private static partial void LogOpened(ILogger logger, double breakSeconds, string lastError);

    [LoggerMessage(Level = LogLevel.Information, Message = "CSP circuit half-open: the next call probes CSP")]
    private static partial void LogHalfOpened(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "CSP circuit closed: CSP answers again")]
    private static partial void LogClosed(ILogger logger);
}
