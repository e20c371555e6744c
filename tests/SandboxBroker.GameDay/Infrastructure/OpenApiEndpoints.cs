using System.Text.Json;

namespace SandboxBroker.GameDay.Infrastructure;

/// <summary>Who may call an endpoint: anyone (probes, docs, metrics), a track token, an admin token, or either (capacity).</summary>
public enum EndpointRole
{
    Public,
    Track,
    Admin,
    TrackOrAdmin,
}

/// <summary>One operation of the broker's HTTP surface.</summary>
public sealed record ApiEndpoint(string Method, string Template, IReadOnlyList<string> PathParameters, IReadOnlyList<string> QueryParameters, bool HasBody)
{
    public EndpointRole Role =>
        Template.StartsWith(BrokerNode.BasePath + "/admin/", StringComparison.Ordinal) ? EndpointRole.Admin
        : Template == BrokerNode.BasePath + "/capacity" ? EndpointRole.TrackOrAdmin
        : Template.StartsWith(BrokerNode.BasePath + "/", StringComparison.Ordinal)
          && !Template.StartsWith(BrokerNode.BasePath + "/openapi", StringComparison.Ordinal)
          && !Template.StartsWith(BrokerNode.BasePath + "/docs", StringComparison.Ordinal) ? EndpointRole.Track
        : EndpointRole.Public;

    /// <summary>The path with every {parameter} replaced by <paramref name="value"/> (already encoded as it should be sent).</summary>
    public string PathWith(string value) =>
        PathParameters.Aggregate(Template, (path, name) => path.Replace("{" + name + "}", value, StringComparison.Ordinal));

    public override string ToString() => $"{Method} {Template}";
}

public static class OpenApiEndpoints
{
    /// <summary>Served but (rightly) not described in the OpenAPI document (the probes are the framework's health checks).</summary>
    public static readonly ApiEndpoint[] Undocumented =
    [
        new("GET", "/healthz", [], [], false),
        new("GET", "/readyz", [], [], false),
        new("GET", "/metrics", [], [], false),
        new("GET", BrokerNode.BasePath + "/openapi.json", [], [], false),
        new("GET", BrokerNode.BasePath + "/docs", [], [], false),
    ];

    /// <summary>Every operation of GET /v1/openapi.json plus <see cref="Undocumented"/>.</summary>
    public static async Task<List<ApiEndpoint>> ReadAsync(BrokerNode broker, CancellationToken ct)
    {
        var answer = await broker.SendAsync(BrokerNode.Request(HttpMethod.Get, BrokerNode.BasePath + "/openapi.json", null), ct);
        Assert.True(answer.Status == 200, $"GET /v1/openapi.json: {answer}");
        var endpoints = new List<ApiEndpoint>();
        foreach (var path in answer.Json().GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var parameters = operation.Value.TryGetProperty("parameters", out var p) ? p.EnumerateArray().ToList() : [];
                string[] Of(string where) => parameters
                    .Where(x => x.GetProperty("in").GetString() == where)
                    .Select(x => x.GetProperty("name").GetString()!)
                    .ToArray();
                endpoints.Add(new ApiEndpoint(operation.Name.ToUpperInvariant(), path.Name, Of("path"), Of("query"),
                    operation.Value.TryGetProperty("requestBody", out _)));
            }
        }

        endpoints.AddRange(Undocumented.Where(u => !endpoints.Any(e => e.Method == u.Method && e.Template == u.Template)));
        return endpoints;
    }
}
