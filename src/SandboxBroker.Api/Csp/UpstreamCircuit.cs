using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Prometheus;

namespace SandboxBroker.Api.Csp;

/// <summary>
/// How an upstream's resilience pipeline is built (CSP's, NIOSXaaS's): a circuit breaker (failure ratio 1.0 over
/// SamplingDuration once MinimumThroughput calls were seen, open for BreakDuration) around a per-call timeout, no
/// retry. Each upstream keeps its own circuit, state gauge (0 closed, 1 open, 2 half-open) and log lines, so one being
/// down never opens the other. Timers come from the injected <see cref="TimeProvider"/>; Polly's own telemetry is on
/// (its "Polly" meter and log lines name the pipeline).
/// </summary>
internal static class UpstreamCircuit
{
    /// <summary>What the circuit says when it changes state (the upstream's own log lines).</summary>
    public sealed record Transitions(Action<double, string> Opened, Action? HalfOpened, Action Closed);

    public static ResiliencePipeline Build(
        string name,
        CircuitBreakerOptions breaker,
        TimeSpan callTimeout,
        Func<Exception?, bool> isFailure,
        Gauge state,
        Transitions transitions,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        CircuitBreakerStateProvider? stateProvider = null)
    {
        var pipeline = new ResiliencePipelineBuilder { Name = name, TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 1.0,
                MinimumThroughput = breaker.MinimumThroughput,
                SamplingDuration = breaker.SamplingDuration,
                BreakDuration = breaker.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(isFailure(args.Outcome.Exception)),
                StateProvider = stateProvider,
                OnOpened = args =>
                {
                    state.Set(1);
                    transitions.Opened(args.BreakDuration.TotalSeconds, args.Outcome.Exception?.Message ?? "");
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    state.Set(2);
                    transitions.HalfOpened?.Invoke();
                    return default;
                },
                OnClosed = _ =>
                {
                    state.Set(0);
                    transitions.Closed();
                    return default;
                },
            })
            .AddTimeout(callTimeout)
            .ConfigureTelemetry(loggerFactory)
            .Build();
        state.Set(0);
        return pipeline;
    }

    /// <summary>
    /// The faults every upstream's breaker counts beside its own error type: the per-call timeout, connection failures,
    /// HttpClient's own timeout (the backstop), and bodies that are not the documented JSON. Never the caller's own
    /// cancellation.
    /// </summary>
    public static bool IsTransportFailure(Exception? exception) => exception is
        TimeoutRejectedException
        or HttpRequestException
        or TaskCanceledException { InnerException: TimeoutException }
        or System.Text.Json.JsonException;
}
