using System.Diagnostics;
using SandboxBroker.LoadTests.Harness;
using SandboxBroker.LoadTests.Report;

namespace SandboxBroker.LoadTests.Scenarios;

/// <summary>The HTTP ceiling: the same number of closed-loop clients against GET /healthz (no auth, no store, no log line).</summary>
public static class HealthCeiling
{
    public static async Task<CeilingOutcome> RunAsync(LoadClient client, int clients, TimeSpan duration, CancellationToken ct)
    {
        var latencies = new Latencies(2_000_000);
        long ok = 0;
        long failed = 0;
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        async Task LoopAsync()
        {
            while (Stopwatch.GetTimestamp() < stopAt && !ct.IsCancellationRequested)
            {
                var result = await client.HealthAsync(ct);
                latencies.Add(result.LatencyMs);
                if (result.Status == 200)
                {
                    Interlocked.Increment(ref ok);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(LoopAsync, CancellationToken.None)));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return new CeilingOutcome(clients, ok, failed, seconds, ok / seconds, latencies.Summarize());
    }
}

public sealed record CeilingOutcome(int Clients, long Ok, long Failed, double Seconds, double RequestsPerSecond, LatencySummary Latency);
