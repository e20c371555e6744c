using SandboxBroker.GameDay.Infrastructure;

namespace SandboxBroker.GameDay.Scenarios;

/// <summary>
/// Every endpoint the broker serves (its OpenAPI document, plus /metrics and the docs) called with no token, a wrong
/// token, the track token and the admin token: 401 (with WWW-Authenticate: Bearer) without a valid token, 403 FORBIDDEN
/// with the other role's token, never a 401/403-for-role with the right one, never a 5xx; probes and docs the same for
/// everyone. Every refusal is a problem body with its code and request id.
/// </summary>
[Collection(GameDayCollection.Name)]
public sealed class AuthMatrixTests(GameDayFixture fixture)
{
    private static readonly (string Name, string? Token)[] Credentials =
    [
        ("no token", null),
        ("wrong token", "gameday-wrong-token-0123456789abcdef"),
        ("track token", BrokerNode.TrackToken),
        ("admin token", BrokerNode.AdminToken),
    ];

    [Fact]
    public Task Every_endpoint_answers_each_credential_with_the_expected_status()
    {
        var path = fixture.NewPath("auth");
        return Scoreboard.RunAsync("Auth matrix: every endpoint × no/wrong/track/admin token", "SQLite", TimeSpan.FromMinutes(3), async (row, ct) =>
        {
            var traffic = new Traffic(row);
            await using var broker = await BrokerNode.StartAsync(traffic, BrokerNode.OnSqlite(path, 30));
            await broker.WaitForAvailableAsync(30, TimeSpan.FromMinutes(1), ct);
            var endpoints = await OpenApiEndpoints.ReadAsync(broker, ct);

            // The document must describe the whole surface, or the matrix would pass by covering nothing.
            foreach (var expected in new[]
            {
                "POST /v1/allocate", "GET /v1/sandboxes/{sandboxId}", "POST /v1/sandboxes/{sandboxId}/mark-for-deletion",
                "GET /v1/admin/sandboxes", "POST /v1/admin/sandboxes", "GET /v1/admin/sandboxes/{sandboxId}", "GET /v1/admin/stats",
                "POST /v1/admin/sandboxes/{sandboxId}/release", "POST /v1/admin/bulk-delete", "GET /v1/admin/invariants",
                "GET /healthz", "GET /readyz", "GET /metrics",
            })
            {
                Assert.Contains(endpoints, e => e.ToString() == expected);
            }

            var failures = new List<string>();
            var cells = 0;
            foreach (var endpoint in endpoints)
            {
                var publicStatuses = new List<int>();
                foreach (var (name, token) in Credentials)
                {
                    var request = BrokerNode.Request(new HttpMethod(endpoint.Method), endpoint.PathWith("gd-auth-probe"), token,
                        endpoint.Role == EndpointRole.Track ? $"gd-auth-{cells}" : null);
                    var answer = await broker.SendAsync(request, ct, what: $"{endpoint} with {name}");
                    cells++;
                    var problem = Judge(endpoint, name, token, answer);
                    if (problem is not null)
                    {
                        failures.Add($"{endpoint} with {name}: {problem} ({answer})");
                    }

                    publicStatuses.Add(answer.Status);
                }

                if (endpoint.Role == EndpointRole.Public && publicStatuses.Distinct().Count() != 1)
                {
                    failures.Add($"{endpoint}: a public endpoint answered differently per token: {string.Join(", ", publicStatuses)}");
                }
            }

            var errors = traffic.ServerErrorsOutsideFaults();
            row.ServerErrorsOutsideFaults = errors.Count;
            await broker.AssertInvariantsHoldAsync(row, ct);
            foreach (var (name, _) in Credentials)
            {
                var statuses = traffic.Answers.Where(a => a.What.EndsWith(" with " + name, StringComparison.Ordinal))
                    .GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Key}×{g.Count()}");
                row.Note($"{name}: {string.Join(" ", statuses)}");
            }

            row.Note($"{endpoints.Count} endpoints ({endpoints.Count(e => e.Role == EndpointRole.Track)} track, " +
                     $"{endpoints.Count(e => e.Role == EndpointRole.Admin)} admin, {endpoints.Count(e => e.Role == EndpointRole.Public)} public) × 4 credentials = {cells} cells, " +
                     $"each with the expected status: 401 + WWW-Authenticate without a valid token, 403 FORBIDDEN with the other role's token");
            Assert.True(failures.Count == 0, $"{failures.Count} unexpected answers:\n{string.Join('\n', failures)}");
            Assert.Empty(errors);
        });
    }

    /// <summary>Null when the answer is what this credential must get from this endpoint; else what is wrong.</summary>
    private static string? Judge(ApiEndpoint endpoint, string name, string? token, Answer answer)
    {
        if (answer.IsServerError)
        {
            return "a 5xx or no answer";
        }

        var valid = token is BrokerNode.TrackToken or BrokerNode.AdminToken;
        var right = endpoint.Role switch
        {
            EndpointRole.Track => token == BrokerNode.TrackToken,
            EndpointRole.Admin => token == BrokerNode.AdminToken,
            _ => true, // public, or either token (capacity)
        };

        if (endpoint.Role == EndpointRole.Public)
        {
            return answer.Status is 401 or 403 ? "a public endpoint refused a caller" : null;
        }

        if (!valid)
        {
            if (answer.Status != 401)
            {
                return "want 401";
            }

            if (answer.Header("WWW-Authenticate")?.StartsWith("Bearer", StringComparison.Ordinal) != true)
            {
                return "401 without WWW-Authenticate: Bearer";
            }

            return ProblemCheck(answer, "UNAUTHORIZED");
        }

        if (!right)
        {
            return answer.Status != 403 ? "want 403 for the other role's token" : ProblemCheck(answer, "FORBIDDEN");
        }

        if (answer.Status == 401 || (answer.Status == 403 && answer.ProblemCode == "FORBIDDEN"))
        {
            return $"the {name} was refused on its own endpoint";
        }

        return answer.Status >= 400 ? ProblemCheck(answer, null) : null;
    }

    private static string? ProblemCheck(Answer answer, string? code)
    {
        if (answer.Header("Content-Type")?.StartsWith("application/problem+json", StringComparison.Ordinal) != true)
        {
            return $"{answer.Status} is not a problem body";
        }

        if (answer.ProblemCode is not { } actual || (code is not null && actual != code))
        {
            return $"problem code {answer.ProblemCode ?? "missing"}, want {code ?? "one"}";
        }

        return answer.Header("X-Request-ID") is null ? "no X-Request-ID" : null;
    }
}
