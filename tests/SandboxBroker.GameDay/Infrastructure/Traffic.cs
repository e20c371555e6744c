using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace SandboxBroker.GameDay.Infrastructure;

/// <summary>One HTTP exchange as the client saw it. <see cref="Status"/> 0: no answer (refused, reset, timed out).</summary>
public sealed record Answer(
    string What,
    int Status,
    string Body,
    IReadOnlyDictionary<string, string> Headers,
    double StartedMs,
    double EndedMs,
    string? Error = null)
{
    public bool IsServerError => Status is 0 or >= 500;

    public double ElapsedMs => EndedMs - StartedMs;

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Body);
        return document.RootElement.Clone();
    }

    /// <summary>The problem `code` when the body is a problem document, else null.</summary>
    public string? ProblemCode
    {
        get
        {
            try
            {
                return Json() is { ValueKind: JsonValueKind.Object } root && root.TryGetProperty("code", out var code)
                    && code.ValueKind == JsonValueKind.String ? code.GetString() : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    public override string ToString() =>
        $"{What} -> {(Status == 0 ? "no answer" : Status.ToString(System.Globalization.CultureInfo.InvariantCulture))}" +
        $" in {ElapsedMs:0} ms{(Error is null ? "" : $" ({Error})")} {(Body.Length > 160 ? Body[..160] : Body)}";
}

/// <summary>A window during which a fault was injected on purpose (ms on the <see cref="Traffic"/> clock).</summary>
public sealed record FaultWindow(string Fault, double FromMs, double ToMs);

/// <summary>
/// Sends and records every request of a scenario on one clock, so 5xx answers can be told apart: inside a window where
/// a fault was injected on purpose, or outside (a real failure). Answers are kept (bounded) for the assertions.
/// </summary>
public sealed class Traffic(ScenarioRow row)
{
    private const int MaxKept = 200_000;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Answer> answers = new();
    private readonly List<FaultWindow> windows = [];
    private long sent;

    public double NowMs => clock.Elapsed.TotalMilliseconds;

    public long Sent => Interlocked.Read(ref sent);

    public IReadOnlyCollection<Answer> Answers => answers;

    public ScenarioRow Row => row;

    /// <summary>Sends one request (disposed here) and records the answer; never throws for transport failures.</summary>
    public async Task<Answer> SendAsync(HttpClient http, HttpRequestMessage request, TimeSpan timeout, CancellationToken ct, string? what = null)
    {
        Interlocked.Increment(ref sent);
        row.CountRequests(1);
        var label = what ?? $"{request.Method} {request.RequestUri}";
        var started = NowMs;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        Answer answer;
        try
        {
            using (request)
            using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, limit.Token))
            {
                var body = await response.Content.ReadAsStringAsync(limit.Token);
                answer = new Answer(label, (int)response.StatusCode, body, HeadersOf(response), started, NowMs);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            answer = new Answer(label, 0, "", Empty, started, NowMs, $"no answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException ex)
        {
            answer = new Answer(label, 0, "", Empty, started, NowMs, ex.HttpRequestError.ToString());
        }

        Keep(answer);
        return answer;
    }

    /// <summary>Sends hostile bytes on a fresh connection (<see cref="RawHttp"/>) and records the answer.</summary>
    public Task<Answer> SendRawAsync(Uri baseAddress, RawRequest request, TimeSpan timeout, CancellationToken ct) =>
        RawHttp.SendAsync(baseAddress, request, () => NowMs, timeout, ct).ContinueWith(t => Record(t.Result), ct,
            TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    /// <summary>Records an answer obtained another way (raw sockets).</summary>
    public Answer Record(Answer answer)
    {
        Interlocked.Increment(ref sent);
        row.CountRequests(1);
        Keep(answer);
        return answer;
    }

    /// <summary>Marks [from, to] as a window where a fault was injected on purpose.</summary>
    public void FaultWindow(string fault, double fromMs, double toMs)
    {
        lock (windows)
        {
            windows.Add(new FaultWindow(fault, fromMs, toMs));
        }
    }

    /// <summary>5xx (or no answer) whose exchange overlaps no fault window, excluding answers the caller expected.</summary>
    public IReadOnlyList<Answer> ServerErrorsOutsideFaults(Func<Answer, bool>? expected = null)
    {
        List<FaultWindow> copy;
        lock (windows)
        {
            copy = [.. windows];
        }

        return answers
            .Where(a => a.IsServerError)
            .Where(a => expected is null || !expected(a))
            .Where(a => !copy.Any(w => a.StartedMs <= w.ToMs && a.EndedMs >= w.FromMs))
            .ToList();
    }

    private void Keep(Answer answer)
    {
        if (answers.Count < MaxKept)
        {
            answers.Enqueue(answer);
        }
    }

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    private static Dictionary<string, string> HeadersOf(HttpResponseMessage response)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        void Add(HttpHeaders source)
        {
            foreach (var (name, values) in source)
            {
                headers[name] = string.Join(", ", values);
            }
        }

        Add(response.Headers);
        Add(response.Content.Headers);
        return headers;
    }
}
