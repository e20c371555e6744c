using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using SandboxBroker.Testing;
using SandboxBroker.Tests.Infrastructure;

namespace SandboxBroker.Tests.Observability;

/// <summary>
/// The runbook's first-look log filter (docs/runbooks.md, "First look") run over what a real broker process writes:
/// it keeps the warning of a refused allocation and drops the INFO lines, so at 2 a.m. it shows what went wrong.
/// </summary>
public sealed partial class RunbookLogQueryTests
{
    [Fact]
    public async Task The_first_look_grep_keeps_warnings_and_errors_of_real_log_lines_and_nothing_else()
    {
        var pattern = new Regex(FirstLookGrepPattern());
        const string track = "runbook-track-token-0123456789";
        var directory = Path.Combine(Path.GetTempPath(), "sbx-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        await using var broker = BrokerProcess.Start(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["BROKER_API_TOKEN"] = track,
            ["BROKER_ADMIN_TOKEN"] = "runbook-admin-token-0123456789",
            ["Csp__Mode"] = "Simulated",
            ["Csp__Simulated__PoolSize"] = "1",
            ["Storage__Sqlite__Path"] = Path.Combine(directory, "broker.db"),
        });
        Assert.True(await broker.WaitUntilReadyAsync(TimeSpan.FromSeconds(60)), broker.Output);

        using var client = new HttpClient { BaseAddress = broker.BaseAddress };
        var statuses = new List<HttpStatusCode>();
        foreach (var requester in new[] { "runbook-1", "runbook-2" })   // one sandbox: the second gets 409 (a WARNING line)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/allocate", UriKind.Relative));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", track);
            request.Headers.Add("X-Instruqt-Sandbox-ID", requester);
            using var response = await client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], statuses);
        for (var i = 0; i < 50 && !broker.Output.Contains("\"status_code\":409", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        var lines = broker.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var kept = lines.Where(l => pattern.IsMatch(l)).ToList();
        Assert.Contains(kept, l => l.Contains("\"status_code\":409", StringComparison.Ordinal));
        Assert.DoesNotContain(kept, l => l.Contains("\"level\":\"INFO\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"status_code\":201", StringComparison.Ordinal) && !pattern.IsMatch(l));
    }

    /// <summary>The extended regular expression of the runbook's <c>grep -E '…'</c> (ERE and .NET agree on this subset).</summary>
    private static string FirstLookGrepPattern()
    {
        var runbooks = File.ReadAllText(RepositoryFiles.PathOf("docs", "runbooks.md"));
        var match = GrepOfLogsTail().Match(runbooks);
        Assert.True(match.Success, "docs/runbooks.md has no `aws logs tail ... | grep -E '...'` line");
        return match.Groups["pattern"].Value;
    }

    [GeneratedRegex(@"aws logs tail [^\n|]*\| grep -E '(?<pattern>[^']+)'")]
    private static partial Regex GrepOfLogsTail();
}
