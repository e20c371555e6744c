using SandboxBroker.Cli.Tests.Infrastructure;

namespace SandboxBroker.Cli.Tests;

/// <summary>Failures as an operator meets them: exit codes 1 and 2, one clear line, the problem code and request_id, no token.</summary>
[Collection(BrokersCollection.Name)]
public sealed class ErrorTests(Brokers brokers)
{
    [Fact]
    public async Task A_broker_that_is_down_is_one_clear_line_and_exit_1_without_a_stack_trace()
    {
        var nobody = new Uri($"http://127.0.0.1:{BrokerProcess.FreePort()}");

        var result = await CliRun.RunAsync(nobody, Brokers.AdminToken, "stats");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"error: cannot reach the broker at {nobody}v1/", result.Stderr);
        Assert.Contains("refused", result.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", result.All);
        Assert.DoesNotContain("Exception", result.All);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("bulk-delete", "--status", "allocated")]
    [InlineData("bulk-delete")]
    [InlineData("register")]
    [InlineData("register", "--csv", "a.csv", "--json", "b.json")]
    [InlineData("retry-deletion")]
    [InlineData("ls", "--limit", "0")]
    [InlineData("ls", "--status", "sleeping")]
    [InlineData("jobs", "run", "make-coffee")]
    [InlineData("show")]
    public async Task A_usage_error_exits_2_with_a_hint_and_calls_nothing(params string[] args)
    {
        // The broker is down: a usage error must be found before any call is made.
        var nobody = new Uri($"http://127.0.0.1:{BrokerProcess.FreePort()}");

        var result = await CliRun.RunAsync(nobody, Brokers.AdminToken, args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("error:", result.Stderr);
        Assert.Contains("--help", result.Stderr);
        Assert.DoesNotContain("cannot reach", result.Stderr);
    }

    [Fact]
    public async Task No_token_is_a_usage_error_naming_the_variable()
    {
        var result = await CliRun.RunAsync(brokers.Sqlite.BaseAddress, token: null, "stats");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("SANDBOX_BROKER_TOKEN", result.Stderr);
    }

    [Fact]
    public async Task Help_exits_0_and_lists_every_command()
    {
        var result = await CliRun.RunAsync(null, null, "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var command in new[] { "stats", "ls", "show", "register", "release", "retry-deletion", "bulk-delete", "jobs", "capacity", "reservations" })
        {
            Assert.Contains(command, result.Stdout);
        }
    }

    [Fact]
    public async Task A_4xx_prints_the_problem_code_and_request_id_and_exits_1()
    {
        var result = await CliRun.RunAsync(brokers.Sqlite.BaseAddress, Brokers.AdminToken, "show", "no-such-sandbox");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("error: 404 SANDBOX_NOT_FOUND: Sandbox no-such-sandbox not found.", result.Stderr);
        Assert.Matches(@"request_id: [0-9a-f]{32}", result.Stderr);
    }

    [Fact]
    public async Task A_wrong_token_is_401_UNAUTHORIZED_with_its_request_id()
    {
        var result = await CliRun.RunAsync(brokers.Sqlite.BaseAddress, "not-the-admin-token-1234", "stats");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("401 UNAUTHORIZED", result.Stderr);
        Assert.Matches(@"request_id: [0-9a-f]{32}", result.Stderr);
        Assert.DoesNotContain("not-the-admin-token-1234", result.All);
    }

    [Fact]
    public async Task The_token_never_appears_in_any_output_also_not_with_verbose()
    {
        var prefix = SandboxFiles.Prefix("secret");
        var csv = SandboxFiles.Csv(prefix, 3);
        var url = brokers.Sqlite.BaseAddress;
        string[][] commands =
        [
            ["stats", "--verbose"],
            ["ls", "--verbose", "--all", "--prefix", prefix],
            ["--verbose", "register", "--csv", csv],
            ["show", prefix + "00001", "-v"],
            ["show", "no-such-sandbox", "-v", "--json"],
            ["jobs", "-v"],
            ["capacity", "-v"],
            ["release", prefix + "00001", "-v"],
            ["ls", "--token", Brokers.AdminToken, "--verbose", "--frobnicate"],
        ];

        var outputs = new List<CliResult>();
        foreach (var command in commands)
        {
            // Both ways in: the variable, and --token on the command line.
            outputs.Add(await CliRun.RunAsync(url, Brokers.AdminToken, command));
            outputs.Add(await CliRun.RunAsync(url, null, ["--token", Brokers.AdminToken, .. command]));
        }

        Assert.All(outputs, o => Assert.DoesNotContain(Brokers.AdminToken, o.All));
        // --verbose did print the calls (so the check above looked at real verbose output).
        Assert.Contains(outputs, o => o.Stderr.Contains("> GET " + url + "v1/admin/stats", StringComparison.Ordinal));
        Assert.Contains(outputs, o => o.Stderr.Contains("> POST " + url + "v1/admin/sandboxes", StringComparison.Ordinal));
        Assert.Contains(outputs, o => o.Stderr.Contains("< 200 OK", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Capacity_and_reservations_answer_from_a_broker_that_offers_them()
    {
        var capacity = await CliRun.RunAsync(brokers.Sqlite.BaseAddress, Brokers.AdminToken, "capacity", "--prefix", "dns-", "--count", "200", "--json");
        Assert.True(capacity.ExitCode == 0, capacity.ToString());
        using (var body = System.Text.Json.JsonDocument.Parse(capacity.Stdout))
        {
            Assert.Equal(("dns-", 200), (body.RootElement.GetProperty("name_prefix").GetString(), body.RootElement.GetProperty("requested").GetInt32()));
        }

        var endsAt = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var created = await CliRun.RunAsync(brokers.Sqlite.BaseAddress, Brokers.AdminToken,
            "reservations", "create", "--lab", "cli-ws", "--count", "1", "--ends-at", endsAt, "--partial", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        string id;
        using (var body = System.Text.Json.JsonDocument.Parse(created.Stdout))
        {
            id = body.RootElement.GetProperty("reservation_id").GetString()!;
            Assert.Equal("active", body.RootElement.GetProperty("status").GetString());
        }

        var ended = await CliRun.RunAsync(brokers.Sqlite.BaseAddress, Brokers.AdminToken, "reservations", "end", id);
        Assert.True(ended.ExitCode == 0, ended.ToString());
        Assert.Contains($"reservation {id}: ended", ended.Stdout, StringComparison.Ordinal);
    }
}
