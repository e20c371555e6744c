using System.Globalization;

namespace SandboxBroker.Api.Workers.Runner;

/// <summary>This process as a run-lock owner: hostname, pid and a random suffix (pids repeat across containers).</summary>
internal sealed record JobInstance(string Owner)
{
    public static JobInstance Create() => new(string.Create(CultureInfo.InvariantCulture,
        $"{Environment.MachineName}-{Environment.ProcessId}-{Random.Shared.Next(0x10000):x4}"));
}
