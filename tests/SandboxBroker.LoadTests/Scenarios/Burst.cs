using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using SandboxBroker.LoadTests.Harness;
using SandboxBroker.LoadTests.Report;

namespace SandboxBroker.LoadTests.Scenarios;

/// <summary>
/// Burst: <c>clients</c> concurrent callers, each allocating again and again with a new requester id every time, until
/// the broker answers 409 (pool empty). A 5xx, 429 or transport error is retried with the same requester, as the lab
/// script does (so a sandbox claimed before an error comes back as a replay instead of being lost).
/// </summary>
public static class Burst
{
    /// <param name="tag">Prefix of the requester ids (distinct per burst).</param>
    /// <param name="stopAfter">Stop once this many allocations succeeded (warm-up); null: until the pool is empty.</param>
    public static async Task<BurstOutcome> RunAsync(
        Func<string, CancellationToken, Task<CallResult>> allocate, string tag, int clients, int expected, int? stopAfter,
        TimeSpan limit, CancellationToken ct)
    {
        var all = new Latencies((expected * 2) + (clients * 8) + 1024);
        var allocations = new Latencies(expected + 1024);
        var statuses = new ConcurrentDictionary<int, int>();
        var successes = new ConcurrentQueue<Allocation>();
        var next = 0;
        var emptySeen = 0;
        long lastSuccess = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(limit);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0L;

        async Task ClientAsync()
        {
            await gate.Task;
            while (!deadline.IsCancellationRequested)
            {
                // A warm-up sends exactly stopAfter requesters (each retried until it succeeds), never more.
                var n = Interlocked.Increment(ref next);
                if (n > stopAfter)
                {
                    return;
                }

                var requester = tag + "-" + n.ToString(CultureInfo.InvariantCulture);
                for (var attempt = 0; attempt < 5 && !deadline.IsCancellationRequested; attempt++)
                {
                    CallResult result;
                    try
                    {
                        result = await allocate(requester, deadline.Token);
                    }
                    catch (OperationCanceledException) when (deadline.IsCancellationRequested)
                    {
                        return;
                    }

                    all.Add(result.LatencyMs);
                    statuses.AddOrUpdate(result.Status, 1, (_, n) => n + 1);
                    if (result.Status is 200 or 201)
                    {
                        allocations.Add(result.LatencyMs);
                        successes.Enqueue(new Allocation(requester, result.SandboxId ?? "", result.Status));
                        Interlocked.Exchange(ref lastSuccess, Stopwatch.GetTimestamp());
                        break;
                    }

                    if (result.Status == 409)
                    {
                        Interlocked.Increment(ref emptySeen);
                        return; // the pool is empty for this client
                    }

                    if (result.Status is 0 or 429 or >= 500)
                    {
                        await Task.Delay(50, CancellationToken.None);
                        continue; // retried with the same requester
                    }

                    break; // any other 4xx: counted, next requester
                }
            }
        }

        var tasks = Enumerable.Range(0, clients).Select(_ => Task.Run(ClientAsync, CancellationToken.None)).ToArray();
        started = Stopwatch.GetTimestamp();
        gate.SetResult();
        await Task.WhenAll(tasks);
        var finished = Stopwatch.GetTimestamp();
        var end = Interlocked.Read(ref lastSuccess) is var last && last > 0 ? last : finished;
        var seconds = Stopwatch.GetElapsedTime(started, end).TotalSeconds;
        return new BurstOutcome
        {
            Clients = clients,
            Successes = successes.Count,
            Seconds = seconds,
            TotalSeconds = Stopwatch.GetElapsedTime(started, finished).TotalSeconds,
            AllocationsPerSecond = seconds > 0 ? successes.Count / seconds : 0,
            Latency = allocations.Summarize(),
            AllRequests = all.Summarize(),
            Statuses = statuses.OrderBy(kv => kv.Key).ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
            EndedByEmptyPool = Volatile.Read(ref emptySeen) > 0,
            TimedOut = deadline.IsCancellationRequested && !ct.IsCancellationRequested,
            Allocations = [.. successes],
        };
    }
}

/// <summary>One successful allocation as the client saw it.</summary>
public sealed record Allocation(string Requester, string SandboxId, int Status);

public sealed record BurstOutcome
{
    public int Clients { get; init; }

    public int Successes { get; init; }

    /// <summary>From the start until the last successful answer.</summary>
    public double Seconds { get; init; }

    /// <summary>Until every client stopped (includes the closing 409s).</summary>
    public double TotalSeconds { get; init; }

    public double AllocationsPerSecond { get; init; }

    /// <summary>Latency of the successful allocations.</summary>
    public required LatencySummary Latency { get; init; }

    public required LatencySummary AllRequests { get; init; }

    public required Dictionary<string, int> Statuses { get; init; }

    public bool EndedByEmptyPool { get; init; }

    public bool TimedOut { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<Allocation> Allocations { get; init; } = [];

    public int ServerErrors => Statuses.Where(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture) >= 500).Sum(kv => kv.Value);
}
