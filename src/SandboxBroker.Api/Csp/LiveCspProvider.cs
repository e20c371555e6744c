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

    public Task<IReadOnlyList<UpstreamSandbox>> ListSandboxesAsync(CancellationToken ct) =>
        ExecuteAsync("list", async token =>
        {
            using var request = NewRequest(HttpMethod.Get, options.CurrentValue.ListPath);
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
        }, ct);

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

    private CspException Failure(string operation, string message, Exception inner)
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
