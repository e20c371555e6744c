using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SandboxBroker.Api.Configuration;
using SandboxBroker.Api.Http;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Trust;

/// <summary>
/// Issue 14 item 12: an endpoint that does not say who may call it needs a valid token (the fallback policy), and
/// every endpoint the broker maps says so explicitly: a role policy, or AllowAnonymous for the probes, metrics, docs
/// and console.
/// </summary>
public sealed class DefaultAuthorizationTests
{
    private const string Track = "track-secret-0123456789";

    private static readonly string[] PublicRoutes = ["/", "/healthz", "/readyz", "/metrics", "/v1/openapi.json", "/v1/docs", "/console/{*file}"];

    [Fact]
    public async Task An_endpoint_mapped_without_an_authorization_rule_needs_a_token_and_unmatched_requests_keep_404_and_405()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddOptions<BrokerOptions>().Configure(o => o.TrackTokens.Add(Track));
        builder.Services.AddTokenAuthentication();
        await using var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/v1/forgotten", () => "secret data"); // a future endpoint someone forgot to protect
        await app.StartAsync();
        using var client = app.GetTestClient();

        using var anonymous = await client.GetAsync(new Uri("/v1/forgotten", UriKind.Relative));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/forgotten") { Headers = { { "Authorization", "Bearer " + Track } } };
        using var withToken = await client.SendAsync(request);
        using var unknown = await client.GetAsync(new Uri("/v1/nothing-here", UriKind.Relative));
        using var wrongMethod = await client.DeleteAsync(new Uri("/v1/forgotten", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.DoesNotContain("secret data", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, "secret data"), (withToken.StatusCode, await withToken.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
    }

    [Fact]
    public async Task Every_route_the_broker_maps_declares_its_callers_and_only_the_known_public_ones_are_anonymous()
    {
        await using var broker = new BrokerFactory();
        using var client = broker.CreateClient(); // builds the host

        var routes = broker.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

        Assert.NotEmpty(routes);
        var undeclared = routes.Where(r => r.Metadata.GetMetadata<IAuthorizeData>() is null && r.Metadata.GetMetadata<IAllowAnonymous>() is null)
            .Select(r => r.RoutePattern.RawText).ToList();
        Assert.True(undeclared.Count == 0, "routes without RequireAuthorization or AllowAnonymous: " + string.Join(", ", undeclared));
        var anonymous = routes.Where(r => r.Metadata.GetMetadata<IAllowAnonymous>() is not null).Select(r => r.RoutePattern.RawText!)
            .Select(route => route.StartsWith("/v1/docs", StringComparison.Ordinal) ? "/v1/docs" : route) // the API reference page and its assets
            .Distinct().Order().ToList();
        Assert.Equal(PublicRoutes.Order(), anonymous);
    }
}
