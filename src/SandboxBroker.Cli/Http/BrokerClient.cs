using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Http;

/// <summary>
/// HTTP to the broker's API root: JSON in and out, every non-2xx turned into a <see cref="BrokerProblemException"/>
/// and every transport failure into a <see cref="BrokerUnreachableException"/>. With --verbose it prints the method,
/// URL, status, time and request id of each call; headers (and so the token) are never printed.
/// </summary>
internal sealed class BrokerClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly HttpClient http;
    private readonly Terminal terminal;
    private readonly bool verbose;

    public BrokerClient(Uri root, string token, Terminal terminal, bool verbose, HttpMessageHandler? handler = null)
    {
        Root = root;
        this.terminal = terminal;
        this.verbose = verbose;
        http = handler is null ? new HttpClient() : new HttpClient(handler);
        http.BaseAddress = root;
        http.Timeout = Timeout;
        // Without validation: a malformed token must never end up quoted in a FormatException message.
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("sandbox-broker-cli", "1.0"));
    }

    public Uri Root { get; }

    public async Task<JsonNode?> GetAsync(string path, CancellationToken ct) => (await SendAsync(HttpMethod.Get, path, null, ct)).Body;

    public async Task<BrokerReply> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        var url = new Uri(Root, path);
        if (verbose)
        {
            terminal.Error($"> {method} {url}");
        }

        var started = Stopwatch.GetTimestamp();
        using var response = await SendOrExplainAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        var requestId = response.Headers.TryGetValues("X-Request-ID", out var ids) ? ids.FirstOrDefault() : null;
        if (verbose)
        {
            terminal.Error($"< {(int)response.StatusCode} {response.ReasonPhrase} in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms" +
                           (requestId is null ? string.Empty : $" (request_id {requestId})"));
        }

        var json = TryParse(text);
        if (!response.IsSuccessStatusCode)
        {
            throw Problem((int)response.StatusCode, json, text, requestId, method.Method, path);
        }

        return new BrokerReply((int)response.StatusCode, json, response.Headers.Location);
    }

    private async Task<HttpResponseMessage> SendOrExplainAsync(HttpRequestMessage request, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new BrokerUnreachableException($"cannot reach the broker at {Root}: {(ex.InnerException ?? ex).Message}", ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new BrokerUnreachableException($"the broker at {Root} did not answer within {Timeout.TotalSeconds:0} s", ex);
        }
    }

    private static BrokerProblemException Problem(int status, JsonNode? json, string text, string? headerRequestId, string method, string path)
    {
        var code = Formats.Text(json, "code") ?? "HTTP_" + status;
        var detail = Formats.Text(json, "detail") ?? Formats.Text(json, "title");
        if (detail is null && text.Length > 0)
        {
            // Not a problem body (a proxy's HTML page, say): show its start, on one line.
            detail = "(not a problem body) " + string.Concat(text.Take(200)).ReplaceLineEndings(" ");
        }

        return new BrokerProblemException(status, code, detail, Formats.Text(json, "request_id") ?? headerRequestId, method, path);
    }

    private static JsonNode? TryParse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => http.Dispose();
}
