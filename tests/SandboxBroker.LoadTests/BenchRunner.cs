using System.Diagnostics;
using System.Globalization;
using SandboxBroker.LoadTests.Harness;
using SandboxBroker.LoadTests.Report;
using SandboxBroker.LoadTests.Scenarios;

namespace SandboxBroker.LoadTests;

/// <summary>
/// Runs every store's runs in order. One run: a fresh broker process and store, pool registered through the admin
/// API, a short warm-up (JIT), the /healthz ceiling, the burst, the mixed load, verification, a graceful stop and a
/// check of its log file; and, never at the same time as the broker, the raw-store burst in-process on a fresh store of
/// the same kind (after the broker in odd runs, before it in even runs).
/// </summary>
public static class BenchRunner
{
    public static async Task<BenchReport> RunAsync(BenchSettings settings, string command, Action<string> log, CancellationToken ct)
    {
        var report = new BenchReport
        {
            Command = command,
            Mode = settings.QuickMode ? "quick" : "full",
            StartedAt = DateTimeOffset.UtcNow,
            Commit = Git("rev-parse --short HEAD"),
            Machine = MachineInfo.Read(),
            RequestLogging = settings.RequestLogging,
            BrokerEnvironment = new Dictionary<string, string>(settings.BrokerEnvironment, StringComparer.Ordinal),
        };
        foreach (var store in settings.Stores)
        {
            DynamoDbLocal? local = null;
            DynamoDbRelay? relay = null;
            try
            {
                if (store == "dynamodb")
                {
                    log("starting DynamoDB Local");
                    local = await DynamoDbLocal.StartAsync();
                    relay = new DynamoDbRelay(local.Port);

                    // A fresh DynamoDB Local is a cold JVM: its JIT keeps compiling through the first thousands of
                    // requests, which would penalise whichever burst comes first. One unmeasured raw-store burst of the
                    // run's size (on a scratch table, through the relay) warms it before any run is measured.
                    var scale = settings.DynamoDb;
                    if (!settings.QuickMode)
                    {
                        log("warming DynamoDB Local (one unmeasured raw-store burst)");
                        await RawStore.DynamoDbAsync(relay.ServiceUrl, "warm_" + Guid.NewGuid().ToString("N")[..8],
                            scale.Pool, scale.Warmup, scale.Clients, settings.ScenarioLimit, ct);
                    }
                }

                for (var run = 1; run <= settings.Runs; run++)
                {
                    ct.ThrowIfCancellationRequested();
                    var result = await RunOnceAsync(settings, store, run, relay, log, ct);
                    report.Runs.Add(result);
                    log($"{store} run {run}: {result.OneLine()}");
                }
            }
            finally
            {
                if (relay is not null)
                {
                    await relay.DisposeAsync();
                }

                if (local is not null)
                {
                    await local.DisposeAsync();
                }
            }
        }

        report.Machine = report.Machine with { LoadAverageAfter = MachineInfo.LoadAverage() };
        report.Summaries.AddRange(settings.Stores.Select(s => StoreSummary.Of(s, report.Runs.Where(r => r.Store == s).ToList())));
        report.Breaches.AddRange(report.Runs.SelectMany(r => r.Breaches.Select(b => $"{r.Store} run {r.Run}: {b}")));
        report.FinishedAt = DateTimeOffset.UtcNow;
        return report;
    }

    private static async Task<StoreRun> RunOnceAsync(
        BenchSettings settings, string store, int run, DynamoDbRelay? relay, Action<string> log, CancellationToken ct)
    {
        var scale = settings.ScaleOf(store);
        var id = Guid.NewGuid().ToString("N")[..8];
        var scratch = Path.Combine(Path.GetTempPath(), "sbx-bench-" + id);
        Directory.CreateDirectory(scratch);
        var logPath = Path.Combine(settings.OutputDirectory, "bench-logs", $"{store}-run{run}-broker.log");
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // Rate limiting stays on (its cost is part of every request), with room for a benchmark: every burst
            // requester has its own bucket anyway; the per-token ceiling (default 2,000/s) would cap the whole run.
            ["RateLimiting__PermitsPerSecond"] = "1000",
            ["RateLimiting__Burst"] = "10000",
            ["RateLimiting__PerTokenPermitsPerSecond"] = "1000000",
            ["Broker__DefaultAllocationsPerMinute"] = "1000000", // one token speaks for every simulated participant
        };
        if (store == "sqlite")
        {
            environment["Storage__Provider"] = "Sqlite";
            environment["Storage__Sqlite__Path"] = Path.Combine(scratch, "broker.db");
        }
        else
        {
            environment["Storage__Provider"] = "DynamoDb";
            environment["Storage__DynamoDb__ServiceUrl"] = relay!.ServiceUrl;
            environment["Storage__DynamoDb__TableName"] = "bench_" + id;
            environment["Storage__DynamoDb__CreateTable"] = "true";
            environment["Storage__DynamoDb__Region"] = "us-east-1";
            environment["AWS_ACCESS_KEY_ID"] = "dummy";
            environment["AWS_SECRET_ACCESS_KEY"] = "dummy";
            environment["AWS_REGION"] = "us-east-1";
            if (settings.QuickMode)
            {
                // The quick test runs beside the other test projects (and their own DynamoDB Local): a 10 s request
                // timeout, as the main test suite uses, keeps an overloaded CI machine from turning into 503s there.
                environment["Storage__DynamoDb__Timeout"] = "00:00:10";
            }
        }

        if (!settings.RequestLogging)
        {
            environment["Logging__MinimumLevel"] = "Warning";
        }

        foreach (var (key, value) in settings.BrokerEnvironment)
        {
            environment[key] = value;
        }

        var result = new StoreRun
        {
            Store = store, Run = run, Pool = scale.Pool, Clients = scale.Clients, Warmup = scale.Warmup, RequestLogging = settings.RequestLogging,
        };
        try
        {
            // The broker and the raw-store burst never run at the same time. Odd runs measure the broker first, even
            // runs the raw store first, so neither is always the one that meets a colder DynamoDB Local (or page cache).
            var brokerFirst = run % 2 == 1;
            if (brokerFirst && !settings.RawOnly)
            {
                await RunBrokerAsync(settings, store, scale, id, logPath, environment, relay, result, log, ct);
            }

            log($"{store} run {run}: raw store");
            var rawBefore = relay?.Snapshot();
            result.Raw = store == "sqlite"
                ? await RawStore.SqliteAsync(Path.Combine(scratch, "raw.db"), scale.Pool, scale.Warmup, scale.Clients, settings.ScenarioLimit, ct)
                : await RawStore.DynamoDbAsync(relay!.ServiceUrl, "raw_" + id, scale.Pool, scale.Warmup, scale.Clients, settings.ScenarioLimit, ct);
            if (relay is not null)
            {
                result.RawRelayCalls = DynamoDbRelay.Delta(relay.Snapshot(), rawBefore!);
            }

            if (!brokerFirst && !settings.RawOnly)
            {
                await RunBrokerAsync(settings, store, scale, id, logPath, environment, relay, result, log, ct);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            result.Failure = ex.ToString();
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        result.Breaches.AddRange(result.FindBreaches());
        return result;
    }

    private static async Task RunBrokerAsync(BenchSettings settings, string store, StoreScale scale, string id, string logPath,
        Dictionary<string, string> environment, DynamoDbRelay? relay, StoreRun result, Action<string> log, CancellationToken ct)
    {
        var limit = settings.ScenarioLimit;
        var run = result.Run;
        var replicas = store == "dynamodb" ? settings.DynamoDbReplicas : 1;
        result.Replicas = replicas;
        var brokers = new List<BrokerHost>();
        var clients = new List<LoadClient>();
        try
        {
            // Replica 0 creates the table; the others start on it afterwards (one table, like ECS tasks of one service).
            for (var r = 0; r < replicas; r++)
            {
                var own = new Dictionary<string, string>(environment, StringComparer.Ordinal);
                if (replicas > 1 && settings.ReplicaShares)
                {
                    own["Storage__DynamoDb__Replicas"] = replicas.ToString(CultureInfo.InvariantCulture);
                    own["Storage__DynamoDb__ReplicaIndex"] = r.ToString(CultureInfo.InvariantCulture);
                }

                var path = r == 0 ? logPath : logPath.Replace("-broker.log", $"-broker{r}.log", StringComparison.Ordinal);
                brokers.Add(await BrokerHost.StartAsync(settings.BrokerDll, path, own, TimeSpan.FromSeconds(90), settings.LogReader));
                clients.Add(new LoadClient(brokers[r].BaseAddress, brokers[r].TrackToken, brokers[r].AdminToken, Math.Max(scale.Clients / replicas, 1100 / replicas)));
            }

            var broker = brokers[0];
            var client = clients[0];
            // Requester n goes to replica n mod replicas, as a load balancer spreads new connections.
            Task<CallResult> AllocateAnywhere(string requester, CancellationToken c) =>
                clients[(requester.GetHashCode(StringComparison.Ordinal) & int.MaxValue) % replicas].AllocateAsync(requester, null, c);

            var tag = $"{store[0]}{run}{id[..4]}";
            var registered = await client.RegisterAsync("sbx-" + tag, scale.Pool + scale.Warmup, ct);
            log($"{store} run {run}: {replicas} broker(s) ready, {registered.Count} sandboxes registered; warm-up");

            // Warm-up (JIT, connection pool, SQLite pages): health checks, then allocations of the extra sandboxes.
            foreach (var each in clients)
            {
                await HealthCeiling.RunAsync(each, scale.Clients, TimeSpan.FromSeconds(settings.QuickMode ? 0.3 : 1), ct);
            }

            var warm = await Burst.RunAsync(AllocateAnywhere, tag + "w", scale.Clients, scale.Warmup, scale.Warmup, limit, ct);

            string? reservation = null;
            if (settings.Reservation > 0)
            {
                registered.AddRange(await client.RegisterAsync("rsv-" + tag, settings.Reservation, ct));
                reservation = await client.ReserveAsync("bench-reserved-lab", settings.Reservation, ct);
                log($"{store} run {run}: reservation {reservation} holds {settings.Reservation} sandboxes for another lab");
            }

            log($"{store} run {run}: /healthz ceiling");
            result.Ceiling = await HealthCeiling.RunAsync(client, scale.Clients, settings.CeilingDuration, ct);
            log($"{store} run {run}: burst");

            var relayBefore = relay?.Snapshot();
            var conflictsBefore = await SumMetricAsync(clients, "broker_allocate_conflicts_total", ct);
            result.Burst = await Burst.RunAsync(AllocateAnywhere, tag + "b", scale.Clients, scale.Pool, null, limit, ct);
            var conflicts = await SumMetricAsync(clients, "broker_allocate_conflicts_total", ct) - conflictsBefore;
            result.ClaimAttemptsPerAllocation = result.Burst.Successes > 0 ? (result.Burst.Successes + conflicts) / result.Burst.Successes : 0;
            if (relay is not null)
            {
                result.BrokerStoreCalls = DynamoDbRelay.Delta(relay.Snapshot(), relayBefore!);
                result.WritesPerAllocation = result.Burst.Successes > 0
                    ? DynamoDbRelay.Writes(result.BrokerStoreCalls) / (double)result.Burst.Successes : null;
            }
            else
            {
                // SQLite: every claim attempt is one write transaction (a lost claim is a conditional UPDATE that
                // matched no row), so claim attempts are the writes.
                result.WritesPerAllocation = result.ClaimAttemptsPerAllocation;
            }

            // The burst ended with 409s: the pool must really be empty then.
            result.AvailableAfterBurst = result.Burst.EndedByEmptyPool ? (await client.ListAsync("available", ct)).Count : 0;
            result.ReservedHeldAfterBurst = reservation is null ? null : await client.ReservationHeldAsync(reservation, ct);
            result.ReservedBeforeBurst = settings.Reservation;

            log($"{store} run {run}: mixed");
            var mixedPool = Mixed.PoolFor(scale.MixedRate, scale.MixedSeconds);
            registered.AddRange(await client.RegisterAsync("mix-" + tag, mixedPool, ct));
            result.Mixed = await Mixed.RunAsync(client, tag + "m", scale.MixedRate, TimeSpan.FromSeconds(scale.MixedSeconds), ct);

            log($"{store} run {run}: verification");
            result.Verify = await Verification.RunAsync(client, registered,
                [.. warm.Allocations, .. result.Burst.Allocations, .. result.Mixed.Allocations], ct);
            var answered = clients.Sum(c => c.AnsweredUnderBasePath);
            foreach (var each in brokers)
            {
                await each.StopAsync(TimeSpan.FromSeconds(30));
            }

            result.Log = LogSummary.Sum(brokers.Select(b => b.SummarizeLog()).ToList());
            result.RequestsAnswered = answered;
        }
        finally
        {
            foreach (var each in clients)
            {
                each.Dispose();
            }

            foreach (var each in brokers)
            {
                await each.DisposeAsync();
            }
        }
    }

    private static async Task<double> SumMetricAsync(List<LoadClient> clients, string series, CancellationToken ct)
    {
        var sum = 0.0;
        foreach (var client in clients)
        {
            sum += await client.MetricAsync(series, ct);
        }

        return sum;
    }

    private static string Git(string arguments)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit(5000);
            return git.ExitCode == 0 ? output : "";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}

public sealed record MachineInfo
{
    public int Cores { get; init; }

    public double MemoryGiB { get; init; }

    public string Os { get; init; } = "";

    public string Runtime { get; init; } = "";

    public string LoadAverageBefore { get; init; } = "";

    public string LoadAverageAfter { get; init; } = "";

    public static MachineInfo Read() => new()
    {
        Cores = Environment.ProcessorCount,
        MemoryGiB = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024 / 1024, 1),
        Os = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        Runtime = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        LoadAverageBefore = LoadAverage(),
    };

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "";
        }
    }
}

/// <summary>Everything one run measured.</summary>
public sealed class StoreRun
{
    public required string Store { get; init; }

    public int Run { get; init; }

    public int Pool { get; init; }

    public int Clients { get; init; }

    public int Warmup { get; init; }

    /// <summary>Broker processes sharing the store in this run (DynamoDB --ddb-replicas; 1 otherwise).</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>The broker logs a line per request (false only for comparison runs at Logging__MinimumLevel=Warning).</summary>
    public bool RequestLogging { get; init; } = true;

    public CeilingOutcome? Ceiling { get; set; }

    public BurstOutcome? Burst { get; set; }

    /// <summary>(successes + broker_allocate_conflicts_total delta) / successes in the broker burst.</summary>
    public double ClaimAttemptsPerAllocation { get; set; }

    /// <summary>Conditional writes per successful allocation in the broker burst (DynamoDB: counted at the relay; SQLite: claim attempts).</summary>
    public double? WritesPerAllocation { get; set; }

    /// <summary>DynamoDB operations the broker process sent during the burst (relay count).</summary>
    public Dictionary<string, long>? BrokerStoreCalls { get; set; }

    /// <summary>
    /// DynamoDB: the claims' TransactWriteItems alone per allocation (the other writes at the relay during a burst are
    /// the replicas' background leases and shared gauge values, not sent while serving an allocation).
    /// </summary>
    public double? ClaimTransactionsPerAllocation => BrokerStoreCalls is { } calls && Burst is { Successes: > 0 } burst
        ? calls.GetValueOrDefault("TransactWriteItems") / (double)burst.Successes
        : null;

    private string ClaimTransactionsNote => ClaimTransactionsPerAllocation is { } tx
        ? string.Create(CultureInfo.InvariantCulture, $" (claim transactions {tx:0.00})")
        : "";

    public int AvailableAfterBurst { get; set; }

    /// <summary>With --reservation: sandboxes the other lab's reservation held before the burst, and after it.</summary>
    public int ReservedBeforeBurst { get; set; }

    public long? ReservedHeldAfterBurst { get; set; }

    public MixedOutcome? Mixed { get; set; }

    public VerifyOutcome? Verify { get; set; }

    public LogSummary? Log { get; set; }

    public long RequestsAnswered { get; set; }

    public RawStoreOutcome? Raw { get; set; }

    /// <summary>DynamoDB operations of the raw-store run as the relay saw them (cross-check of the wrapper's count).</summary>
    public Dictionary<string, long>? RawRelayCalls { get; set; }

    public string? Failure { get; set; }

    public List<string> Breaches { get; } = [];

    public double? BrokerOverRaw => Burst is null || Raw is null || Raw.Burst.AllocationsPerSecond <= 0
        ? null : Burst.AllocationsPerSecond / Raw.Burst.AllocationsPerSecond;

    public double? BrokerOverHealthz => Burst is null || Ceiling is null || Ceiling.RequestsPerSecond <= 0
        ? null : Burst.AllocationsPerSecond / Ceiling.RequestsPerSecond;

    public int ServerErrors => (Burst?.ServerErrors ?? 0) + (Mixed?.ServerErrors ?? 0) + (Raw?.Burst.ServerErrors ?? 0);

    public int DoubleAllocations => (Verify?.DoubleAllocations ?? 0) + (Raw?.DoubleAllocations ?? 0);

    public IEnumerable<string> FindBreaches()
    {
        if (Failure is not null)
        {
            yield return "the run failed: " + Failure.Split('\n')[0];
        }

        if (DoubleAllocations > 0)
        {
            yield return $"{DoubleAllocations} double allocation(s): {string.Join("; ", Verify?.Notes ?? [])}";
        }

        if (Verify is { LostSandboxes: > 0 })
        {
            yield return $"{Verify.LostSandboxes} lost sandbox(es): {string.Join("; ", Verify.Notes)}";
        }

        if (ServerErrors > 0)
        {
            yield return $"{ServerErrors} 5xx answer(s) (burst {Burst?.ServerErrors ?? 0}, mixed {Mixed?.ServerErrors ?? 0}, raw store {Raw?.Burst.ServerErrors ?? 0})";
        }

        if (ReservedHeldAfterBurst is { } held && held != ReservedBeforeBurst)
        {
            yield return $"the reservation for another lab held {ReservedBeforeBurst} sandboxes before the burst and {held} after it";
        }

        if (AvailableAfterBurst > 0)
        {
            yield return $"409 NO_SANDBOXES_AVAILABLE while {AvailableAfterBurst} sandbox(es) were still available";
        }

        if (Verify is { InvariantViolations: > 0 })
        {
            yield return $"GET /v1/admin/invariants reports {Verify.InvariantViolations} violation(s)";
        }

        if (Mixed is not null)
        {
            var wrong = Mixed.Errors.Where(kv => kv.Key.EndsWith(" 400", StringComparison.Ordinal) || kv.Key.EndsWith(" 401", StringComparison.Ordinal)
                || kv.Key.EndsWith(" 403", StringComparison.Ordinal) || kv.Key.EndsWith(" 404", StringComparison.Ordinal)
                || kv.Key.StartsWith("replay", StringComparison.Ordinal)).ToList();
            if (wrong.Count > 0)
            {
                yield return "wrong answers to a holder in the mixed load: " + string.Join(", ", wrong.Select(kv => $"{kv.Key} ×{kv.Value}"));
            }
        }

        if (Log is not null)
        {
            if (Log.NotJson > 0)
            {
                yield return $"{Log.NotJson} broker log line(s) are not one JSON object";
            }

            if (RequestLogging && Log.RequestLines < RequestsAnswered)
            {
                yield return $"{RequestsAnswered} requests under /v1 were answered but the broker logged only {Log.RequestLines} request line(s)";
            }
        }
    }

    public string OneLine() => Failure is not null
        ? "FAILED " + Failure.Split('\n')[0]
        : string.Create(CultureInfo.InvariantCulture,
            $"{(Replicas > 1 ? $"{Replicas} replicas, " : "")}burst {Burst?.AllocationsPerSecond:0} alloc/s p99 {Burst?.Latency.P99:0.0} ms, raw {Raw?.Burst.AllocationsPerSecond:0}/s, healthz {Ceiling?.RequestsPerSecond:0}/s, " +
            $"writes/alloc {WritesPerAllocation:0.00}{ClaimTransactionsNote}, mixed {Mixed?.AchievedRate:0}/{Mixed?.TargetRate} req/s p99 {Mixed?.Latency.P99:0.0} ms errors {Mixed?.ErrorCount}, " +
            $"breaches {Breaches.Count}");
}
