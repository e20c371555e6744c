using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using SandboxBroker.GameDay.Infrastructure;

namespace SandboxBroker.GameDay.Scenarios;

/// <summary>
/// Hostile input on every endpoint, sent as raw bytes: missing, huge, unicode, control-character and injection-shaped
/// headers, paths and query strings; malformed, oversized and wrongly typed bodies; unexpected methods and paths.
/// Only 4xx problem bodies (or the server's own 4xx for requests it cannot parse), never a 5xx, never a hang, and no
/// state change beyond what a valid-but-odd request was entitled to (an odd but valid requester id may allocate).
/// </summary>
[Collection(GameDayCollection.Name)]
public sealed class HostileInputTests(GameDayFixture fixture)
{
    private const int Pool = 300;

    [Fact]
    public Task Hostile_input_on_every_endpoint_gets_4xx_problem_bodies_never_a_5xx_and_changes_nothing_else()
    {
        var path = fixture.NewPath("hostile");
        return Scoreboard.RunAsync("Hostile input on every endpoint (headers, paths, queries, bodies, methods)", "SQLite",
            TimeSpan.FromMinutes(GameDayScale.Pick(4, 10)), async (row, ct) =>
            {
                var traffic = new Traffic(row);
                // The limiter stays on (its partition keys see the hostile headers) but never answers 429 first.
                await using var broker = await BrokerNode.StartAsync(traffic, BrokerNode.OnSqlite(path, Pool,
                    ("RateLimiting__PermitsPerSecond", "100000"), ("RateLimiting__Burst", "1000000"),
                    ("RateLimiting__PerTokenPermitsPerSecond", "100000")));
                await broker.WaitForAvailableAsync(Pool, TimeSpan.FromMinutes(1), ct);
                for (var i = 0; i < 5; i++)
                {
                    Assert.Equal(201, (await broker.AllocateAsync($"gd-hostile-holder-{i}", ct)).Status);
                }

                var endpoints = await OpenApiEndpoints.ReadAsync(broker, ct);
                var before = await SnapshotAsync(broker, ct);
                await broker.AssertInvariantsHoldAsync(row, ct);

                var cases = new HostileCases(endpoints).Build();
                var random = new Random(8);
                cases.AddRange(HostileCases.Fuzz(endpoints, random, GameDayScale.Pick(300, 3000)));
                var answers = new ConcurrentBag<(HostileCase Case, Answer Answer)>();
                await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (c, token) =>
                    answers.Add((c, await traffic.SendRawAsync(broker.BaseAddress, c.Request, TimeSpan.FromSeconds(30), token))));

                var failures = answers.Select(a => Judge(a.Case, a.Answer)).OfType<string>().ToList();

                var health = await broker.SendAsync(BrokerNode.Request(HttpMethod.Get, "/healthz", null), ct);
                Assert.True(broker.IsAlive && health.Status == 200, $"the broker did not survive: {health} {BrokerNode.Tail(broker.Process.Output)}");
                var after = await SnapshotAsync(broker, ct);
                await broker.AssertInvariantsHoldAsync(row, ct);
                var changes = UnexplainedChanges(before, after, answers.ToList(), out var allocations, out var registrations);

                var errors = traffic.ServerErrorsOutsideFaults();
                row.ServerErrorsOutsideFaults = errors.Count;
                row.Note($"{cases.Count} hostile requests over {endpoints.Count} endpoints ({string.Join(", ", cases.GroupBy(c => c.Category).Select(g => $"{g.Count()} {g.Key}"))}); " +
                         $"answers {string.Join(" ", answers.GroupBy(a => a.Answer.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}"))}; " +
                         $"state before/after equal except {allocations} allocations to odd-but-valid requester ids and {registrations} registrations of odd-but-valid ids");
                Assert.True(failures.Count == 0 && changes.Count == 0,
                    $"{failures.Count} of {cases.Count} hostile requests answered wrongly:\n{string.Join('\n', failures.Take(40))}\n" +
                    $"{changes.Count} state changes beyond what the answers allowed:\n{string.Join('\n', changes.Take(20))}");
                Assert.Empty(errors);
            });
    }

    /// <summary>Null when the answer is acceptable for hostile input; else what is wrong with it.</summary>
    private static string? Judge(HostileCase hostile, Answer answer)
    {
        var label = $"[{hostile.Category}] {Printable(hostile.Request.What)}"
            + (hostile.Request.Body is { } body ? $" body {Printable(Encoding.Latin1.GetString(body), 60)}" : "");
        if (answer.Status == 0)
        {
            return $"{label}: no answer ({answer.Error})";
        }

        if (answer.Status >= 500)
        {
            return $"{label}: {answer.Status} {Printable(answer.Body, 200)}";
        }

        foreach (var (name, value) in answer.Headers)
        {
            if (value.Any(c => c is < ' ' or > '~'))
            {
                return $"{label}: response header {name} carries non-printable input back: {Printable(value)}";
            }
        }

        // Produced by the application (Kestrel's own rejections carry no request id): a problem body with a code
        // (HEAD answers carry no body at all).
        if (answer.Status is >= 400 and < 500 and not 499 && answer.Header("X-Request-ID") is not null && hostile.Request.Method != "HEAD")
        {
            if (answer.Header("Content-Type")?.StartsWith("application/problem+json", StringComparison.Ordinal) != true)
            {
                if (RefusesJson(hostile.Request) && answer.Header("Content-Type")?.StartsWith("text/plain", StringComparison.Ordinal) == true)
                {
                    return null; // the framework's 404/405 honour an Accept without JSON (reported; the broker's own errors ignore Accept)
                }

                return $"{label}: {answer.Status} without a problem body ({answer.Header("Content-Type")}) {Printable(answer.Body, 120)}";
            }

            if (answer.ProblemCode is null)
            {
                return $"{label}: {answer.Status} problem body without a code";
            }
        }

        if (answer.ElapsedMs > 15_000)
        {
            return $"{label}: took {answer.ElapsedMs:0} ms";
        }

        return null;
    }

    /// <summary>The request's Accept rules out JSON (so content negotiation may answer an error as text).</summary>
    private static bool RefusesJson(RawRequest request) =>
        request.Headers.Where(h => h.Name.Equals("Accept", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList() is { Count: > 0 } accepts
        && !accepts.Any(a => a.Contains("json", StringComparison.OrdinalIgnoreCase) || a.Contains("*/*", StringComparison.Ordinal));

    private static async Task<Dictionary<string, (string Status, string? Holder)>> SnapshotAsync(BrokerNode broker, CancellationToken ct) =>
        (await broker.ListAllAsync("", ct)).ToDictionary(s => s.Id(), s => (s.Status(), s.Holder()), StringComparer.Ordinal);

    /// <summary>Every difference between the snapshots that no 2xx answer accounts for.</summary>
    private static List<string> UnexplainedChanges(
        Dictionary<string, (string Status, string? Holder)> before,
        Dictionary<string, (string Status, string? Holder)> after,
        List<(HostileCase Case, Answer Answer)> answers,
        out int allocations,
        out int registrations)
    {
        var allocated = new Dictionary<string, string>(StringComparer.Ordinal);     // sandbox id → holder, from 201 bodies
        var registered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (hostile, answer) in answers.Where(a => a.Answer.Status is >= 200 and < 300))
        {
            if (answer.Status == 201 && TryJson(answer.Body) is { ValueKind: JsonValueKind.Object } sandbox
                && sandbox.TryGetProperty("sandbox_id", out _) && sandbox.Holder() is { } holder)
            {
                allocated[sandbox.Id()] = holder;
            }

            registered.UnionWith(hostile.Registers);
        }

        var changes = new List<string>();
        foreach (var (id, was) in before)
        {
            if (!after.TryGetValue(id, out var now))
            {
                changes.Add($"{id} ({was.Status}, {was.Holder}) disappeared");
            }
            else if (now != was && !(was is { Status: "available", Holder: null } && now.Status == "allocated"
                                      && allocated.TryGetValue(id, out var holder) && holder == now.Holder))
            {
                changes.Add($"{id} changed from ({was.Status}, {was.Holder}) to ({now.Status}, {now.Holder})");
            }
        }

        foreach (var (id, now) in after.Where(a => !before.ContainsKey(a.Key)))
        {
            // A sandbox registered during the run may already have been allocated by a hostile-but-valid requester.
            var fine = registered.Contains(id) && (now is { Status: "available", Holder: null }
                || (now.Status == "allocated" && allocated.TryGetValue(id, out var holder) && holder == now.Holder));
            if (!fine)
            {
                changes.Add($"{Printable(id)} ({now.Status}, {now.Holder}) appeared");
            }
        }

        var changedAllocations = before.Count(b => after.TryGetValue(b.Key, out var now) && now != b.Value)
            + after.Count(a => !before.ContainsKey(a.Key) && a.Value.Status == "allocated");
        if (changedAllocations != allocated.Count)
        {
            changes.Add($"{allocated.Count} allocations were answered 201 but {changedAllocations} sandboxes changed");
        }

        allocations = allocated.Count;
        registrations = after.Keys.Count(k => !before.ContainsKey(k));
        return changes;
    }

    private static JsonElement? TryJson(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Printable(string text, int max = 100)
    {
        var clean = new string(text.Select(c => c is < ' ' or > '~' ? '·' : c).ToArray());
        return clean.Length > max ? clean[..max] + $"…({clean.Length})" : clean;
    }
}

/// <summary>One hostile request, the category it belongs to, and the ids it would register if accepted.</summary>
public sealed record HostileCase(string Category, RawRequest Request)
{
    public IReadOnlyList<string> Registers { get; init; } = [];
}

/// <summary>The hostile requests: every endpoint × every kind of bad input.</summary>
internal sealed class HostileCases(List<ApiEndpoint> endpoints)
{
    private static readonly string[] PathValues =
    [
        "%00", "%01%02%7F", new('a', 3000), "%C3%A9t%C3%A9-%E2%9C%93", "%F0%9F%92%A5", "%E2%80%AE%E2%80%8B", "%27%20OR%201%3D1%20--",
        "'OR'1'='1", "SBX%23x%23META", "SBX#x#META", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%2F..%2Fadmin%2Fstats", "$(reboot)",
        "%24%7Bjndi:ldap://127.0.0.1/x%7D", "%7B%22%24gt%22%3A%22%22%7D", "%25", "%FF%FE", "%", "a%0D%0AX-Injected:%201",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E", new('b', 129), "%20", "\u00ff\u00fe", "\u0001", "x;y=z", "null", "-1", "..", ".",
    ];

    private static readonly string[] QueryValues =
    [
        "-1", "0", "101", "999999999999", "1e309", "NaN", "Infinity", "abc", "%00%01", new('q', 3000), "%27%22", "%FF%FE", "true",
        "stale%26status%3Ddeleted", "%E2%80%AE", "[]", "%7B%7D", "deleted", "allocated", "", "%", "\u00ff",
    ];

    private static readonly string[] HeaderValues =
    [
        "\u0001\u0002", "' OR 1=1 --", "1234#SBX#META", new('z', 5000), "\u00ff\u00fe", "../../etc/passwd", new('c', 129), "", " ", "\t",
        RawRequest.Utf8("étudiant-✓"), RawRequest.Utf8("💥"), "${jndi:ldap://127.0.0.1/a}", "<script>", "a,b", "null", "\u007f",
    ];

    private static readonly string[] TrackHeaders = ["X-Instruqt-Sandbox-ID", "X-Track-ID", "X-Instruqt-Track-ID", "X-Sandbox-Name-Prefix", "Idempotency-Key"];

    private static readonly (string Name, string Value)[] GenericHeaders =
    [
        ("X-Request-ID", "\u0001\u0002"), ("X-Request-ID", new string('r', 5000)), ("X-Request-ID", RawRequest.Utf8("é-💥")),
        ("X-Request-ID", "' OR 1=1 --"), ("X-Request-ID", "a\u00ff"), ("X-Request-ID", ""),
        ("Content-Type", "application/json; charset=utf-7"), ("Content-Type", "multipart/form-data; boundary=" + new string('-', 3000)),
        ("Content-Type", "\u0001"), ("Accept", "application/xml"), ("Accept", new string('*', 4000)), ("Accept-Encoding", "gzip;q=1e309"),
        ("Origin", "null"), ("Origin", "http://evil.example"), ("Cookie", new string('k', 5000)), ("X-Forwarded-For", "' OR 1=1"),
        ("X-Forwarded-Host", "evil.example"), ("X-HTTP-Method-Override", "DELETE"), ("Range", "bytes=0-1"), ("If-None-Match", "*"),
    ];

    private int serial;

    public List<HostileCase> Build()
    {
        var cases = new List<HostileCase>();
        foreach (var endpoint in endpoints)
        {
            var plain = Base(endpoint, endpoint.PathWith("gd-hostile-id"));
            foreach (var value in endpoint.PathParameters.Count == 0 ? [] : PathValues)
            {
                cases.Add(Case("path", Base(endpoint, endpoint.PathWith(value))));
            }

            foreach (var name in endpoint.QueryParameters.Append("unknown%00param"))
            {
                foreach (var value in QueryValues)
                {
                    cases.Add(Case("query", plain with { Target = $"{plain.Target}?{name}={value}" }));
                }
            }

            cases.Add(Case("query", plain with { Target = plain.Target + "?status=stale&status=deleted&limit=1&limit=-1&%00=%01&a[]=1&" }));

            if (endpoint.Role == EndpointRole.Track)
            {
                foreach (var header in TrackHeaders)
                {
                    foreach (var value in HeaderValues)
                    {
                        var request = header is "X-Instruqt-Sandbox-ID" or "X-Track-ID" ? Base(endpoint, plain.Target, requester: false) : plain;
                        cases.Add(Case("track header", request.With(header, value)));
                    }
                }

                cases.Add(Case("track header", Base(endpoint, plain.Target, requester: false)));                   // no requester at all
                cases.Add(Case("track header", plain.With("X-Instruqt-Sandbox-ID", "second-requester")));        // two requesters
            }

            foreach (var (name, value) in GenericHeaders)
            {
                cases.Add(Case("header", plain.With(name, value)));
            }

            foreach (var authorization in Authorizations(endpoint))
            {
                cases.Add(Case("authorization", Base(endpoint, plain.Target, auth: false).With("Authorization", authorization)));
            }

            cases.Add(Case("authorization", plain.With("Authorization", "Bearer " + BrokerNode.AdminToken)));   // two Authorization headers

            if (endpoint.Method == "POST")
            {
                cases.AddRange(Bodies(plain));
            }
            else
            {
                cases.Add(Case("body", (plain with { Body = "{\"sandboxes\":[]}"u8.ToArray() }).With("Content-Type", "application/json")));
            }
        }

        foreach (var template in endpoints.Select(e => e.Template).Distinct())
        {
            var endpoint = endpoints.First(e => e.Template == template);
            foreach (var method in new[] { "PUT", "DELETE", "PATCH", "TRACE", "FOO", "CONNECT", "OPTIONS" })
            {
                cases.Add(Case("method", Base(endpoint, endpoint.PathWith("gd-hostile-id")) with { Method = method }));
            }

            cases.Add(Case("method", (Base(endpoint, endpoint.PathWith("gd-hostile-id")) with { Method = "PUT" }).With("Accept", "application/xml")));
        }

        var admin = endpoints.First(e => e.Role == EndpointRole.Admin);
        var track = endpoints.First(e => e.Role == EndpointRole.Track);
        foreach (var odd in new[]
        {
            "/v1/../v1/admin/stats", "/v1/admin/../../etc/passwd", "//v1//allocate", "/v1/allocate/", "/V1/ALLOCATE", "/v1/admin/sandboxes/%2F",
            "/" + new string('a', 10_000), "/v1/sandboxes/", "/v1/admin/", "/v1/%00", "*", "http://evil.example/v1/admin/stats", "/v1/allocate?%",
            "/.env", "/v1/openapi.json/../admin/stats", "/v1/admin/stats#frag", "/v1/admin/%2e%2e/stats", "/metrics/../v1/admin/stats",
        })
        {
            cases.Add(Case("odd path", Base(admin, odd)));
            cases.Add(Case("odd path", Base(track, odd)));
        }

        return cases;
    }

    /// <summary>Random mixtures of the above: any endpoint, any method, hostile path, query, headers and body together.</summary>
    public static IEnumerable<HostileCase> Fuzz(List<ApiEndpoint> endpoints, Random random, int count)
    {
        var builder = new HostileCases(endpoints);
        string[] methods = ["GET", "POST", "PUT", "DELETE", "HEAD"];
        for (var i = 0; i < count; i++)
        {
            var endpoint = endpoints[random.Next(endpoints.Count)];
            var target = endpoint.PathWith(random.Next(3) == 0 ? PathValues[random.Next(PathValues.Length)] : "gd-fuzz-" + i);
            if (random.Next(2) == 0)
            {
                var name = endpoint.QueryParameters.Count > 0 && random.Next(3) > 0
                    ? endpoint.QueryParameters[random.Next(endpoint.QueryParameters.Count)]
                    : "x";
                target += $"?{name}={QueryValues[random.Next(QueryValues.Length)]}";
            }

            var request = builder.Base(endpoint, target, requester: random.Next(4) > 0) with { Method = methods[random.Next(methods.Length)] };
            for (var h = random.Next(3); h > 0; h--)
            {
                request = random.Next(2) == 0
                    ? request.With(TrackHeaders[random.Next(TrackHeaders.Length)], HeaderValues[random.Next(HeaderValues.Length)])
                    : request.With(GenericHeaders[random.Next(GenericHeaders.Length)].Name, GenericHeaders[random.Next(GenericHeaders.Length)].Value);
            }

            if (random.Next(3) == 0)
            {
                var bytes = new byte[random.Next(0, 4096)];
                random.NextBytes(bytes);
                request = request with { Body = bytes };
                request = request.With("Content-Type", random.Next(2) == 0 ? "application/json" : "application/octet-stream");
            }

            yield return builder.Case("fuzz", request);
        }
    }

    private HostileCase Case(string category, RawRequest request, IReadOnlyList<string>? registers = null) =>
        new(category, request with { What = $"#{Interlocked.Increment(ref serial)} {request.Method} {request.Target}" })
        {
            Registers = registers ?? [],
        };

    /// <summary>The request with the endpoint's proper credentials (and a fresh requester on track endpoints).</summary>
    private RawRequest Base(ApiEndpoint endpoint, string target, bool requester = true, bool auth = true)
    {
        var request = new RawRequest("", endpoint.Method, target);
        if (auth && endpoint.Role != EndpointRole.Public)
        {
            request = request.With("Authorization", "Bearer " + (endpoint.Role == EndpointRole.Track ? BrokerNode.TrackToken : BrokerNode.AdminToken));
        }

        if (requester && endpoint.Role == EndpointRole.Track)
        {
            request = request.With("X-Instruqt-Sandbox-ID", $"gd-hostile-r{Interlocked.Increment(ref serial)}");
        }

        return request;
    }

    private static IEnumerable<string> Authorizations(ApiEndpoint endpoint)
    {
        var token = endpoint.Role == EndpointRole.Admin ? BrokerNode.AdminToken : BrokerNode.TrackToken;
        return
        [
            "Bearer " + new string('t', 5000), "Bearer \u0001", "Basic Z2FtZWRheTpnYW1lZGF5", "Bearer", "Bearer ", "Bearer " + token + "\u0001",
            "Bearer " + token + " extra", "bearer " + token.ToUpperInvariant(), RawRequest.Utf8("Bearer é💥"), "Bearer \u00ff\u00fe",
            "Token " + token, "Bearer ' OR 1=1 --", "Bearer " + token[..^1],
        ];
    }

    private IEnumerable<HostileCase> Bodies(RawRequest plain)
    {
        const string Json = "application/json";
        var random = new Random(7);
        var noise = new byte[75_000];
        random.NextBytes(noise);
        var tooMany = "{\"sandboxes\":[" + string.Join(',', Enumerable.Range(0, 1001).Select(i =>
            $"{{\"sandbox_id\":\"gd-bulk-{i}\",\"name\":\"gd-bulk-{i}\",\"external_id\":\"identity/accounts/gd-bulk-{i}\"}}")) + "]}";
        (string Body, string ContentType)[] bodies =
        [
            ("{", Json), ("{\"sandboxes\":null}", Json), ("{\"sandboxes\":[{\"sandbox_id\":null}]}", Json), ("[]", Json), ("null", Json),
            ("\"\"", Json), (Convert.ToBase64String(noise), Json), (new string('[', 100_000), Json), (tooMany, Json),
            ("{\"sandboxes\":[{\"sandbox_id\":\"x y\",\"name\":\"n\",\"external_id\":\"e\"}]}", Json),
            ("{\"sandboxes\":[{\"sandbox_id\":\"" + new string('i', 3000) + "\",\"name\":\"n\",\"external_id\":\"e\"}]}", Json),
            ("{\"sandboxes\":[{\"sandbox_id\":\"gd\\u0000x\",\"name\":\"n\",\"external_id\":\"e\"}]}", Json),
            ("{\"sandboxes\":[{\"sandbox_id\":1,\"name\":{},\"external_id\":[]}]}", Json),
            ("{\"sandboxes\":[{\"sandbox_id\":\"\",\"name\":\"\",\"external_id\":\"\"}]}", Json),
            ("{\"sandboxes\":[], \"sandboxes\":[{\"sandbox_id\":\"gd-dup\"}]}", Json),
            ("<sandboxes><sandbox id=\"x\"/></sandboxes>", "application/xml"), ("sandboxes=1&sandbox_id=x", "application/x-www-form-urlencoded"),
            ("--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b"),
            ("{\"sandboxes\":[]}", "text/plain"), ("{\"sandboxes\":[]}", ""), ("{\"sandboxes\":[]}", "application/json; charset=latin1"),
            ("{\"sandboxes\":[{\"sandbox_id\":\"\u00ff\u00fe\",\"name\":\"n\",\"external_id\":\"e\"}]}", Json),
        ];
        foreach (var (body, contentType) in bodies)
        {
            var request = plain with { Body = Encoding.Latin1.GetBytes(body) };
            yield return Case("body", contentType.Length == 0 ? request : request.With("Content-Type", contentType));
        }

        // Duplicate member names: the parser keeps one of them; either id may be registered, nothing else.
        yield return Case("body", (plain with
        {
            Body = "{\"sandboxes\":[{\"sandbox_id\":\"gd-a\",\"name\":\"n\",\"external_id\":\"e\",\"sandbox_id\":\"gd-b\"}]}"u8.ToArray(),
        }).With("Content-Type", Json), ["gd-a", "gd-b"]);

        // Valid but injection-shaped: registration is entitled to store these ids verbatim.
        string[] odd = ["gd-SBX#w#META", "gd-'OR'1'='1", "gd-${jndi:x}", "gd-<script>"];
        var valid = "{\"sandboxes\":[" + string.Join(',', odd.Select(id =>
            $"{{\"sandbox_id\":{JsonSerializer.Serialize(id)},\"name\":{JsonSerializer.Serialize("n-" + id)},\"external_id\":\"identity/accounts/x\"}}")) + "]}";
        yield return Case("body", (plain with { Body = Encoding.UTF8.GetBytes(valid) }).With("Content-Type", Json), odd);

        // Chunked framing, and oversized bodies (5 MB) with and without Expect: 100-continue.
        yield return Case("body", (plain with { Body = "5\r\n{\"san\r\n0\r\n\r\n"u8.ToArray(), ContentLength = false })
            .With("Transfer-Encoding", "chunked").With("Content-Type", Json));
        var huge = Encoding.ASCII.GetBytes(new string('a', 5_000_000));
        yield return Case("oversized body", (plain with { Body = huge, MayCloseEarly = true }).With("Content-Type", Json));
        yield return Case("oversized body", (plain with { Body = huge, MayCloseEarly = true }).With("Content-Type", Json).With("Expect", "100-continue"));
    }
}
