using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using SandboxBroker.LoadTests.Harness;
using SandboxBroker.LoadTests.Report;

namespace SandboxBroker.LoadTests.Scenarios;

/// <summary>
/// Mixed load shaped like a lab event, open loop at a target rate for a fixed time. Participants arrive as capacity
/// allows; each runs its setup and stop scripts compressed: allocate (201), replay the allocate (200, same sandbox) in
/// 15%, GET the sandbox twice (200), mark-for-deletion (200), and mark again in 10% (200, repeat). About 4.25
/// requests per participant, spread over 5 labs (X-Instruqt-Track-ID). Every tick issues the requests that are due:
/// the next step of a participant whose previous answer arrived, else a new participant's allocate. Latency is
/// measured from sending to the full answer; how far the sender fell behind the schedule is reported separately.
/// </summary>
public static class Mixed
{
    public const double RequestsPerParticipant = 4.25;
    private const int MaxInFlight = 1024;

    private enum Op
    {
        Allocate,
        Replay,
        Get,
        Mark,
        MarkAgain,
    }

    private sealed class Participant(string requester, Op[] plan)
    {
        public string Requester { get; } = requester;

        public Op[] Plan { get; } = plan;

        public int Step { get; set; }

        public string? SandboxId { get; set; }
    }

    public static int PoolFor(int rate, int seconds) => (int)Math.Ceiling(rate * seconds / RequestsPerParticipant * 1.25) + 50;

    public static async Task<MixedOutcome> RunAsync(LoadClient client, string tag, int rate, TimeSpan duration, CancellationToken ct)
    {
        var expected = (int)(rate * duration.TotalSeconds * 1.2) + 1024;
        var all = new Latencies(expected);
        var allocateLatency = new Latencies(expected / 3);
        var errors = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var statuses = new ConcurrentDictionary<int, int>();
        var allocations = new ConcurrentQueue<Allocation>();
        var ready = new ConcurrentQueue<Participant>();
        var inFlight = 0;
        var participants = 0;
        long completed = 0;
        long lastCompletion = 0;
        var lag = new Latencies(expected);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct);

        Participant NewParticipant()
        {
            var n = Interlocked.Increment(ref participants);
            var plan = new List<Op> { Op.Allocate };
            if (Random.Shared.NextDouble() < 0.15)
            {
                plan.Add(Op.Replay);
            }

            plan.AddRange([Op.Get, Op.Get, Op.Mark]);
            if (Random.Shared.NextDouble() < 0.10)
            {
                plan.Add(Op.MarkAgain);
            }

            return new Participant($"{tag}-{n.ToString(CultureInfo.InvariantCulture)}", [.. plan]);
        }

        async Task StepAsync(Participant p)
        {
            try
            {
                var op = p.Plan[p.Step];
                var lab = "lab-" + ((uint)p.Requester.GetHashCode(StringComparison.Ordinal) % 5).ToString(CultureInfo.InvariantCulture);
                var result = op switch
                {
                    Op.Allocate or Op.Replay => await client.AllocateAsync(p.Requester, lab, stopping.Token),
                    Op.Get => await client.GetAsync(p.Requester, p.SandboxId!, stopping.Token),
                    _ => await client.MarkForDeletionAsync(p.Requester, p.SandboxId!, stopping.Token),
                };
                all.Add(result.LatencyMs);
                statuses.AddOrUpdate(result.Status, 1, (_, n) => n + 1);
                Interlocked.Increment(ref completed);
                Interlocked.Exchange(ref lastCompletion, Stopwatch.GetTimestamp());
                var expectedStatus = op == Op.Allocate ? 201 : 200;
                var ok = result.Status == expectedStatus
                         && (op is Op.Allocate || result.SandboxId == p.SandboxId);
                if (op == Op.Allocate)
                {
                    allocateLatency.Add(result.LatencyMs);
                    if (ok)
                    {
                        p.SandboxId = result.SandboxId;
                        allocations.Enqueue(new Allocation(p.Requester, result.SandboxId ?? "", result.Status));
                    }
                }

                if (!ok)
                {
                    errors.AddOrUpdate($"{op.ToString().ToLowerInvariant()} {result.Status.ToString(CultureInfo.InvariantCulture)}", 1, (_, n) => n + 1);
                }

                p.Step++;
                if (ok && p.Step < p.Plan.Length)
                {
                    ready.Enqueue(p);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        }

        var started = Stopwatch.GetTimestamp();
        long issued = 0;
        long skipped = 0;
        var pending = new List<Task>(expected);
        while (Stopwatch.GetElapsedTime(started) < duration && !ct.IsCancellationRequested)
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            var due = (long)(elapsed.TotalSeconds * rate) - issued;
            for (var i = 0; i < due; i++)
            {
                if (Volatile.Read(ref inFlight) >= MaxInFlight)
                {
                    skipped += due - i; // the broker is this far behind: these requests are not sent at all
                    issued += due - i;
                    break;
                }

                // When this request was due, for the schedule-lag figure.
                var dueAt = (issued + 1) / (double)rate * 1000;
                lag.Add(Math.Max(0, elapsed.TotalMilliseconds - dueAt));
                var participant = ready.TryDequeue(out var waiting) ? waiting : NewParticipant();
                Interlocked.Increment(ref inFlight);
                issued++;
                pending.Add(StepAsync(participant));
            }

            await Task.Delay(1, CancellationToken.None);
        }

        // Let the requests in flight finish (bounded), then stop whatever is left.
        var drain = Task.WhenAll(pending);
        if (await Task.WhenAny(drain, Task.Delay(TimeSpan.FromSeconds(35), CancellationToken.None)) != drain)
        {
            await stopping.CancelAsync();
            await drain;
        }

        var end = Interlocked.Read(ref lastCompletion) is var last && last > 0 ? last : Stopwatch.GetTimestamp();
        var seconds = Math.Max(Stopwatch.GetElapsedTime(started, end).TotalSeconds, duration.TotalSeconds);
        return new MixedOutcome
        {
            TargetRate = rate,
            DurationSeconds = duration.TotalSeconds,
            Participants = participants,
            Sent = issued - skipped,
            NotSent = skipped,
            Completed = completed,
            AchievedRate = completed / seconds,
            Latency = all.Summarize(),
            AllocateLatency = allocateLatency.Summarize(),
            ScheduleLag = lag.Summarize(),
            Statuses = statuses.OrderBy(kv => kv.Key).ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
            Errors = errors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            Allocations = [.. allocations],
        };
    }
}

public sealed record MixedOutcome
{
    public int TargetRate { get; init; }

    public double DurationSeconds { get; init; }

    public int Participants { get; init; }

    public long Sent { get; init; }

    /// <summary>Requests the schedule called for but not sent because 1,024 were already in flight.</summary>
    public long NotSent { get; init; }

    public long Completed { get; init; }

    public double AchievedRate { get; init; }

    public required LatencySummary Latency { get; init; }

    public required LatencySummary AllocateLatency { get; init; }

    /// <summary>How late requests were sent relative to the schedule (client-side; a busy 2-core machine shows here).</summary>
    public required LatencySummary ScheduleLag { get; init; }

    public required Dictionary<string, int> Statuses { get; init; }

    /// <summary>Unexpected answers by "operation status" (e.g. "allocate 503"); empty when every answer was as expected.</summary>
    public required Dictionary<string, int> Errors { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<Allocation> Allocations { get; init; } = [];

    public int ErrorCount => Errors.Values.Sum() + (int)NotSent;

    public int ServerErrors => Statuses.Where(kv => int.Parse(kv.Key, CultureInfo.InvariantCulture) >= 500).Sum(kv => kv.Value);
}
