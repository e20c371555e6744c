using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SandboxBroker.LoadTests;

/// <summary>The whole harness run: every run's numbers, per-store medians, breaches; written as Markdown and JSON.</summary>
public sealed class BenchReport
{
    public string Command { get; init; } = "";

    public string Mode { get; init; } = "";

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset FinishedAt { get; set; }

    public string Commit { get; init; } = "";

    public MachineInfo Machine { get; set; } = new();

    public bool RequestLogging { get; init; }

    public Dictionary<string, string> BrokerEnvironment { get; init; } = [];

    public List<StoreSummary> Summaries { get; } = [];

    public List<string> Breaches { get; } = [];

    public List<StoreRun> Runs { get; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Writes bench.md and bench.json (or {name}.md/json) into <paramref name="directory"/>; returns the Markdown.</summary>
    public string Write(string directory, string name = "bench")
    {
        Directory.CreateDirectory(directory);
        var markdown = ToMarkdown();
        File.WriteAllText(Path.Combine(directory, name + ".md"), markdown);
        File.WriteAllText(Path.Combine(directory, name + ".json"), ToJson());
        return markdown;
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        var stores = Summaries;
        sb.AppendLine(CultureInfo.InvariantCulture, $"## Load benchmark ({Mode} mode, {stores.FirstOrDefault()?.Runs ?? 0} run(s) per store, medians)");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"`{Command}` — commit {Commit}, {StartedAt:yyyy-MM-dd HH:mm} UTC, {Machine.Cores} cores / {Machine.MemoryGiB} GiB, " +
            $"load average {Machine.LoadAverageBefore} before, {Machine.LoadAverageAfter} after. Client and broker share the machine.");
        sb.AppendLine();
        sb.Append("| metric | ").AppendJoin(" | ", stores.Select(s => s.Label)).AppendLine(" | target |");
        sb.Append("|---|").AppendJoin("", stores.Select(_ => "---:|")).AppendLine("---|");
        void Row(string metric, Func<StoreSummary, string> cell, string target = "")
        {
            sb.Append("| ").Append(metric).Append(" | ").AppendJoin(" | ", stores.Select(cell)).Append(" | ").Append(target).AppendLine(" |");
        }

        Row("burst: clients × pool", s => $"{s.Clients} × {N(s.Pool)}{(s.Replicas > 1 ? $" on {s.Replicas} broker processes" : "")}{(s.Reserved > 0 ? $", {N(s.Reserved)} more reserved for another lab (all still held after the burst unless a breach says so)" : "")}", "SQLite 64 clients; DynamoDB 200 × 200");
        Row("**broker allocations/s** (min–max)", s => $"**{N(s.BrokerAllocationsPerSecond)}** ({N(s.BrokerAllocationsMin)}–{N(s.BrokerAllocationsMax)}){Mark(s.MeetsThroughput)}", "SQLite ≥ 4,000");
        Row("burst latency p50 / p95 / p99 ms", s => $"{s.BurstP50:0.0} / {s.BurstP95:0.0} / {s.BurstP99:0.0}{Mark(s.MeetsBurstLatency)}", "SQLite p99 < 50");
        Row("raw-store claims/s (in-process, same burst)", s => N(s.RawClaimsPerSecond));
        Row("**broker ÷ raw store**", s => $"**{P(s.BrokerOverRaw)}**{Mark(s.MeetsRawRatio)}", "DynamoDB ≥ 60 %");
        Row("/healthz req/s (same clients)", s => N(s.HealthzPerSecond));
        Row("broker ÷ /healthz", s => P(s.BrokerOverHealthz));
        Row("conditional writes per allocation, broker burst", s => $"{s.WritesPerAllocation:0.00}{Mark(s.MeetsWrites)}", "DynamoDB ≤ 1.5");
        Row("conditional writes per allocation, raw store", s => s.RawWritesPerAllocation is { } w ? w.ToString("0.00", CultureInfo.InvariantCulture) : "–");
        Row("DynamoDB calls per allocation, broker burst", s => s.StoreCallsPerAllocation is { } c ? c.ToString("0.0", CultureInfo.InvariantCulture) : "–");
        Row("mixed: target → achieved req/s", s => $"{N(s.MixedTarget)} → {N(s.MixedAchieved)}", "SQLite 1,000");
        Row("mixed latency p50 / p95 / p99 ms", s => $"{s.MixedP50:0.0} / {s.MixedP95:0.0} / {s.MixedP99:0.0}{Mark(s.MeetsMixedLatency)}", "SQLite p99 < 50");
        Row("mixed errors (all runs)", s => s.MixedErrors.Count == 0 ? "none" : string.Join(", ", s.MixedErrors.Select(kv => $"{kv.Key} ×{kv.Value}")), "none");
        Row("double allocations / lost / 5xx (all runs)", s => $"{s.DoubleAllocations} / {s.LostSandboxes} / {s.ServerErrors}", "0 / 0 / 0");
        Row("invariant violations / spurious 409 (all runs)", s => $"{s.InvariantViolations} / {s.Spurious409}", "0 / 0");
        Row("request log lines / requests under /v1 (all runs)", s => $"{N(s.RequestLogLines)} / {N(s.RequestsAnswered)}", "every request logged");
        sb.AppendLine();
        sb.AppendLine(Breaches.Count == 0 ? "Correctness: no breach." : "**Correctness breaches:**");
        foreach (var breach in Breaches)
        {
            sb.AppendLine("- " + breach);
        }

        sb.AppendLine();
        sb.AppendLine("Per run (allocations/s; raw-store claims/s; /healthz req/s; mixed achieved req/s, p99 ms):");
        sb.AppendLine();
        foreach (var run in Runs)
        {
            sb.AppendLine("- " + run.Store + " " + run.Run.ToString(CultureInfo.InvariantCulture) + ": " + run.OneLine());
        }

        return sb.ToString();
    }

    private static string N(double value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    private static string P(double value) => (value * 100).ToString("0", CultureInfo.InvariantCulture) + " %";

    private static string Mark(bool? met) => met switch
    {
        true => " ✓",
        false => " ✗",
        null => "",
    };
}

/// <summary>Medians over one store's runs (ratios: the median of each run's own ratio); errors and breaches summed.</summary>
public sealed record StoreSummary
{
    public string Store { get; init; } = "";

    public string Label => Store == "sqlite" ? "SQLite" : "DynamoDB Local";

    public int Runs { get; init; }

    public int Pool { get; init; }

    public int Clients { get; init; }

    public int Replicas { get; init; } = 1;

    /// <summary>Sandboxes an active reservation held for another lab during the burst (--reservation), 0 without.</summary>
    public int Reserved { get; init; }

    public double BrokerAllocationsPerSecond { get; init; }

    public double BrokerAllocationsMin { get; init; }

    public double BrokerAllocationsMax { get; init; }

    public double BurstP50 { get; init; }

    public double BurstP95 { get; init; }

    public double BurstP99 { get; init; }

    public double RawClaimsPerSecond { get; init; }

    public double BrokerOverRaw { get; init; }

    public double HealthzPerSecond { get; init; }

    public double BrokerOverHealthz { get; init; }

    public double WritesPerAllocation { get; init; }

    public double? RawWritesPerAllocation { get; init; }

    public double? StoreCallsPerAllocation { get; init; }

    public double MixedTarget { get; init; }

    public double MixedAchieved { get; init; }

    public double MixedP50 { get; init; }

    public double MixedP95 { get; init; }

    public double MixedP99 { get; init; }

    public Dictionary<string, int> MixedErrors { get; init; } = [];

    public int DoubleAllocations { get; init; }

    public int LostSandboxes { get; init; }

    public int ServerErrors { get; init; }

    public int InvariantViolations { get; init; }

    public int Spurious409 { get; init; }

    public long RequestLogLines { get; init; }

    public long RequestsAnswered { get; init; }

    public bool? MeetsThroughput => Store == "sqlite" ? BrokerAllocationsPerSecond >= 4000 : null;

    public bool? MeetsBurstLatency => Store == "sqlite" ? BurstP99 < 50 : null;

    public bool? MeetsRawRatio => Store == "dynamodb" ? BrokerOverRaw >= 0.60 : null;

    public bool? MeetsWrites => Store == "dynamodb" ? WritesPerAllocation <= 1.5 : null;

    public bool? MeetsMixedLatency => Store == "sqlite" ? MixedP99 < 50 && MixedAchieved >= MixedTarget * 0.98 : null;

    public static StoreSummary Of(string store, IReadOnlyList<StoreRun> runs)
    {
        var ok = runs.Where(r => r.Burst is not null).ToList();
        double Median(Func<StoreRun, double?> pick)
        {
            var values = ok.Select(pick).Where(v => v is not null && !double.IsNaN(v.Value)).Select(v => v!.Value).Order().ToList();
            return values.Count == 0 ? 0 : values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
        }

        var rawWrites = ok.Any(r => r.Raw?.WritesPerAllocation is not null) ? Median(r => r.Raw?.WritesPerAllocation) : (double?)null;
        var calls = ok.Any(r => r.BrokerStoreCalls is not null)
            ? Median(r => r.BrokerStoreCalls is { } c && r.Burst!.Successes > 0 ? c.Values.Sum() / (double)r.Burst.Successes : null)
            : (double?)null;
        var errors = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (key, value) in runs.Where(r => r.Mixed is not null).SelectMany(r => r.Mixed!.Errors.Append(new("not sent", (int)r.Mixed.NotSent))))
        {
            if (value > 0)
            {
                errors[key] = errors.GetValueOrDefault(key) + value;
            }
        }

        return new StoreSummary
        {
            Store = store,
            Runs = runs.Count,
            Pool = runs.Count > 0 ? runs[0].Pool : 0,
            Clients = runs.Count > 0 ? runs[0].Clients : 0,
            Replicas = runs.Count > 0 ? runs[0].Replicas : 1,
            Reserved = runs.Count > 0 ? runs[0].ReservedBeforeBurst : 0,
            BrokerAllocationsPerSecond = Median(r => r.Burst!.AllocationsPerSecond),
            BrokerAllocationsMin = ok.Count == 0 ? 0 : ok.Min(r => r.Burst!.AllocationsPerSecond),
            BrokerAllocationsMax = ok.Count == 0 ? 0 : ok.Max(r => r.Burst!.AllocationsPerSecond),
            BurstP50 = Median(r => r.Burst!.Latency.P50),
            BurstP95 = Median(r => r.Burst!.Latency.P95),
            BurstP99 = Median(r => r.Burst!.Latency.P99),
            RawClaimsPerSecond = Median(r => r.Raw?.Burst.AllocationsPerSecond),
            BrokerOverRaw = Median(r => r.BrokerOverRaw),
            HealthzPerSecond = Median(r => r.Ceiling?.RequestsPerSecond),
            BrokerOverHealthz = Median(r => r.BrokerOverHealthz),
            WritesPerAllocation = Median(r => r.WritesPerAllocation),
            RawWritesPerAllocation = rawWrites,
            StoreCallsPerAllocation = calls,
            MixedTarget = Median(r => r.Mixed?.TargetRate),
            MixedAchieved = Median(r => r.Mixed?.AchievedRate),
            MixedP50 = Median(r => r.Mixed?.Latency.P50),
            MixedP95 = Median(r => r.Mixed?.Latency.P95),
            MixedP99 = Median(r => r.Mixed?.Latency.P99),
            MixedErrors = errors,
            DoubleAllocations = runs.Sum(r => r.DoubleAllocations),
            LostSandboxes = runs.Sum(r => r.Verify?.LostSandboxes ?? 0),
            ServerErrors = runs.Sum(r => r.ServerErrors),
            InvariantViolations = runs.Sum(r => r.Verify?.InvariantViolations ?? 0),
            Spurious409 = runs.Sum(r => r.AvailableAfterBurst),
            RequestLogLines = runs.Sum(r => r.Log?.RequestLines ?? 0),
            RequestsAnswered = runs.Sum(r => r.RequestsAnswered),
        };
    }
}
