using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using SandboxBroker.Api.Observability;

namespace SandboxBroker.Api.NiosXaas;

/// <summary>
/// The NIOSXaaS calls' own resilience pipeline: a circuit breaker (failure ratio 1.0, NiosXaas:CircuitBreaker:*)
/// around a per-call timeout of NiosXaas:Timeout, no retry (one HTTP attempt per call). Separate from the CSP circuit:
/// NIOSXaaS being down opens this one only, and an open NIOSXaaS circuit fails the step, never the account delete.
/// </summary>
internal sealed partial class NiosXaasCircuit
{
    public const string PipelineName = "niosxaas";

    public NiosXaasCircuit(IOptions<NiosXaasOptions> options, TimeProvider time, BrokerMetrics metrics, ILoggerFactory loggerFactory)
    {
        var settings = options.Value;
        var logger = loggerFactory.CreateLogger<NiosXaasCircuit>();
        RequestTimeout = settings.Timeout;
        Pipeline = new ResiliencePipelineBuilder { Name = PipelineName, TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 1.0,
                MinimumThroughput = settings.CircuitBreaker.MinimumThroughput,
                SamplingDuration = settings.CircuitBreaker.SamplingDuration,
                BreakDuration = settings.CircuitBreaker.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(IsFailure(args.Outcome.Exception)),
                OnOpened = args =>
                {
                    metrics.NiosXaasCircuitState.Set(1);
                    LogOpened(logger, args.BreakDuration.TotalSeconds, args.Outcome.Exception?.Message ?? "");
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    metrics.NiosXaasCircuitState.Set(2);
                    return default;
                },
                OnClosed = _ =>
                {
                    metrics.NiosXaasCircuitState.Set(0);
                    LogClosed(logger);
                    return default;
                },
            })
            .AddTimeout(settings.Timeout)
            .ConfigureTelemetry(loggerFactory)
            .Build();
        metrics.NiosXaasCircuitState.Set(0);
    }

    public ResiliencePipeline Pipeline { get; }

    public TimeSpan RequestTimeout { get; }

    /// <summary>Upstream faults (5xx, 429, timeouts, broken connections, bodies that are not the documented JSON).</summary>
    internal static bool IsFailure(Exception? exception) => exception switch
    {
        NiosXaasException nx => nx.CountsAsFailure,
        TimeoutRejectedException => true,
        HttpRequestException => true,
        TaskCanceledException { InnerException: TimeoutException } => true,
        System.Text.Json.JsonException => true,
        IOException => true,
        _ => false,
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
