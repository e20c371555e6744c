using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace SandboxBroker.GameDay.Infrastructure;

/// <summary>What GET /v1/admin/invariants reported.</summary>
public sealed record InvariantSummary(
    int Violations,
    IReadOnlyList<string> Details,
    IReadOnlyList<string> Inconclusive,
    IReadOnlyDictionary<string, long> Counts,
    IReadOnlyDictionary<string, long> Examined,
    string Body)
{
    public long Count(string status) => Counts.GetValueOrDefault(status);

    public override string ToString() => $"{Violations} violations: {string.Join("; ", Details.Take(10))}";
}

/// <summary>
/// One broker process (the published SandboxBroker.Api.dll, Production environment, its own tokens) and the
/// client side the scenarios need: every request goes through <see cref="Traffic"/>, so it is counted in the table.
/// </summary>
public sealed class BrokerNode : IAsyncDisposable
{
    public const string TrackToken = "gameday-track-token-0123456789abcdef";
    public const string AdminToken = "gameday-admin-token-0123456789abcdef";
    public const string BasePath = "/v1";

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private BrokerNode(BrokerProcess process, Traffic traffic)
    {
        Process = process;
        Traffic = traffic;
        Http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            MaxConnectionsPerServer = 256,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        })
        {
            BaseAddress = process.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan, // Traffic bounds each request itself
        };
    }

    public BrokerProcess Process { get; }

    public Traffic Traffic { get; }

    public HttpClient Http { get; }

    public Uri BaseAddress => Process.BaseAddress;

    public int Pid => Process.Id;

    public bool IsAlive => !Process.HasExited;

    // ---- settings ------------------------------------------------------------------------------------------

    /// <summary>Production, this suite's tokens, simulated CSP, warnings-only logs; <paramref name="extra"/> wins.</summary>
    public static Dictionary<string, string?> Settings(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Broker__TrackTokens__0"] = TrackToken,
            ["Broker__AdminTokens__0"] = AdminToken,
            ["Csp__Mode"] = "Simulated",
            ["Logging__MinimumLevel"] = "Warning",
            // One track token speaks for every simulated participant here (a real class spreads over scripts and
            // seconds): the per-token ceiling would otherwise answer 429 to the suite's own verification sweeps.
            ["RateLimiting__PerTokenPermitsPerSecond"] = "100000",
            ["Broker__DefaultAllocationsPerMinute"] = "1000000", // likewise the token's quota of new allocations
            ["AWS_ACCESS_KEY_ID"] = "dummy",
            ["AWS_SECRET_ACCESS_KEY"] = "dummy",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    public static Dictionary<string, string?> OnSqlite(string path, int poolSize, params (string Key, string? Value)[] extra) =>
        Settings([("Storage__Provider", "Sqlite"), ("Storage__Sqlite__Path", path),
            ("Csp__Simulated__PoolSize", poolSize.ToString(System.Globalization.CultureInfo.InvariantCulture)), .. extra]);

    public static Dictionary<string, string?> OnDynamoDb(DynamoDbLocal local, string table, int poolSize, params (string Key, string? Value)[] extra) =>
        Settings([("Storage__Provider", "DynamoDb"), ("Storage__DynamoDb__ServiceUrl", local.ServiceUrl),
            ("Storage__DynamoDb__TableName", table), ("Storage__DynamoDb__Region", "us-east-1"), ("Storage__DynamoDb__CreateTable", "true"),
            ("Csp__Simulated__PoolSize", poolSize.ToString(System.Globalization.CultureInfo.InvariantCulture)), .. extra]);

    public static async Task<BrokerNode> StartAsync(Traffic traffic, IDictionary<string, string?> settings, TimeSpan? readyWithin = null)
    {
        var process = BrokerProcess.Start(settings);
        if (!await process.WaitUntilReadyAsync(readyWithin ?? TimeSpan.FromSeconds(90)))
        {
            var output = process.Output;
            await process.DisposeAsync();
            throw new InvalidOperationException($"the broker did not become ready: {Tail(output)}");
        }

        return new BrokerNode(process, traffic);
    }

    // ---- requests ------------------------------------------------------------------------------------------

    public static HttpRequestMessage Request(HttpMethod method, string pathAndQuery, string? token, string? requester = null)
    {
        var request = new HttpRequestMessage(method, new Uri(pathAndQuery, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        if (requester is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Instruqt-Sandbox-ID", requester);
        }

        return request;
    }

    public Task<Answer> SendAsync(HttpRequestMessage request, CancellationToken ct, TimeSpan? timeout = null, string? what = null) =>
        Traffic.SendAsync(Http, request, timeout ?? DefaultTimeout, ct, what);

    /// <summary>POST /v1/allocate as the lab script sends it (JSON content type, no body).</summary>
    public Task<Answer> AllocateAsync(string requester, CancellationToken ct, TimeSpan? timeout = null, string? idempotencyKey = null)
    {
        var request = Request(HttpMethod.Post, BasePath + "/allocate", TrackToken, requester);
        request.Content = new ByteArrayContent([]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return SendAsync(request, ct, timeout, "POST /v1/allocate");
    }

    public Task<Answer> GetSandboxAsync(string requester, string sandboxId, CancellationToken ct) =>
        SendAsync(Request(HttpMethod.Get, $"{BasePath}/sandboxes/{Uri.EscapeDataString(sandboxId)}", TrackToken, requester), ct,
            what: "GET /v1/sandboxes/{id}");

    public Task<Answer> MarkForDeletionAsync(string requester, string sandboxId, CancellationToken ct) =>
        SendAsync(Request(HttpMethod.Post, $"{BasePath}/sandboxes/{Uri.EscapeDataString(sandboxId)}/mark-for-deletion", TrackToken, requester), ct,
            what: "POST /v1/sandboxes/{id}/mark-for-deletion");

    /// <summary>An admin call; a 429 (the admin token's bucket) is waited out and retried, a bounded number of times.</summary>
    public async Task<Answer> AdminAsync(HttpMethod method, string pathAndQuery, CancellationToken ct, TimeSpan? timeout = null, HttpContent? content = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var request = Request(method, BasePath + "/admin" + pathAndQuery, AdminToken);
            request.Content = content;
            var answer = await SendAsync(request, ct, timeout, $"{method} /v1/admin{pathAndQuery.Split('?')[0]}");
            if (answer.Status != 429 || attempt >= 20 || content is not null)
            {
                return answer;
            }

            await Task.Delay(TimeSpan.FromSeconds(int.TryParse(answer.Header("Retry-After"), out var s) ? Math.Clamp(s, 1, 5) : 1), ct);
        }
    }

    /// <summary>GET /v1/admin/invariants, which must answer 200.</summary>
    public async Task<InvariantSummary> InvariantsAsync(CancellationToken ct)
    {
        var answer = await AdminAsync(HttpMethod.Get, "/invariants", ct, TimeSpan.FromMinutes(3));
        if (answer.Status != 200)
        {
            throw new InvalidOperationException($"GET /v1/admin/invariants: {answer}");
        }

        var root = answer.Json();
        var details = root.GetProperty("details").EnumerateArray()
            .Select(d => $"{d.GetProperty("check").GetString()} {d.GetProperty("sandbox_id")}: {d.GetProperty("detail").GetString()}")
            .ToList();
        var checks = root.GetProperty("checks");
        var inconclusive = checks.EnumerateObject()
            .SelectMany(c => c.Value.TryGetProperty("inconclusive", out var i) ? i.EnumerateArray().Select(x => $"{c.Name}:{x.GetString()}") : [])
            .ToList();
        var examined = checks.EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetProperty("examined").GetInt64(), StringComparer.Ordinal);
        var counts = root.GetProperty("counts").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetInt64(), StringComparer.Ordinal);
        return new InvariantSummary(root.GetProperty("violations").GetInt32(), details, inconclusive, counts, examined, answer.Body);
    }

    private static readonly string[] EveryState = ["available", "allocated", "pending_deletion", "deletion_failed", "stale", "deleted"];

    /// <summary>
    /// The history audit, from outside: every record the broker lists (tombstones included) is read through
    /// GET /admin/sandboxes/{id}/history, and its events must replay to its state: the first creates it (from null),
    /// each one's from is the previous one's to, time never goes back, the last ends in the status. Every record in
    /// a scenario was created by this broker, so an empty history is a gap too. Returns how many were audited.
    /// </summary>
    public async Task<int> AssertHistoriesReplayAsync(ScenarioRow row, CancellationToken ct)
    {
        var ids = new List<string>();
        foreach (var state in EveryState)
        {
            string? cursor = null;
            do
            {
                var page = await AdminAsync(HttpMethod.Get, $"/sandboxes?status={state}&limit=100" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"), ct);
                Assert.True(page.Status == 200, $"listing {state} sandboxes: {page}");
                var body = page.Json();
                ids.AddRange(body.GetProperty("sandboxes").EnumerateArray().Select(s => s.GetProperty("sandbox_id").GetString()!));
                cursor = body.TryGetProperty("cursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            }
            while (cursor is not null);
        }

        var gaps = new System.Collections.Concurrent.ConcurrentBag<string>();
        var vanished = 0;
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (id, token) =>
        {
            var answer = await AdminAsync(HttpMethod.Get, $"/sandboxes/{Uri.EscapeDataString(id)}/history", token);
            if (answer.Status == 404)
            {
                Interlocked.Increment(ref vanished);   // a tombstone purged since the listing: no record, so no history to owe
            }
            else if (answer.Status != 200)
            {
                gaps.Add($"{id}: history answered {answer.Status}");
            }
            else if (GapOf(answer.Json()) is { } gap)
            {
                gaps.Add($"{id}: {gap}");
            }
        });

        row.Note($"history audit: {ids.Count - vanished} histories replayed ({vanished} purged since listed), {gaps.Count} gaps");
        Assert.True(gaps.IsEmpty, $"{gaps.Count} histories do not replay: {string.Join("; ", gaps.Take(10))}");
        Assert.NotEmpty(ids);
        return ids.Count;
    }

    private static string? GapOf(JsonElement history)
    {
        var status = history.GetProperty("status").GetString();
        var events = history.GetProperty("events").EnumerateArray().ToList();
        if (events.Count == 0)
        {
            return "no events";
        }

        string? previousTo = null;
        long previousAt = long.MinValue;
        for (var i = 0; i < events.Count; i++)
        {
            var from = events[i].GetProperty("from") is { ValueKind: JsonValueKind.String } f ? f.GetString() : null;
            var to = events[i].GetProperty("to").GetString();
            var at = events[i].GetProperty("at").GetInt64();
            // The first kept event starts the chain: a creation (from null), or, once the oldest were trimmed, any event.
            if (i > 0 && from != previousTo)
            {
                return $"event {i} starts in {from ?? "null"} but the one before ended in {previousTo}";
            }

            if (at < previousAt)
            {
                return $"event {i} at {at} is older than the one before ({previousAt})";
            }

            (previousTo, previousAt) = (to, at);
        }

        return previousTo == status ? null : $"history ends in {previousTo} but the sandbox is {status}";
    }

    /// <summary>Asks for the invariants, adds them to the row and asserts there are none.</summary>
    public async Task<InvariantSummary> AssertInvariantsHoldAsync(ScenarioRow row, CancellationToken ct)
    {
        var summary = await InvariantsAsync(ct);
        row.InvariantViolations += summary.Violations;
        row.InvariantChecks++;
        Assert.True(summary.Violations == 0, $"invariant violations on broker {Pid}: {summary}");
        return summary;
    }

    public async Task<JsonElement> StatsAsync(CancellationToken ct)
    {
        var answer = await AdminAsync(HttpMethod.Get, "/stats", ct);
        Assert.True(answer.Status == 200, $"GET /v1/admin/stats: {answer}");
        return answer.Json();
    }

    /// <summary>Waits until the pool (filled by the start-up sync) has at least this many available sandboxes.</summary>
    public async Task<long> WaitForAvailableAsync(long atLeast, TimeSpan within, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + within;
        long available = 0;
        while (DateTimeOffset.UtcNow < deadline)
        {
            available = (await StatsAsync(ct)).GetProperty("available").GetInt64();
            if (available >= atLeast)
            {
                return available;
            }

            await Task.Delay(250, ct);
        }

        throw new TimeoutException($"only {available} of {atLeast} sandboxes available after {within.TotalSeconds:0} s");
    }

    /// <summary>Every sandbox matching the query, following cursors (bounded).</summary>
    public async Task<List<JsonElement>> ListAllAsync(string query, CancellationToken ct)
    {
        var all = new List<JsonElement>();
        string? cursor = null;
        for (var page = 0; page < 2_000; page++)
        {
            var answer = await AdminAsync(HttpMethod.Get, $"/sandboxes?{query}&limit=100{(cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))}", ct);
            Assert.True(answer.Status == 200, $"list page: {answer}");
            var root = answer.Json();
            all.AddRange(root.GetProperty("sandboxes").EnumerateArray());
            cursor = root.TryGetProperty("cursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            if (cursor is null)
            {
                return all;
            }
        }

        throw new InvalidOperationException("listing did not end within 2,000 pages");
    }

    /// <summary>POST /v1/admin/{job} (sync, cleanup, expire, auto-delete-stale, bulk-delete, retry-deletion).</summary>
    public Task<Answer> TriggerAsync(string jobAndQuery, CancellationToken ct, TimeSpan? timeout = null) =>
        AdminAsync(HttpMethod.Post, "/" + jobAndQuery, ct, timeout ?? TimeSpan.FromSeconds(60));

    /// <summary>kill -9: no graceful shutdown, in-flight requests and writes cut wherever they are.</summary>
    public void KillHard()
    {
        SignalKill();
        Process.KillHard();
    }

    /// <summary>
    /// SIGKILL straight to the broker's pid, returning at once (the launcher's process-tree walk in
    /// <see cref="KillHard"/> takes long enough for in-flight requests to finish, which would make a kill land between
    /// requests); <see cref="KillHard"/> then reaps it.
    /// </summary>
    public void SignalKill()
    {
        try
        {
            using var target = System.Diagnostics.Process.GetProcessById(Pid);
            target.Kill();
        }
        catch (ArgumentException)
        {
            // already gone
        }
        catch (InvalidOperationException)
        {
        }
    }

    public static string Tail(string output, int lines = 15) =>
        string.Join('\n', output.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
    }
}

/// <summary>Sandbox fields the scenarios read from JSON.</summary>
public static class SandboxJson
{
    public static string Id(this JsonElement sandbox) => sandbox.GetProperty("sandbox_id").GetString()!;

    public static string Status(this JsonElement sandbox) => sandbox.GetProperty("status").GetString()!;

    public static string? Holder(this JsonElement sandbox) =>
        sandbox.TryGetProperty("allocated_to_track", out var holder) && holder.ValueKind == JsonValueKind.String && holder.GetString() is { Length: > 0 } h
            ? h
            : null;
}

/// <summary>Statuses as HTTP constants for asserts.</summary>
public static class Code
{
    public const int Ok = (int)HttpStatusCode.OK;
    public const int Created = (int)HttpStatusCode.Created;
}
