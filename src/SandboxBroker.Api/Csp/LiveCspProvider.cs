using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly.Timeout;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Csp;

/// <summary>
/// The ENG CSP over HTTP, a typed client: `Authorization: Token &lt;token&gt;`, one attempt per call
/// inside <see cref="CspCircuit"/>. The body is read inside the pipeline, so a slow body counts against the
/// request timeout and a malformed one counts as a breaker failure (an HTML error page with 200 is an outage too).
/// Failures surface as <see cref="CspException"/>; an open circuit as Polly's BrokenCircuitException.
/// </summary>
internal sealed partial class LiveCspProvider(
    HttpClient http,
    CspCircuit circuit,
    IOptionsMonitor<CspOptions> options,
    TimeProvider time,
    ILogger<LiveCspProvider> logger) : ICspProvider
{
    public string Mode => CspOptions.LiveMode;

    /// <summary>
    /// Reads the list page by page (`_offset`/`_limit`, Csp:ListPageSize rows each) until a short page. A page with more
    /// rows than asked for means CSP ignores paging and sent everything at once. A page that only repeats rows already
    /// read cannot be told from a CSP that ignores `_offset`, so the read fails rather than pass off part of the list
    /// as all of it; so does any failed page.
    /// </summary>
    public async Task<UpstreamListing> ListSandboxesAsync(CancellationToken ct)
    {
        var pageSize = options.CurrentValue.ListPageSize;
        var active = new List<UpstreamSandbox>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var rows = new HashSet<string>(StringComparer.Ordinal);
        for (var offset = 0; ; offset += pageSize)
        {
            var page = await ExecuteAsync("list", token => ReadPageAsync(offset, pageSize, token), ct);
            var fresh = 0;
            foreach (var row in page.RowKeys)
            {
                fresh += rows.Add(row) ? 1 : 0;
            }

            if (offset > 0 && page.RowKeys.Count > 0 && fresh == 0)
            {
                throw Failure("list", $"CSP answered the page at offset {offset} with rows already read; the list cannot be read completely", null);
            }

            active.AddRange(page.Active);
            listed.UnionWith(page.Ids);
            if (page.RowKeys.Count != pageSize)
            {
                return new UpstreamListing(active, listed); // a short page is the last; a longer one was everything
            }

            if (offset / pageSize >= MaxPages)
            {
                throw Failure("list", $"CSP listed more than {MaxPages} pages of {pageSize} accounts", null);
            }
        }
    }

    /// <summary>A bound on a list that never ends (a CSP fault), far above any real pool.</summary>
    private const int MaxPages = 10_000;

    private async Task<CspAccountPage> ReadPageAsync(int offset, int pageSize, CancellationToken token)
    {
        var path = options.CurrentValue.ListPath;
        var query = string.Create(CultureInfo.InvariantCulture, $"_offset={offset}&_limit={pageSize}");
        using var request = NewRequest(HttpMethod.Get, path + (path.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
        ThrowUnlessSuccess(response, "list", acceptNotFound: false);
        var limit = options.CurrentValue.MaxResponseBytes;
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new CspException($"CSP announced {response.Content.Headers.ContentLength} bytes, over Csp:MaxResponseBytes ({limit})", 200)
            {
                CountsAsFailure = true,
            };
        }

        await using var body = new BoundedReadStream(await response.Content.ReadAsStreamAsync(token), limit);
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: token);
        return CspAccounts.Parse(document, skipped => LogRowSkipped(logger, skipped));
    }

    public Task DeleteSandboxAsync(Sandbox sandbox, CancellationToken ct)
    {
        // Only a real account uuid goes into the DELETE path: a crafted external_id must never address another resource.
        var uuid = CspAccounts.UuidOf(sandbox.ExternalId);
        if (!Guid.TryParseExact(uuid, "D", out _))
        {
            throw new CspException($"sandbox {sandbox.SandboxId} has no valid CSP account uuid (external_id '{sandbox.ExternalId}')");
        }

        var path = options.CurrentValue.DeletePathTemplate.Replace("{uuid}", Uri.EscapeDataString(uuid), StringComparison.Ordinal);
        return ExecuteAsync("delete", async token =>
        {
            using var request = NewRequest(HttpMethod.Delete, path);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            ThrowUnlessSuccess(response, "delete", acceptNotFound: true); // 404: already gone upstream
            return true;
        }, ct);
    }

    private async Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await circuit.Pipeline.ExecuteAsync(static async (state, token) => await state(token), call, ct);
        }
        catch (CspException ex)
        {
            LogFailed(logger, operation, ex.Message);
            throw;
        }
        catch (TimeoutRejectedException ex)
        {
            throw Failure(operation, $"CSP {operation} timed out after {circuit.RequestTimeout.TotalSeconds:0.###} s", ex);
        }
        catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException && !ct.IsCancellationRequested)
        {
            throw Failure(operation, $"CSP {operation} timed out", ex);
        }
        catch (HttpRequestException ex)
        {
            throw Failure(operation, $"CSP {operation} failed: {ex.Message}", ex);
        }
        catch (JsonException ex)
        {
            throw Failure(operation, $"CSP {operation} answered a malformed body: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw Failure(operation, $"CSP {operation} broke off: {ex.Message}", ex);
        }
    }

    private CspException Failure(string operation, string message, Exception? inner)
    {
        LogFailed(logger, operation, message);
        return new CspException(message, null, inner) { CountsAsFailure = true };
    }

    private HttpRequestMessage NewRequest(HttpMethod method, string relativePath)
    {
        var uri = new Uri(relativePath.TrimStart('/'), UriKind.Relative);
        HttpRequestMessage? request = null;
        try
        {
            request = new HttpRequestMessage(method, uri);
            request.Headers.TryAddWithoutValidation("Authorization", "Token " + options.CurrentValue.Token);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            var built = request;
            request = null; // the caller owns it now
            return built;
        }
        finally
        {
            request?.Dispose();
        }
    }

    private void ThrowUnlessSuccess(HttpResponseMessage response, string operation, bool acceptNotFound)
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode || (acceptNotFound && response.StatusCode == HttpStatusCode.NotFound))
        {
            return;
        }

        throw new CspException($"CSP {operation} answered {status} {response.ReasonPhrase}".TrimEnd(), status)
        {
            CountsAsFailure = status >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests,
            RetryAfter = RetryAfterOf(response.Headers.RetryAfter),
        };
    }

    private TimeSpan? RetryAfterOf(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "CSP account list: skipped {Row} (it cannot be keyed safely); the rest of the list is used")]
    private static partial void LogRowSkipped(ILogger logger, string row);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CSP {Operation} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string operation, string reason);
}
