using System.Globalization;

namespace SandboxBroker.LoadTests;

/// <summary>What one harness run measures and how big it is. <see cref="Full"/> is the benchmark, <see cref="Quick"/> the test.</summary>
public sealed record BenchSettings
{
    public bool QuickMode { get; init; }

    /// <summary>Stores to measure, in order: "sqlite", "dynamodb".</summary>
    public IReadOnlyList<string> Stores { get; init; } = ["sqlite", "dynamodb"];

    /// <summary>Independent runs per store (a fresh broker, store and pool each); the report gives medians.</summary>
    public int Runs { get; init; } = 3;

    public StoreScale Sqlite { get; init; } = new(Pool: 20_000, Clients: 64, Warmup: 2_000, MixedRate: 1_000, MixedSeconds: 10);

    public StoreScale DynamoDb { get; init; } = new(Pool: 200, Clients: 200, Warmup: 300, MixedRate: 100, MixedSeconds: 10);

    /// <summary>Requests of the /healthz ceiling, per client (closed loop, same client count as the burst).</summary>
    public TimeSpan CeilingDuration { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>The published broker (SandboxBroker.Api.dll); default: the one built beside this assembly.</summary>
    public string BrokerDll { get; init; } = Path.Combine(AppContext.BaseDirectory, "SandboxBroker.Api.dll");

    /// <summary>Where bench.md and bench.json go (and the broker logs of each run, under logs/).</summary>
    public string OutputDirectory { get; init; } = Path.Combine(Directory.GetCurrentDirectory(), "TestResults");

    /// <summary>Broker logging as shipped (one JSON line per request). False sets Logging__MinimumLevel=Warning (for comparison runs).</summary>
    public bool RequestLogging { get; init; } = true;

    /// <summary>Extra environment for the broker process (NAME=VALUE from the command line), e.g. to compare settings.</summary>
    public IReadOnlyDictionary<string, string> BrokerEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>The command that reads the broker's stdout pipe into the log file (a container runtime's log driver); default cat.</summary>
    public string LogReader { get; init; } = "cat";

    /// <summary>Only the in-process raw-store burst (no broker process): for profiling the store and allocation code.</summary>
    public bool RawOnly { get; init; }

    /// <summary>
    /// Broker processes on the one DynamoDB Local table (issue 20 item 4): the burst spreads its requesters over them.
    /// Each gets Storage__DynamoDb__Replicas and its ReplicaIndex unless <see cref="ReplicaShares"/> is false.
    /// </summary>
    public int DynamoDbReplicas { get; init; } = 1;

    /// <summary>Tell each replica its share of the shards (false: the same settings for all, as before replica shares).</summary>
    public bool ReplicaShares { get; init; } = true;

    /// <summary>
    /// Issue 16: sandboxes held by an active reservation for another lab before the burst (0: none). They are registered
    /// on top of the pool, so the burst empties the same general pool either way, and must all still be held after it.
    /// </summary>
    public int Reservation { get; init; }

    /// <summary>A hard bound on any one scenario: the load stops by itself even if the broker hangs.</summary>
    public TimeSpan ScenarioLimit { get; init; } = TimeSpan.FromSeconds(120);

    public static BenchSettings Full => new();

    public static BenchSettings Quick => new()
    {
        QuickMode = true,
        Runs = 1,
        Sqlite = new(Pool: 600, Clients: 16, Warmup: 100, MixedRate: 200, MixedSeconds: 3),
        DynamoDb = new(Pool: 40, Clients: 40, Warmup: 20, MixedRate: 40, MixedSeconds: 3),
        CeilingDuration = TimeSpan.FromSeconds(1),
        ScenarioLimit = TimeSpan.FromSeconds(60),
    };

    public StoreScale ScaleOf(string store) => store == "sqlite" ? Sqlite : DynamoDb;

    public static string Usage => """
        SandboxBroker load harness (issue 9). Starts the broker as its own process (Production, real tokens, simulated CSP
        with an empty upstream pool, jobs off) on SQLite and on DynamoDB Local, and measures per store: /healthz ceiling,
        burst allocation until the pool is empty (verified through the admin API), a mixed lab-event load at a target
        rate, and the raw-store claim rate in-process. Writes bench.md and bench.json. Exit 1 on a correctness breach
        (double holder, lost sandbox, 5xx, spurious 409, invariant violation, dropped log line), never on timing.

        Options:
          --quick                     small and fast (what the xunit quick test runs)
          --stores sqlite,dynamodb    which stores (default both)
          --runs N                    runs per store, medians reported (default 3)
          --sqlite-pool N --sqlite-clients C --sqlite-rate R --sqlite-seconds T
          --ddb-pool N --ddb-clients C --ddb-rate R --ddb-seconds T
          --ddb-replicas N            DynamoDB: N broker processes on one table, the burst spread over them (default 1)
          --no-replica-shares         with --ddb-replicas: do not give each its Storage:DynamoDb:ReplicaIndex
          --reservation N             before the burst, an active reservation holds N extra sandboxes for another lab;
                                      the burst must empty the general pool without touching them (issue 16)
          --ceiling-seconds T         /healthz ceiling duration
          --broker-dll PATH           published SandboxBroker.Api.dll (default: the one beside the harness)
          --out DIR                   output folder (default ./TestResults)
          --no-request-logging        broker at Logging__MinimumLevel=Warning (comparison only)
          --env NAME=VALUE            extra broker environment (repeatable)
          --raw-only                  only the in-process raw-store burst (profiling)
          --log-reader CMD            what reads the broker's stdout pipe (default cat; e.g. a slower line-by-line reader)
        """;

    /// <summary>Parses the command line over <see cref="Full"/> (or <see cref="Quick"/> with --quick).</summary>
    public static BenchSettings Parse(IReadOnlyList<string> args)
    {
        var settings = args.Contains("--quick") ? Quick : Full;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--quick":
                    break;
                case "--stores":
                    settings = settings with { Stores = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
                    break;
                case "--runs":
                    settings = settings with { Runs = Int() };
                    break;
                case "--sqlite-pool":
                    settings = settings with { Sqlite = settings.Sqlite with { Pool = Int() } };
                    break;
                case "--sqlite-clients":
                    settings = settings with { Sqlite = settings.Sqlite with { Clients = Int() } };
                    break;
                case "--sqlite-rate":
                    settings = settings with { Sqlite = settings.Sqlite with { MixedRate = Int() } };
                    break;
                case "--sqlite-seconds":
                    settings = settings with { Sqlite = settings.Sqlite with { MixedSeconds = Int() } };
                    break;
                case "--ddb-pool":
                    settings = settings with { DynamoDb = settings.DynamoDb with { Pool = Int() } };
                    break;
                case "--ddb-clients":
                    settings = settings with { DynamoDb = settings.DynamoDb with { Clients = Int() } };
                    break;
                case "--ddb-rate":
                    settings = settings with { DynamoDb = settings.DynamoDb with { MixedRate = Int() } };
                    break;
                case "--ddb-seconds":
                    settings = settings with { DynamoDb = settings.DynamoDb with { MixedSeconds = Int() } };
                    break;
                case "--ddb-replicas":
                    settings = settings with { DynamoDbReplicas = Int() };
                    break;
                case "--no-replica-shares":
                    settings = settings with { ReplicaShares = false };
                    break;
                case "--reservation":
                    settings = settings with { Reservation = Int() };
                    break;
                case "--ceiling-seconds":
                    settings = settings with { CeilingDuration = TimeSpan.FromSeconds(Int()) };
                    break;
                case "--broker-dll":
                    settings = settings with { BrokerDll = Path.GetFullPath(Next()) };
                    break;
                case "--out":
                    settings = settings with { OutputDirectory = Path.GetFullPath(Next()) };
                    break;
                case "--log-reader":
                    settings = settings with { LogReader = Next() };
                    break;
                case "--raw-only":
                    settings = settings with { RawOnly = true };
                    break;
                case "--no-request-logging":
                    settings = settings with { RequestLogging = false };
                    break;
                case "--env":
                    var pair = Next();
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        throw new ArgumentException($"--env wants NAME=VALUE, not '{pair}'");
                    }

                    env[pair[..eq]] = pair[(eq + 1)..];
                    break;
                default:
                    throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }

        foreach (var store in settings.Stores)
        {
            if (store is not ("sqlite" or "dynamodb"))
            {
                throw new ArgumentException($"unknown store '{store}' (sqlite, dynamodb)");
            }
        }

        if (settings.Reservation is < 0 or > 10_000)
        {
            throw new ArgumentException("--reservation wants 0..10000");
        }

        if (settings.DynamoDbReplicas is < 1 or > 16)
        {
            throw new ArgumentException("--ddb-replicas wants 1..16");
        }

        return settings with { BrokerEnvironment = env };
    }
}

/// <summary>Size of one store's runs: registered pool and burst clients, warm-up allocations, mixed rate and duration.</summary>
public sealed record StoreScale(int Pool, int Clients, int Warmup, int MixedRate, int MixedSeconds);
