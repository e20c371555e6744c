using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly.Timeout;
using SandboxBroker.Api.Csp;

namespace SandboxBroker.Api.NiosXaas;

/// <summary>A universal service inside a sandbox account.</summary>
public sealed record UniversalService(string Id, string Name);

/// <summary>
/// The NIOSXaaS API over HTTP (typed client), one attempt per call inside <see cref="NiosXaasCircuit"/>; bodies are read
/// inside the pipeline, so HTML, truncated JSON or a service without an id count as breaker failures. Request bodies
/// (the credentials) are never logged.
/// </summary>
internal sealed class NiosXaasClient(HttpClient http, NiosXaasCircuit circuit, IOptionsMonitor<NiosXaasOptions> options)
{
    private const string SignInPath = "v2/session/users/sign_in";
    private const string SwitchPath = "v2/session/account_switch";
    private const string ServicesPath = "api/universalinfra/v1/universalservices";

    /// <summary>The sign-in JWT; throws (401: credentials refused) otherwise.</summary>
    public Task<string> SignInAsync(CancellationToken ct) =>
        ExecuteAsync("sign-in", async token =>
        {
            var settings = options.CurrentValue;
            using var request = NewRequest(HttpMethod.Post, SignInPath, null,
                JsonSerializer.Serialize(new Dictionary<string, string> { ["email"] = settings.Email, ["password"] = settings.Password }));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            ThrowUnlessSuccess(response, "sign-in");
            return Jwt(await ReadAsync(response, token), "sign-in");
        }, ct);

    /// <summary>A JWT for the sandbox account, or null when NIOSXaaS does not know the account (404).</summary>
    public Task<string?> SwitchAsync(string rootJwt, string externalId, CancellationToken ct) =>
        ExecuteAsync<string?>("account switch", async token =>
        {
            using var request = NewRequest(HttpMethod.Post, SwitchPath, rootJwt,
                JsonSerializer.Serialize(new Dictionary<string, string> { ["id"] = externalId }));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            ThrowUnlessSuccess(response, "account switch");
            return Jwt(await ReadAsync(response, token), "account switch");
        }, ct);

    public Task<IReadOnlyList<UniversalService>> ListServicesAsync(string accountJwt, CancellationToken ct) =>
        ExecuteAsync("service list", async token =>
        {
            using var request = NewRequest(HttpMethod.Get, ServicesPath, accountJwt, null);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            ThrowUnlessSuccess(response, "service list");
            using var document = await ReadAsync(response, token);
            return (IReadOnlyList<UniversalService>)Services(document);
        }, ct);

    /// <summary>200, 204 and 404 (already gone) are done.</summary>
    public Task DeleteServiceAsync(string accountJwt, string serviceId, CancellationToken ct) =>
        ExecuteAsync("service delete", async token =>
        {
            var path = ServicesPath + "/" + Uri.EscapeDataString(CspAccounts.UuidOf(serviceId));
            using var request = NewRequest(HttpMethod.Delete, path, accountJwt, null);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                ThrowUnlessSuccess(response, "service delete");
            }

            return true;
        }, ct);

    private async Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await circuit.Pipeline.ExecuteAsync(static async (state, token) => await state(token), call, ct);
        }
        catch (TimeoutRejectedException ex)
        {
            throw Failure($"NIOSXaaS {operation} timed out after {circuit.RequestTimeout.TotalSeconds:0.###} s", ex);
        }
        catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException && !ct.IsCancellationRequested)
        {
            throw Failure($"NIOSXaaS {operation} timed out", ex);
        }
        catch (HttpRequestException ex)
        {
            throw Failure($"NIOSXaaS {operation} failed: {ex.Message}", ex);
        }
        catch (JsonException ex)
        {
            throw Failure($"NIOSXaaS {operation} answered a body that is not JSON: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw Failure($"NIOSXaaS {operation} broke off: {ex.Message}", ex);
        }
    }

    private static NiosXaasException Failure(string message, Exception inner) => new(message, null, inner) { CountsAsFailure = true };

    private static HttpRequestMessage NewRequest(HttpMethod method, string path, string? jwt, string? json)
    {
        HttpRequestMessage? request = null;
        try
        {
            request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
            if (jwt is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
            }

            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            var built = request;
            request = null;
            return built;
        }
        finally
        {
            request?.Dispose();
        }
    }

    private static async Task<JsonDocument> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        return await JsonDocument.ParseAsync(body, cancellationToken: ct);
    }

    private static void ThrowUnlessSuccess(HttpResponseMessage response, string operation)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = (int)response.StatusCode;
        throw new NiosXaasException($"NIOSXaaS {operation} answered {status} {response.ReasonPhrase}".TrimEnd(), status)
        {
            CountsAsFailure = status >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests,
        };
    }

    private static string Jwt(JsonDocument document, string operation)
    {
        using (document)
        {
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("jwt", out var jwt) && jwt.ValueKind == JsonValueKind.String
                   && jwt.GetString() is { Length: > 0 } value
                ? value
                : throw new NiosXaasException($"NIOSXaaS {operation} answered no jwt", 200) { CountsAsFailure = true };
        }
    }

    private static List<UniversalService> Services(JsonDocument document)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
        {
            throw new NiosXaasException("NIOSXaaS service list has no results array", 200) { CountsAsFailure = true };
        }

        var services = new List<UniversalService>(results.GetArrayLength());
        foreach (var service in results.EnumerateArray())
        {
            if (service.ValueKind != JsonValueKind.Object
                || !service.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || CspAccounts.UuidOf(id.GetString()!).Length == 0)
            {
                // A service we cannot address could be the one to delete: the list is not usable.
                throw new NiosXaasException("NIOSXaaS service list holds a service without an id", 200) { CountsAsFailure = true };
            }

            var name = service.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() ?? "" : "";
            services.Add(new UniversalService(id.GetString()!, name));
        }

        return services;
    }
}
