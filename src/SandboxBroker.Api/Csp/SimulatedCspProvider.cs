using System.Globalization;
using Microsoft.Extensions.Options;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Csp;

/// <summary>
/// An in-process CSP for development and tests: a deterministic pool of Csp:Simulated:PoolSize sandboxes named
/// &lt;NamePrefix&gt;-NNNN. Every sandbox the broker still knows (not a tombstone) counts as present upstream,
/// registered ones included, so sync never stales them; each deleted sandbox is replaced by a new one numbered on
/// from a counter kept in the store, so numbers are never reused and a deleted sandbox never comes back.
/// </summary>
internal sealed class SimulatedCspProvider(ISandboxRecords store, IOptionsMonitor<CspOptions> options, TimeProvider time) : ICspProvider
{
    private const string CounterName = "simulated-csp-issued";
    private static readonly SandboxStatus[] LiveStates =
        [SandboxStatus.Available, SandboxStatus.Allocated, SandboxStatus.PendingDeletion, SandboxStatus.DeletionFailed, SandboxStatus.Stale];

    public string Mode => CspOptions.SimulatedMode;

    public async Task<UpstreamListing> ListSandboxesAsync(CancellationToken ct)
    {
        var settings = options.CurrentValue.Simulated;
        var listed = new List<UpstreamSandbox>();
        var liveSimulated = 0;
        foreach (var status in LiveStates)
        {
            await foreach (var sandbox in store.ScanByStatusAsync(status, ct))
            {
                listed.Add(new UpstreamSandbox(sandbox.SandboxId, sandbox.Name, sandbox.ExternalId, sandbox.CreatedAt, sandbox.SfdcAccountId));
                if (sandbox.Name.StartsWith(settings.NamePrefix + "-", StringComparison.Ordinal))
                {
                    liveSimulated++;
                }
            }
        }

        var missing = settings.PoolSize - liveSimulated;
        if (missing > 0)
        {
            var high = await store.AddToSequenceAsync(CounterName, missing, ct);
            var now = time.NowEpochSeconds();
            for (var number = high - missing + 1; number <= high; number++)
            {
                listed.Add(Create(settings.NamePrefix, number, now));
            }
        }

        return UpstreamListing.OfActive(listed);
    }

    /// <summary>Upstream deletion always succeeds; the tombstone the cleanup worker writes makes it final.</summary>
    public Task DeleteSandboxAsync(Sandbox sandbox, CancellationToken ct) => Task.CompletedTask;

    internal static UpstreamSandbox Create(string prefix, long number, long now)
    {
        var n = number.ToString("D4", CultureInfo.InvariantCulture);
        var uuid = $"00000000-0000-4000-8000-{number.ToString("D12", CultureInfo.InvariantCulture)}";
        return new UpstreamSandbox(
            SandboxId: (9_000_000 + number).ToString(CultureInfo.InvariantCulture),
            Name: $"{prefix}-{n}",
            ExternalId: $"identity/accounts/{uuid}",
            CreatedAt: now,
            SfdcAccountId: $"SIM{number.ToString("D6", CultureInfo.InvariantCulture)}");
    }
}
