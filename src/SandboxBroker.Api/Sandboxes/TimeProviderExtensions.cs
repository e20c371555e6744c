namespace SandboxBroker.Api.Sandboxes;

public static class TimeProviderExtensions
{
    /// <summary>Now as epoch seconds: the unit of every stored and reported time.</summary>
    public static long NowEpochSeconds(this TimeProvider time) => time.GetUtcNow().ToUnixTimeSeconds();
}
