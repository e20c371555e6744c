using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using SandboxBroker.Api.Observability;

namespace SandboxBroker.Api.Csp;

/// <summary>
/// The one resilience pipeline every live CSP call runs through: a circuit breaker (failure ratio
/// 1.0 over Csp:CircuitBreaker:SamplingDuration once MinimumThroughput calls were seen, open for BreakDuration)
/// around a per-call timeout of Csp:RequestTimeout. No retry: one HTTP attempt per call, the cleanup worker's
/// per-sandbox backoff is the retry. Timers come from the injected <see cref="TimeProvider"/>. Polly's own telemetry
/// is on (Polly.Extensions): its "Polly" meter counts the breaker's and the timeout's events under pipeline name "csp"
/// for any OpenTelemetry or dotnet-counters listener, and its log lines name the pipeline.
/// </summary>
internal sealed partial class CspCircuit
{
    public const string PipelineName = "csp";

    public CspCircuit(IOptions<CspOptions> options, TimeProvider time, BrokerMetrics metrics, ILoggerFactory loggerFactory)
    {
        var settings = options.Value;
        var logger = loggerFactory.CreateLogger<CspCircuit>();
        RequestTimeout = settings.RequestTimeout;
        Pipeline = new ResiliencePipelineBuilder { Name = PipelineName, TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 1.0,
                MinimumThroughput = settings.CircuitBreaker.MinimumThroughput,
                SamplingDuration = settings.CircuitBreaker.SamplingDuration,
                BreakDuration = settings.CircuitBreaker.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(IsFailure(args.Outcome.Exception)),
                StateProvider = StateProvider,
                OnOpened = args =>
                {
                    metrics.CspCircuitState.Set(1);
                    LogOpened(logger, args.BreakDuration.TotalSeconds, args.Outcome.Exception?.Message ?? "");
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    metrics.CspCircuitState.Set(2);
                    LogHalfOpened(logger);
                    return default;
                },
                OnClosed = _ =>
                {
                    metrics.CspCircuitState.Set(0);
                    LogClosed(logger);
                    return default;
                },
            })
            .AddTimeout(settings.RequestTimeout)
            .ConfigureTelemetry(loggerFactory)
            .Build();
        metrics.CspCircuitState.Set(0);
    }

    public ResiliencePipeline Pipeline { get; }

    /// <summary>For readiness and metrics only: callers never look at it before calling (it would never half-open).</summary>
    public CircuitBreakerStateProvider StateProvider { get; } = new();

    public TimeSpan RequestTimeout { get; }

    /// <summary>What the breaker counts: upstream faults, never the caller's own cancellation.</summary>
    internal static bool IsFailure(Exception? exception) => exception switch
    {
        CspException csp => csp.CountsAsFailure,
        TimeoutRejectedException => true,
        HttpRequestException => true,
        TaskCanceledException { InnerException: TimeoutException } => true, // HttpClient.Timeout, the backstop
        System.Text.Json.JsonException => true,
        _ => false,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "CSP circuit opened for {BreakSeconds} s after repeated failures (last: {LastError}); CSP calls are paused")]
    private static partial void LogOpened(ILogger logger, double breakSeconds, string lastError);

    [LoggerMessage(Level = LogLevel.Information, Message = "CSP circuit half-open: the next call probes CSP")]
    private static partial void LogHalfOpened(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "CSP circuit closed: CSP answers again")]
    private static partial void LogClosed(ILogger logger);
}
