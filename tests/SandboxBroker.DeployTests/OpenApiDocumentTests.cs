using System.Net;
using System.Text.Json.Nodes;
using SandboxBroker.DeployTests.Infrastructure;

namespace SandboxBroker.DeployTests;

/// <summary>
/// SPEC 17: the OpenAPI document is generated at build time (src/SandboxBroker.Api/obj/openapi/openapi.json), its
/// committed copy docs/openapi.json must not drift from it or from what the broker serves, and it passes the linter
/// (npm @redocly/cli, installed into tools/ by scripts/test.sh). scripts/openapi.sh refreshes the copy.
/// </summary>
public sealed class OpenApiDocumentTests(BrokerApp app) : IClassFixture<BrokerApp>
{
    private const string Refresh = "docs/openapi.json drifted from the API: run scripts/openapi.sh and commit the result";

    private static JsonNode Committed() => JsonNode.Parse(Repo.Read("docs", "openapi.json"))!;

    [Fact]
    public void The_committed_document_is_the_one_the_build_generates()
    {
        var generated = Repo.PathOf("src", "SandboxBroker.Api", "obj", "openapi", "openapi.json");
        Assert.True(File.Exists(generated), $"the build wrote no {Repo.Relative(generated)}: is build-time generation still on?");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(generated)), Committed()), Refresh);
    }

    [Fact]
    public async Task The_served_document_is_the_committed_one_and_describes_what_a_client_needs()
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync(new Uri("/v1/openapi.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var served = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.True(JsonNode.DeepEquals(served, Committed()), Refresh);
        var allocate = served["paths"]!["/v1/allocate"]!["post"]!;
        var headers = allocate["parameters"]!.AsArray().Where(p => (string?)p!["in"] == "header").Select(p => (string)p!["name"]!).ToList();
        Assert.Equal(["X-Instruqt-Sandbox-ID", "X-Track-ID", "X-Instruqt-Track-ID", "X-Sandbox-Name-Prefix", "Idempotency-Key"], headers);
        foreach (var (path, item) in served["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var security = operation!["security"]!.AsArray();
                var bearer = security.Any(r => r!.AsObject().ContainsKey("Bearer"));
                Assert.True(bearer == path.StartsWith("/v1/", StringComparison.Ordinal), $"{method} {path}: security {security.ToJsonString()}");
                if (bearer)
                {
                    var responses = operation["responses"]!.AsObject();
                    foreach (var status in new[] { "401", "403", "429", "500", "503" })
                    {
                        Assert.True(responses.ContainsKey(status), $"{method} {path} does not document {status}");
                        Assert.NotNull(responses[status]!["content"]!["application/problem+json"]);
                    }
                }
            }
        }
    }

    [Fact]
    public async Task The_document_passes_the_openapi_linter()
    {
        var cli = Repo.PathOf("tools", "node_modules", "@redocly", "cli", "bin", "cli.js");
        Assert.True(File.Exists(cli), "@redocly/cli is not installed: run npm ci --prefix tools (scripts/test.sh does)");

        var result = await ProcessRunner.RunAsync("node", [cli, "lint", "docs/openapi.json", "--format", "stylish"], Repo.Root, TimeSpan.FromMinutes(2),
            new Dictionary<string, string?> { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true" });

        Assert.True(result.ExitCode == 0, result.Describe("redocly lint docs/openapi.json"));
    }
}
