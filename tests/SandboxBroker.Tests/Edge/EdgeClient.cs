using System.Net.Http.Headers;

namespace SandboxBroker.Tests.Edge;

/// <summary>Small request helpers shared by the edge tests.</summary>
internal static class EdgeClient
{
    public static HttpRequestMessage Request(HttpMethod method, string path, string? requester = null, string? token = null)
    {
        var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (requester is not null)
        {
            request.Headers.Add("X-Instruqt-Sandbox-ID", requester);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }

    public static async Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string path, string? requester = null)
    {
        using var request = Request(method, path, requester);
        return await client.SendAsync(request);
    }

    public static string? Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var content) ? string.Join(",", content)
        : null;
}
