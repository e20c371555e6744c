using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SandboxBroker.Testing;

/// <summary>
/// A stand-in for the ENG CSP API on Kestrel, 127.0.0.1, a free port, over real HTTP:
/// GET /v2/current_user/accounts lists <c>results[]</c> (N active sandbox accounts plus a parent account and an
/// inactive sandbox account, neither of which belongs in the pool); DELETE /v2/sandbox/accounts/{uuid} answers 204,
/// or 404 for an unknown uuid. Every /v2 call needs <c>Authorization: Token &lt;token&gt;</c> (else 401).
/// Faults are switched through <see cref="Faults"/>; every request is recorded in <see cref="Requests"/>.
/// NIOSXaaS (SPEC 12) on the same root: POST /v2/session/users/sign_in {email, password} → {jwt} for
/// <see cref="NxEmail"/>/<see cref="NxPassword"/> (else 401); POST /v2/session/account_switch {id} with that JWT →
/// {jwt} for the account (404 unknown); GET /api/universalinfra/v1/universalservices with the account JWT →
/// {results:[{id,name}]} (accounts with an even csp_id have "Instrqt-SaaS" and "keep-me"); DELETE
/// .../universalservices/{uuid} → 204, 404 when gone. A sign-in JWT is refused (401) after
/// <see cref="FakeCspFaults.NxJwtUses"/> calls, as an expired one would be.
/// </summary>
public sealed class FakeCspServer : IAsyncDisposable
{
    public const string DefaultToken = "fake-csp-token";

    private readonly WebApplication app;
    private readonly Lock gate = new();
    private readonly List<FakeCspAccount> accounts = [];
    private readonly Dictionary<string, int> deleteTries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<FakeCspRequest> requests = new();
    private readonly Dictionary<string, List<FakeNxService>> services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Uses, string? Account)> jwts = new(StringComparer.Ordinal);
    private int failNextCalls;
    private int accountDeletes;

    public const string NxEmail = "ops@example.com";
    public const string NxPassword = "fake-nx-password-0123";
    public const string NxServiceName = "Instrqt-SaaS";

    private FakeCspServer(WebApplication app, string token)
    {
        this.app = app;
        Token = token;
    }

    public string Token { get; }

    /// <summary>The API base, as Csp:BaseUrl takes it: http://127.0.0.1:port/v2.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>The server root, as NiosXaas:BaseUrl takes it: http://127.0.0.1:port.</summary>
    public string RootUrl { get; private set; } = "";

    public FakeCspFaults Faults { get; } = new();

    public IReadOnlyList<FakeCspRequest> Requests => [.. requests];

    public static async Task<FakeCspServer> StartAsync(int sandboxes = 30, string token = DefaultToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new FakeCspServer(app, token);
        for (var i = 0; i < sandboxes; i++)
        {
            var account = FakeCspAccount.Sandbox(i);
            server.accounts.Add(account);
            server.services[account.Uuid] = account.CspId % 2 == 0
                ? [new($"infra/universal_service/{account.CspId}a", NxServiceName), new($"infra/universal_service/{account.CspId}b", "keep-me")]
                : [];
        }

        server.accounts.Add(new FakeCspAccount("identity/accounts/ffffffff-0000-0000-0000-000000000000", 1, "parent", "parent", "active", null));
        server.accounts.Add(new FakeCspAccount("identity/accounts/eeeeeeee-0000-0000-0000-000000000000", 2, "inactive-0000", "sandbox", "deleted", "SFDCX"));
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.RootUrl = app.Urls.First().TrimEnd('/');
        server.BaseUrl = server.RootUrl + "/v2";
        return server;
    }

    /// <summary>The active sandbox accounts listed right now (what sync should turn into the pool).</summary>
    public IReadOnlyList<FakeCspAccount> ActiveSandboxes
    {
        get
        {
            lock (gate)
            {
                return [.. accounts.Where(a => a is { AccountType: "sandbox", State: "active" })];
            }
        }
    }

    /// <summary>Removes accounts from the list (as if deleted by hand upstream).</summary>
    public void Remove(Func<FakeCspAccount, bool> which)
    {
        lock (gate)
        {
            accounts.RemoveAll(a => which(a));
        }
    }

    /// <summary>Lists an account (again), as if created upstream.</summary>
    public void Add(FakeCspAccount account)
    {
        lock (gate)
        {
            accounts.Add(account);
        }
    }

    /// <summary>The next <paramref name="calls"/> calls of any kind answer 500.</summary>
    public void FailNextCalls(int calls) => Interlocked.Exchange(ref failNextCalls, calls);

    public IReadOnlyList<FakeCspRequest> Deletes(string? uuid = null) =>
        [.. Requests.Where(r => r.Method == "DELETE" && r.Path.StartsWith("/v2/sandbox/", StringComparison.Ordinal) && (uuid is null || r.Path.EndsWith("/" + uuid, StringComparison.Ordinal)))];

    public IReadOnlyList<FakeCspRequest> Lists() => [.. Requests.Where(r => r.Method == "GET" && r.Path.StartsWith("/v2/", StringComparison.Ordinal))];

    /// <summary>The NIOSXaaS universal services an account (by uuid) still has.</summary>
    public IReadOnlyList<FakeNxService> ServicesOf(string accountUuid)
    {
        lock (gate)
        {
            return services.TryGetValue(accountUuid, out var list) ? [.. list] : [];
        }
    }

    /// <summary>Gives an account (by uuid) these services.</summary>
    public void SetServices(string accountUuid, params FakeNxService[] list)
    {
        lock (gate)
        {
            services[accountUuid] = [.. list];
        }
    }

    /// <summary>The NIOSXaaS calls received (sign-in, switch, service list and delete).</summary>
    public IReadOnlyList<FakeCspRequest> NxRequests(string? pathStart = null) =>
        [.. Requests.Where(r => IsNx(r.Path) && (pathStart is null || r.Path.StartsWith(pathStart, StringComparison.Ordinal)))];

    public const string SignInPath = "/v2/session/users/sign_in";
    public const string SwitchPath = "/v2/session/account_switch";
    public const string ServicesPath = "/api/universalinfra/v1/universalservices";

    private static bool IsNx(string path) =>
        path.StartsWith("/v2/session/", StringComparison.Ordinal) || path.StartsWith("/api/universalinfra/", StringComparison.Ordinal);

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        var (status, body, retryAfter) = IsNx(path)
            ? await AnswerNxAsync(request.Method, path, request.Headers.Authorization.ToString(), await ReadBodyAsync(request), context.RequestAborted)
            : await AnswerAsync(request.Method, path, request.Headers.Authorization.ToString(), request.Query, context.RequestAborted);
        requests.Enqueue(new FakeCspRequest(request.Method, path, request.Headers.Authorization.ToString(), status));
        context.Response.StatusCode = status;
        if (retryAfter is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        if (body is not null)
        {
            context.Response.ContentType = body.StartsWith('<') ? "text/html" : "application/json";
            await context.Response.WriteAsync(body, context.RequestAborted);
        }
    }

    private async Task<(int Status, string? Body, int? RetryAfter)> AnswerAsync(
        string method, string path, string authorization, IQueryCollection query, CancellationToken ct)
    {
        var faults = Faults;
        if (faults.Delay > TimeSpan.Zero)
        {
            await Task.Delay(faults.Delay, ct);
        }

        if (faults.Down)
        {
            return (503, """{"error":"down"}""", null);
        }

        if (faults.TooManyRequests)
        {
            return (429, """{"error":"slow down"}""", faults.RetryAfterSeconds);
        }

        if (authorization != "Token " + Token)
        {
            return (401, """{"error":"auth"}""", null);
        }

        if (TakeOneFailure())
        {
            return (500, """{"error":"transient"}""", null);
        }

        if (method == "GET" && path == "/v2/current_user/accounts")
        {
            return ListPageFails(query, faults) ? (500, """{"error":"page"}""", null) : (200, ListBody(query, faults), null);
        }

        if (method == "DELETE" && path.StartsWith("/v2/sandbox/accounts/", StringComparison.Ordinal))
        {
            return Delete(path[(path.LastIndexOf('/') + 1)..], faults);
        }

        return (404, """{"error":"no route"}""", null);
    }

    private static async Task<JsonElement?> ReadBodyAsync(HttpRequest request)
    {
        if (request.Method != "POST")
        {
            return null;
        }

        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<(int Status, string? Body, int? RetryAfter)> AnswerNxAsync(
        string method, string path, string authorization, JsonElement? body, CancellationToken ct)
    {
        var faults = Faults;
        if (faults.NxDelay > TimeSpan.Zero)
        {
            await Task.Delay(faults.NxDelay, ct);
        }

        if (faults.NxDown)
        {
            return (503, """{"error":"down"}""", null);
        }

        if (faults.NxHtml)
        {
            return (200, "<html><body>Service temporarily unavailable</body></html>", null);
        }

        if (method == "POST" && path == SignInPath)
        {
            if (Text(body, "email") != NxEmail || Text(body, "password") != NxPassword)
            {
                return (401, """{"error":"credentials"}""", null);
            }

            return (200, Jwt(null), null);
        }

        if (method == "POST" && path == SwitchPath)
        {
            if (!UseJwt(authorization, account: false, out _))
            {
                return (401, """{"error":"jwt"}""", null);
            }

            var id = Text(body, "id") ?? "";
            var uuid = id[(id.LastIndexOf('/') + 1)..];
            bool known;
            lock (gate)
            {
                known = id.StartsWith("identity/accounts/", StringComparison.Ordinal) && (services.ContainsKey(uuid) || accounts.Any(a => a.Uuid == uuid));
            }

            return known ? (200, Jwt(uuid), null) : (404, """{"error":"account"}""", null);
        }

        if (path == ServicesPath && method == "GET")
        {
            if (!UseJwt(authorization, account: true, out var account))
            {
                return (401, """{"error":"jwt"}""", null);
            }

            if (faults.NxTruncatedJson)
            {
                return (200, """{"results": [{"id": "infra/univ""", null);
            }

            lock (gate)
            {
                var list = services.GetValueOrDefault(account!) ?? [];
                var results = list.Select(x => faults.NxServiceWithoutId
                    ? new Dictionary<string, string> { ["name"] = x.Name }
                    : new Dictionary<string, string> { ["id"] = x.Id, ["name"] = x.Name }).ToList();
                return (200, JsonSerializer.Serialize(new Dictionary<string, object> { ["results"] = results }), null);
            }
        }

        if (path.StartsWith(ServicesPath + "/", StringComparison.Ordinal) && method == "DELETE")
        {
            if (!UseJwt(authorization, account: true, out var account))
            {
                return (401, """{"error":"jwt"}""", null);
            }

            if (faults.NxFailDeletes)
            {
                return (500, """{"error":"transient"}""", null);
            }

            var serviceUuid = path[(path.LastIndexOf('/') + 1)..];
            lock (gate)
            {
                var list = services.GetValueOrDefault(account!) ?? [];
                var removed = list.RemoveAll(x => x.Id[(x.Id.LastIndexOf('/') + 1)..] == serviceUuid);
                return removed > 0 ? (204, null, null) : (404, """{"error":"not found"}""", null);
            }
        }

        return (404, """{"error":"no route"}""", null);
    }

    private string Jwt(string? account)
    {
        var jwt = (account is null ? "root-" : "acct-") + Guid.NewGuid().ToString("N");
        lock (gate)
        {
            jwts[jwt] = (0, account);
        }

        return JsonSerializer.Serialize(new Dictionary<string, string> { ["jwt"] = jwt });
    }

    /// <summary>A Bearer JWT of the right kind with uses left (counted); a sign-in JWT expires after NxJwtUses calls.</summary>
    private bool UseJwt(string authorization, bool account, out string? accountUuid)
    {
        accountUuid = null;
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return false;
        }

        lock (gate)
        {
            var jwt = authorization["Bearer ".Length..];
            if (!jwts.TryGetValue(jwt, out var record) || (record.Account is not null) != account
                || (!account && record.Uses >= Faults.NxJwtUses))
            {
                return false;
            }

            jwts[jwt] = (record.Uses + 1, record.Account);
            accountUuid = record.Account;
            return true;
        }
    }

    private static string? Text(JsonElement? body, string property) =>
        body is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private bool TakeOneFailure()
    {
        while (true)
        {
            var left = Volatile.Read(ref failNextCalls);
            if (left <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref failNextCalls, left - 1, left) == left)
            {
                return true;
            }
        }
    }

    private static int? Number(IQueryCollection query, string name) =>
        int.TryParse(query[name].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static bool ListPageFails(IQueryCollection query, FakeCspFaults faults) =>
        faults.FailListAtOffset is { } failing && (Number(query, "_offset") ?? 0) == failing;

    /// <summary>The list, one `_offset`/`_limit` page of it unless the faults say CSP ignores paging.</summary>
    private string ListBody(IQueryCollection query, FakeCspFaults faults)
    {
        if (faults.MalformedJson)
        {
            return """{"results": [{"id": "identity/accounts/""";
        }

        lock (gate)
        {
            var offset = faults.IgnorePaging || faults.IgnoreOffset ? 0 : Number(query, "_offset") ?? 0;
            var limit = faults.IgnorePaging ? null : Number(query, "_limit");
            var listed = faults.EmptyList ? [] : accounts.Skip(offset).Take(limit ?? int.MaxValue).Select(a => a.ToJson()).ToList();
            return JsonSerializer.Serialize(new Dictionary<string, object> { ["results"] = listed });
        }
    }

    private (int Status, string? Body, int? RetryAfter) Delete(string uuid, FakeCspFaults faults)
    {
        lock (gate)
        {
            var known = accounts.Any(a => a.Uuid == uuid);
            deleteTries[uuid] = deleteTries.GetValueOrDefault(uuid) + 1;
            if (!known)
            {
                return (404, """{"error":"not found"}""", null);
            }

            if (deleteTries[uuid] <= faults.FailFirst || (faults.FailEveryOtherDelete && ++accountDeletes % 2 == 1))
            {
                return (500, """{"error":"transient"}""", null);
            }

            if (faults.ListDeletedAccounts)
            {
                accounts[accounts.FindIndex(a => a.Uuid == uuid)] = accounts.Find(a => a.Uuid == uuid)! with { State = "deleted" };
            }
            else if (!faults.Linger)
            {
                accounts.RemoveAll(a => a.Uuid == uuid);
            }

            return (204, null, null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>Fault switches; read on every request, so a test can flip them between calls.</summary>
public sealed class FakeCspFaults
{
    /// <summary>Every call answers 503 (the API is down).</summary>
    public bool Down { get; set; }

    /// <summary>Every call answers 429 with Retry-After: <see cref="RetryAfterSeconds"/>.</summary>
    public bool TooManyRequests { get; set; }

    public int RetryAfterSeconds { get; set; } = 120;

    /// <summary>The first N DELETEs of each uuid answer 500.</summary>
    public int FailFirst { get; set; }

    /// <summary>Every other DELETE of a known account answers 500 (the first, the third ...), whatever the account.</summary>
    public bool FailEveryOtherDelete { get; set; }

    /// <summary>Every answer waits this long first (past the client's request timeout, to test it).</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>The account list is a truncated JSON document (with status 200).</summary>
    public bool MalformedJson { get; set; }

    /// <summary>The account list is empty (with status 200).</summary>
    public bool EmptyList { get; set; }

    /// <summary>The list answers every account at once, whatever `_offset`/`_limit` ask for.</summary>
    public bool IgnorePaging { get; set; }

    /// <summary>The list honours `_limit` but not `_offset`: every page is the first.</summary>
    public bool IgnoreOffset { get; set; }

    /// <summary>The list page at this `_offset` answers 500.</summary>
    public int? FailListAtOffset { get; set; }

    /// <summary>A deleted account (204) stays in the list in state "deleted", no longer active (not in the pool).</summary>
    public bool ListDeletedAccounts { get; set; }

    /// <summary>A deleted account (204) stays in the list, as CSP sometimes does.</summary>
    public bool Linger { get; set; }

    /// <summary>Every NIOSXaaS call answers 503.</summary>
    public bool NxDown { get; set; }

    /// <summary>A sign-in JWT is refused (401) after this many calls, as an expired one would be.</summary>
    public int NxJwtUses { get; set; } = 40;

    /// <summary>Every universal-service DELETE answers 500.</summary>
    public bool NxFailDeletes { get; set; }

    /// <summary>Every NIOSXaaS call answers 200 with an HTML page instead of JSON.</summary>
    public bool NxHtml { get; set; }

    /// <summary>The service list is a truncated JSON document (with status 200).</summary>
    public bool NxTruncatedJson { get; set; }

    /// <summary>The service list holds services without an id.</summary>
    public bool NxServiceWithoutId { get; set; }

    /// <summary>Every NIOSXaaS answer waits this long first.</summary>
    public TimeSpan NxDelay { get; set; }
}

/// <summary>A NIOSXaaS universal service of a sandbox account (id: infra/universal_service/&lt;uuid&gt;).</summary>
public sealed record FakeNxService(string Id, string Name);

public sealed record FakeCspRequest(string Method, string Path, string Authorization, int Status);

public sealed record FakeCspAccount(string Id, long CspId, string Name, string AccountType, string State, string? SfdcAccountId)
{
    public string Uuid => Id[(Id.LastIndexOf('/') + 1)..];

    /// <summary>Account i, as the acceptance fake lists it: csp_id 3000000+i, name lab-csp-NNNN, sfdc SFDCnnnnn.</summary>
    public static FakeCspAccount Sandbox(int i) => new(
        $"identity/accounts/00000000-0000-0000-0000-{(i + 1).ToString("x12", CultureInfo.InvariantCulture)}",
        3_000_000 + i,
        $"lab-csp-{i.ToString("D4", CultureInfo.InvariantCulture)}",
        "sandbox",
        "active",
        $"SFDC{i.ToString("D5", CultureInfo.InvariantCulture)}");

    public Dictionary<string, object?> ToJson() => new()
    {
        ["id"] = Id,
        ["csp_id"] = CspId,
        ["name"] = Name,
        ["account_type"] = AccountType,
        ["state"] = State,
        ["created_at"] = "2025-03-27T16:53:47.605459Z",
        ["sfdc_account_id"] = SfdcAccountId,
    };
}
