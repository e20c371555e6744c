using System.Net;
using System.Text.Json;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Edge;

/// <summary>SPEC 17: one problem `type` scheme for the whole API, for the broker's own problems and the framework's.</summary>
public sealed class ProblemTypeTests : IAsyncLifetime
{
    private readonly BrokerFactory broker = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await broker.DisposeAsync();

    [Theory]
    [InlineData("GET", "/v1/no-such-route", false, "NOT_FOUND")]                 // routing's 404
    [InlineData("POST", "/v1/allocate", false, "UNAUTHORIZED")]                  // the token handler
    [InlineData("POST", "/v1/allocate", true, "MISSING_SANDBOX_ID")]             // a handler's validation
    [InlineData("GET", "/v1/sandboxes/nope", true, "MISSING_SANDBOX_ID")]
    public async Task Every_problem_names_its_code_in_one_type_scheme(string method, string path, bool withToken, string code)
    {
        using var client = withToken ? broker.ClientWith(BrokerFactory.TrackToken) : broker.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));

        using var response = await client.SendAsync(request);

        Assert.NotEqual(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, body.RootElement.GetProperty("code").GetString());
        Assert.Equal("urn:sandbox-broker:problem:" + code, body.RootElement.GetProperty("type").GetString());
    }
}
