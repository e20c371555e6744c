namespace SandboxBroker.Api.Workers;

/// <summary>
/// Start-up facts readiness waits for: the first sync attempt finished (successful or not, so a CSP outage at
/// start-up never keeps the broker unready). With jobs disabled there is nothing to wait for.
/// </summary>
public sealed class ReadinessState
{
    private volatile bool firstSyncAttempted;

    public bool FirstSyncAttempted => firstSyncAttempted;

    public void MarkFirstSyncAttempted() => firstSyncAttempted = true;
}
