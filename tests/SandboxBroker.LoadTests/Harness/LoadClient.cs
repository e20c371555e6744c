using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace SandboxBroker.LoadTests.Harness;

/// <summary>
/// HTTP calls of the harness against one broker: the track endpoints as a lab script calls them (bearer token,
/// X-Instruqt-Sandbox-ID, no body), /healthz, and the admin API for registration and verification. One pooled
/// HTTP/1.1 client with enough connections for every concurrent caller; 30 s per request, as the lab clients.
/// </summary>
public sealed class LoadClient : IDisposable
{
    private readonly HttpClient http;
    private readonly AuthenticationHeaderValue track;
    private readonly AuthenticationHeaderValue admin;
    private long answeredUnderBasePath;

    public LoadClient(Uri baseAddress, string trackToken, string adminToken, int connections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(connections, 4),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        track = new AuthenticationHeaderValue("Bearer", trackToken);
        admin = new AuthenticationHeaderValue("Bearer", adminToken);
    }

    /// <summary>Answers (any status) received from endpoints under /v1: each must have its own request log line.</summary>
    public long AnsweredUnderBasePath => Interlocked.Read(ref answeredUnderBasePath);

    // ---- track endpoints ----------------------------------------------------------------------------------

    public Task<CallResult> AllocateAsync(string requester, string? trackName, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/allocate", UriKind.Relative));
        request.Headers.Authorization = track;
        request.Headers.TryAddWithoutValidation("X-Instruqt-Sandbox-ID", requester);
        if (trackName is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Instruqt-Track-ID", trackName);
        }

        return SendAsync(request, readSandboxId: true, ct);
    }

    public Task<CallResult> GetAsync(string requester, string sandboxId, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v1/sandboxes/" + Uri.EscapeDataString(sandboxId), UriKind.Relative));
        request.Headers.Authorization = track;
        request.Headers.TryAddWithoutValidation("X-Instruqt-Sandbox-ID", requester);
        return SendAsync(request, readSandboxId: true, ct);
    }

    public Task<CallResult> MarkForDeletionAsync(string requester, string sandboxId, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post,
            new Uri("/v1/sandboxes/" + Uri.EscapeDataString(sandboxId) + "/mark-for-deletion", UriKind.Relative));
        request.Headers.Authorization = track;
        request.Headers.TryAddWithoutValidation("X-Instruqt-Sandbox-ID", requester);
        return SendAsync(request, readSandboxId: true, ct);
    }

    public Task<CallResult> HealthAsync(CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri("/healthz", UriKind.Relative)), readSandboxId: false, ct);

    /// <summary>One request: status (0 for a transport error or timeout), latency in ms, and the sandbox_id it named.</summary>
    private async Task<CallResult> SendAsync(HttpRequestMessage request, bool readSandboxId, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using (request)
            using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct))
            {
                if (readSandboxId)
                {
                    Interlocked.Increment(ref answeredUnderBasePath);
                }

                string? sandboxId = null;
                if (readSandboxId && response.IsSuccessStatusCode)
                {
                    sandboxId = ReadSandboxId(await response.Content.ReadAsByteArrayAsync(ct));
                }

                return new CallResult((int)response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds, sandboxId);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException && !ct.IsCancellationRequested)
        {
            return new CallResult(0, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null);
        }
    }

    private static string? ReadSandboxId(byte[] body)
    {
        var reader = new Utf8JsonReader(body);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("sandbox_id"u8))
            {
                reader.Read();
                return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
        }

        return null;
    }

    // ---- admin API ----------------------------------------------------------------------------------------

    /// <summary>Registers <paramref name="count"/> sandboxes named <c>{prefix}-{n}</c> through POST /v1/admin/sandboxes, 1,000 per call.</summary>
    public async Task<List<string>> RegisterAsync(string prefix, int count, CancellationToken ct)
    {
        var ids = new List<string>(count);
        for (var offset = 0; offset < count; offset += 1000)
        {
            var batch = Enumerable.Range(offset, Math.Min(1000, count - offset))
                .Select(n => $"{prefix}-{n.ToString("D6", CultureInfo.InvariantCulture)}")
                .ToList();
            var body = JsonSerializer.Serialize(new
            {
                sandboxes = batch.Select(id => new Dictionary<string, string>
                {
                    ["sandbox_id"] = id,
                    ["name"] = "bench-" + id,
                    ["external_id"] = "identity/accounts/" + id,
                    ["sfdc_account_id"] = "sfdc-" + id,
                }),
            });
            using var response = await AdminAsync(HttpMethod.Post, "/v1/admin/sandboxes",
                () => new StringContent(body, Encoding.UTF8, "application/json"), ct);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var created = json.RootElement.GetProperty("created").GetInt32();
            if (created != batch.Count)
            {
                throw new InvalidOperationException($"registered {created} of {batch.Count} sandboxes ({prefix})");
            }

            ids.AddRange(batch);
        }

        return ids;
    }

    /// <summary>Every sandbox in one state (or every non-tombstone one), through the cursor-paged admin list.</summary>
    public async Task<List<ListedSandbox>> ListAsync(string? status, CancellationToken ct)
    {
        var result = new List<ListedSandbox>();
        string? cursor = null;
        do
        {
            var query = "/v1/admin/sandboxes?limit=100" + (status is null ? "" : "&status=" + status)
                + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            using var response = await AdminAsync(HttpMethod.Get, query, null, ct);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            foreach (var item in json.RootElement.GetProperty("sandboxes").EnumerateArray())
            {
                result.Add(new ListedSandbox(
                    item.GetProperty("sandbox_id").GetString()!,
                    item.GetProperty("status").GetString()!,
                    item.TryGetProperty("allocated_to_track", out var holder) && holder.ValueKind == JsonValueKind.String ? holder.GetString() : null));
            }

            cursor = json.RootElement.TryGetProperty("cursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);

        return result;
    }

    /// <summary>POST /v1/admin/reservations for an hour: the reservation id (all <paramref name="count"/> held, or it throws).</summary>
    public async Task<string> ReserveAsync(string trackName, int count, CancellationToken ct)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["track_name"] = trackName,
            ["count"] = count,
            ["ends_at"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
        });
        using var response = await AdminAsync(HttpMethod.Post, "/v1/admin/reservations", () => new StringContent(body, Encoding.UTF8, "application/json"), ct);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return json.RootElement.GetProperty("reservation_id").GetString()!;
    }

    /// <summary>How many sandboxes the reservation still holds (reserved, not yet allocated).</summary>
    public async Task<long> ReservationHeldAsync(string reservationId, CancellationToken ct)
    {
        using var response = await AdminAsync(HttpMethod.Get, "/v1/admin/reservations/" + Uri.EscapeDataString(reservationId), null, ct);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return json.RootElement.GetProperty("held").GetInt64();
    }

    /// <summary>GET /v1/admin/invariants: the broker's own invariant pass (violations found).</summary>
    public async Task<int> InvariantViolationsAsync(CancellationToken ct)
    {
        using var response = await AdminAsync(HttpMethod.Get, "/v1/admin/invariants", null, ct);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return json.RootElement.GetProperty("violations").GetInt32();
    }

    /// <summary>The value of one unlabelled (or exactly labelled) series in /metrics, 0 when absent.</summary>
    public async Task<double> MetricAsync(string series, CancellationToken ct)
    {
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), ct);
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>An admin call; 429 waits Retry-After and tries again (the admin bucket is small), anything else non-2xx throws.</summary>
    private async Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, Func<HttpContent>? content, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = content?.Invoke() };
            request.Headers.Authorization = admin;
            var response = await http.SendAsync(request, ct);
            Interlocked.Increment(ref answeredUnderBasePath);
            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            var status = response.StatusCode;
            var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            var body = await response.Content.ReadAsStringAsync(ct);
            response.Dispose();
            if (status != HttpStatusCode.TooManyRequests && (int)status < 500 || attempt >= 20)
            {
                throw new InvalidOperationException($"{method} {path} answered {(int)status}: {body}");
            }

            await Task.Delay(wait, ct);
        }
    }

    public void Dispose() => http.Dispose();
}

/// <summary>One call: HTTP status (0 = transport error or timeout), latency in ms, sandbox_id from a 2xx body.</summary>
public readonly record struct CallResult(int Status, double LatencyMs, string? SandboxId);

public sealed record ListedSandbox(string SandboxId, string Status, string? Holder);
