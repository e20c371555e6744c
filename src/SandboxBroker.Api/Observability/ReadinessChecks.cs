using SandboxBroker.Api.Storage;

namespace SandboxBroker.Api.Observability;

public enum CheckStatus
{
    Ok,
    /// <summary>Working with reduced function (e.g. CSP circuit open): still ready.</summary>
    Degraded,
    Failed,
}

public sealed record CheckResult(CheckStatus Status, string Detail);

/// <summary>One part of /readyz. Implementations are registered as <see cref="IReadinessCheck"/>.</summary>
public interface IReadinessCheck
{
    string Name { get; }

    Task<CheckResult> CheckAsync(CancellationToken ct);
}

/// <summary>The store answers within 1 s.</summary>
internal sealed class StoreReadinessCheck(ISandboxStore store, StoreChoice choice, TimeProvider time) : IReadinessCheck
{
    public string Name => "store";

    public async Task<CheckResult> CheckAsync(CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            await store.PingAsync(linked.Token).WaitAsync(TimeSpan.FromSeconds(1), time, ct);
            return new CheckResult(CheckStatus.Ok, $"ok ({choice.Provider})");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return new CheckResult(CheckStatus.Failed, $"unreachable ({choice.Provider}): {ex.GetType().Name}");
        }
    }
}
