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
/// </summary>
public sealed class FakeCspServer : IAsyncDisposable
{
    public const string DefaultToken = "fake-csp-token";

    private readonly WebApplication app;
    private readonly Lock gate = new();
    private readonly List<FakeCspAccount> accounts = [];
    private readonly Dictionary<string, int> deleteTries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<FakeCspRequest> requests = new();
    private int failNextCalls;

    private FakeCspServer(WebApplication app, string token)
    {
        this.app = app;
        Token = token;
    }

    public string Token { get; }

    /// <summary>The API base, as Csp:BaseUrl takes it: http://127.0.0.1:port/v2.</summary>
    public string BaseUrl { get; private set; } = "";

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
            server.accounts.Add(FakeCspAccount.Sandbox(i));
        }

        server.accounts.Add(new FakeCspAccount("identity/accounts/ffffffff-0000-0000-0000-000000000000", 1, "parent", "parent", "active", null));
        server.accounts.Add(new FakeCspAccount("identity/accounts/eeeeeeee-0000-0000-0000-000000000000", 2, "inactive-0000", "sandbox", "deleted", "SFDCX"));
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server.BaseUrl = app.Urls.First().TrimEnd('/') + "/v2";
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
        [.. Requests.Where(r => r.Method == "DELETE" && (uuid is null || r.Path.EndsWith("/" + uuid, StringComparison.Ordinal)))];

    public IReadOnlyList<FakeCspRequest> Lists() => [.. Requests.Where(r => r.Method == "GET")];

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        var (status, body, retryAfter) = await AnswerAsync(request.Method, path, request.Headers.Authorization.ToString(), context.RequestAborted);
        requests.Enqueue(new FakeCspRequest(request.Method, path, request.Headers.Authorization.ToString(), status));
        context.Response.StatusCode = status;
        if (retryAfter is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        if (body is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body, context.RequestAborted);
        }
    }

    private async Task<(int Status, string? Body, int? RetryAfter)> AnswerAsync(string method, string path, string authorization, CancellationToken ct)
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
            return (200, ListBody(faults), null);
        }

        if (method == "DELETE" && path.StartsWith("/v2/sandbox/accounts/", StringComparison.Ordinal))
        {
            return Delete(path[(path.LastIndexOf('/') + 1)..], faults);
        }

        return (404, """{"error":"no route"}""", null);
    }

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

    private string ListBody(FakeCspFaults faults)
    {
        if (faults.MalformedJson)
        {
            return """{"results": [{"id": "identity/accounts/""";
        }

        lock (gate)
        {
            var listed = faults.EmptyList ? [] : accounts.Select(a => a.ToJson()).ToList();
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

            if (deleteTries[uuid] <= faults.FailFirst)
            {
                return (500, """{"error":"transient"}""", null);
            }

            if (!faults.Linger)
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

    /// <summary>Every answer waits this long first (past the client's request timeout, to test it).</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>The account list is a truncated JSON document (with status 200).</summary>
    public bool MalformedJson { get; set; }

    /// <summary>The account list is empty (with status 200).</summary>
    public bool EmptyList { get; set; }

    /// <summary>A deleted account (204) stays in the list, as CSP sometimes does.</summary>
    public bool Linger { get; set; }
}

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
