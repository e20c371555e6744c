using System.Text.Json;
using System.Text.RegularExpressions;
using SandboxBroker.DeployTests.Infrastructure;

namespace SandboxBroker.DeployTests;

/// <summary>
/// Every command of docs/runbooks.md (RunbookCommands) is exercised: broker and CLI commands run with bash against a
/// real broker process (curl fails on any non-2xx, pipelines fail as a whole, jq fails on a missing field), the CSP
/// command against the CSP stand-in, AWS CLI commands are parsed and validated by the AWS CLI v2 against a stand-in
/// endpoint on 127.0.0.1, log filters are run over the lines the broker wrote, the Logs Insights query's fields are
/// checked against them, and Terraform commands against infra/. Nothing leaves 127.0.0.1.
/// </summary>
public sealed partial class RunbookCommandTests : IAsyncLifetime
{
    private const string TrackToken = "runbook-track-token-0123456789abcdef";
    private const string AdminToken = "runbook-admin-token-0123456789abcdef";
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    private readonly string scratch = Path.Combine(Path.GetTempPath(), "sbx-runbook", Guid.NewGuid().ToString("N"));
    private FakeCspServer csp = null!;
    private BrokerProcess broker = null!;
    private AwsStub aws = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(scratch);
        csp = await FakeCspServer.StartAsync(sandboxes: 5);
        aws = await AwsStub.StartAsync();
        broker = StartBroker(csp, scratch);
        Assert.True(await broker.WaitUntilReadyAsync(TimeSpan.FromSeconds(90)), broker.Output);
        WriteTools();
    }

    public async Task DisposeAsync()
    {
        await broker.DisposeAsync();
        await aws.DisposeAsync();
        await csp.DisposeAsync();
        try
        {
            Directory.Delete(scratch, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp directory is harmless
        }
    }

    [Fact]
    public void Every_command_is_one_a_test_exercises_and_the_setup_exports_what_they_use()
    {
        var commands = RunbookCommands.All();
        var setup = Assert.Single(commands, c => c.Kind == RunbookCommandKind.Setup);
        var exported = Regex.Matches(setup.Text, @"(?:export\s+|\s)([A-Z_]+)=").Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(Environment(broker).Keys.Where(k => k != "ADMIN_TOKEN" && !k.StartsWith("CURL", StringComparison.Ordinal) && k != "PATH").Order(StringComparer.Ordinal), exported.Order(StringComparer.Ordinal));
        foreach (var kind in Enum.GetValues<RunbookCommandKind>())
        {
            Assert.Contains(commands, c => c.Kind == kind);
        }
    }

    [Fact]
    public async Task Broker_and_cli_commands_run_against_a_real_broker()
    {
        var commands = RunbookCommands.All().Where(c => c.Kind == RunbookCommandKind.Broker).ToList();
        Assert.True(commands.Count >= 10, $"only {commands.Count} broker commands found");
        foreach (var command in commands)
        {
            var result = await BashAsync("set -eo pipefail\n" + command.Text, Environment(broker));
            Assert.True(result.ExitCode == 0, $"{command}\n{result.Describe("bash")}\nbroker:\n{Tail(broker.Output)}");
        }
    }

    [Fact]
    public async Task The_csp_command_runs_against_the_csp_stand_in()
    {
        var command = Assert.Single(RunbookCommands.All(), c => c.Kind == RunbookCommandKind.Csp);
        var local = command.Text.Replace("https://csp.infoblox.com", csp.RootUrl, StringComparison.Ordinal);
        Assert.NotEqual(command.Text, local);
        var environment = Environment(broker);
        environment["CSP_TOKEN"] = csp.Token;
        var result = await BashAsync("set -eo pipefail\n" + local, environment);
        Assert.True(result.ExitCode == 0, $"{command}\n{result.Describe("bash")}");
        Assert.Equal("200", result.StandardOutput.Trim());
        Assert.Contains(csp.Lists(), r => r.Authorization == $"Token {csp.Token}");
    }

    [Fact]
    public async Task Aws_commands_are_accepted_by_the_aws_cli()
    {
        var commands = RunbookCommands.All().Where(c => c.Kind == RunbookCommandKind.Aws).ToList();
        Assert.True(commands.Count >= 8, $"only {commands.Count} AWS commands found");
        foreach (var command in commands)
        {
            var before = aws.Operations.Count;
            var script = LogFilter().Match(command.Text) is { Success: true } piped ? piped.Groups["aws"].Value : command.Text;
            var result = await BashAsync(script, Environment(broker));
            var output = result.StandardOutput + result.StandardError;
            foreach (var refusal in CliRefusals)
            {
                Assert.False(output.Contains(refusal, StringComparison.Ordinal), $"{command}\nthe AWS CLI refused it:\n{output}");
            }

            var calls = RunbookCommands.AwsCall().Count(script);
            Assert.True(aws.Operations.Count - before >= calls, $"{command}\n{calls} AWS CLI calls, {aws.Operations.Count - before} reached the endpoint:\n{output}");
            Assert.Contains(AwsStub.Marker, output, StringComparison.Ordinal);
        }

        // The reconcile loop reached its update-item (the copy lists one sandbox the table does not).
        Assert.Contains("DynamoDB_20120810.UpdateItem", aws.Operations);
    }

    [Fact]
    public async Task Log_filters_match_lines_the_broker_writes_and_read_the_log_group_terraform_creates()
    {
        await ExceedTheQuotaAsync();
        var log = Path.Combine(scratch, "broker.log");
        await File.WriteAllTextAsync(log, broker.Output);

        var filters = RunbookCommands.All().Select(c => LogFilter().Match(c.Text)).Where(m => m.Success).ToList();
        Assert.True(filters.Count >= 2, "the runbook has fewer than two log filters");
        foreach (var filter in filters)
        {
            var result = await BashAsync($"set -o pipefail\ncat {log} | {filter.Groups["filter"].Value}", Environment(broker));
            Assert.True(result.ExitCode == 0, $"'{filter.Groups["filter"].Value}' matches no line the broker wrote:\n{Tail(broker.Output)}");
            Assert.Equal("\"/ecs/$NAME\"", filter.Groups["group"].Value);
        }

        var model = await TerraformModel.Instance;
        Assert.Equal("/ecs/${local.name}", model.Resource("aws_cloudwatch_log_group", "app")["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_logs_insights_query_reads_fields_and_values_the_broker_writes()
    {
        // A 5xx: CSP fails every call, so an admin sync answers 502 and its request line has outcome "error".
        csp.FailNextCalls(1_000);
        using (var client = new HttpClient { BaseAddress = broker.BaseAddress })
        using (var sync = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/sync") { Headers = { { "Authorization", $"Bearer {AdminToken}" } } })
        {
            var status = (int)(await client.SendAsync(sync)).StatusCode;
            Assert.True(status >= 500, $"sync answered {status} while CSP fails");
        }

        var query = Assert.Single(RunbookCommands.All(), c => c.Kind == RunbookCommandKind.Insights).Text;
        var parsed = InsightsQuery().Match(query);
        Assert.True(parsed.Success, $"cannot read the query {query}");
        var fields = parsed.Groups["fields"].Value.Split(',', StringSplitOptions.TrimEntries).Where(f => !f.StartsWith('@')).ToList();
        var (field, value) = (parsed.Groups["field"].Value, parsed.Groups["value"].Value);

        IReadOnlyList<JsonElement> lines = [];
        for (var i = 0; i < 50 && !lines.Any(l => Text(l, field) == value); i++)
        {
            await Task.Delay(100);
            lines = JsonLines(broker.Output);
        }

        Assert.Contains(lines, l => Text(l, field) == value);
        foreach (var name in fields.Append(field))
        {
            Assert.True(lines.Any(l => l.TryGetProperty(name, out _)), $"no log line has the field {name}");
        }
    }

    [Fact]
    public async Task Terraform_commands_name_resources_variables_and_var_files_that_exist()
    {
        var model = await TerraformModel.Instance;
        var commands = RunbookCommands.All().Where(c => c.Kind == RunbookCommandKind.Terraform).ToList();
        Assert.True(commands.Count >= 2);
        var environment = Environment(broker)["ENV"]!;
        foreach (var command in commands)
        {
            foreach (Match address in ResourceAddress().Matches(command.Text))
            {
                Assert.True(model.Resources.ContainsKey(address.Value), $"{command}: infra/ has no {address.Value}");
            }

            foreach (Match variable in VarFlag().Matches(command.Text))
            {
                Assert.True(model.Variables.ContainsKey(variable.Groups["name"].Value), $"{command}: infra/ has no variable {variable.Groups["name"].Value}");
            }

            foreach (Match file in VarFile().Matches(command.Text))
            {
                // The repository ships <env>.example.tfvars; operators copy it to <env>.tfvars.
                var path = file.Groups["path"].Value.Replace("$ENV", environment, StringComparison.Ordinal).Replace(".tfvars", ".example.tfvars", StringComparison.Ordinal);
                Assert.True(File.Exists(Repo.PathOf("infra", path)), $"{command}: infra/{path} is missing");
            }
        }
    }

    private static readonly string[] CliRefusals =
        ["usage:", "Invalid choice", "Unknown options", "Parameter validation failed", "Error parsing parameter", "the following arguments are required", "is not valid JSON"];

    private static BrokerProcess StartBroker(FakeCspServer csp, string directory) => BrokerProcess.Start(new Dictionary<string, string?>
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Broker__TrackTokens__0"] = TrackToken,
        ["Broker__AdminTokens__0"] = AdminToken,
        ["Broker__DefaultAllocationsPerMinute"] = "1",
        ["Csp__Mode"] = "Live",
        ["Csp__BaseUrl"] = csp.BaseUrl,
        ["Csp__Token"] = csp.Token,
        ["Storage__Sqlite__Path"] = Path.Combine(directory, "broker.db"),
    });

    /// <summary>The variables the runbook's setup block exports, pointed at the local broker, plus the test's tools.</summary>
    private Dictionary<string, string?> Environment(BrokerProcess target)
    {
        var url = target.BaseAddress.ToString().TrimEnd('/');
        return new Dictionary<string, string?>
        {
            ["BROKER"] = url,
            ["ADMIN_TOKEN"] = AdminToken,
            ["ADMIN"] = $"Authorization: Bearer {AdminToken}",
            ["ENV"] = "prod",
            ["NAME"] = "sandbox-broker-prod",
            ["CLUSTER"] = "sandbox-broker-prod",
            ["SERVICE"] = "sandbox-broker-prod",
            ["TABLE"] = "SandboxPool",
            ["SANDBOX_BROKER_URL"] = url,
            ["SANDBOX_BROKER_TOKEN"] = AdminToken,
            ["PATH"] = Path.Combine(scratch, "bin") + Path.PathSeparator + System.Environment.GetEnvironmentVariable("PATH"),
            ["CURL_HOME"] = scratch,
        };
    }

    /// <summary>
    /// Wrappers first on PATH: jq fails when a path the runbook reads is missing (prints null); sandbox-broker is the
    /// CLI from this build; aws is the AWS CLI v2 aimed at the stand-in endpoint. curl fails on a non-2xx (.curlrc).
    /// </summary>
    private void WriteTools()
    {
        var bin = Directory.CreateDirectory(Path.Combine(scratch, "bin")).FullName;
        File.WriteAllText(Path.Combine(scratch, ".curlrc"), "fail-with-body\nmax-time = 60\n");
        Write(bin, "jq", $"""
            out=$({Find("jq")} "$@") || exit $?
            printf '%s\n' "$out"
            if printf '%s\n' "$out" | grep -qx null; then echo "jq: a field the runbook reads is missing (null)" >&2; exit 5; fi
            """);
        Write(bin, "sandbox-broker", $"exec dotnet {Path.Combine(AppContext.BaseDirectory, "SandboxBroker.Cli.dll")} \"$@\"");
        Write(bin, "aws", $"""
            export AWS_ACCESS_KEY_ID=dummy AWS_SECRET_ACCESS_KEY=dummy AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
            export AWS_EC2_METADATA_DISABLED=true AWS_PAGER= AWS_MAX_ATTEMPTS=1
            exec {AwsCliV2()} --endpoint-url {aws.Url} "$@"
            """);
    }

    private static void Write(string bin, string name, string body)
    {
        var path = Path.Combine(bin, name);
        File.WriteAllText(path, "#!/usr/bin/env bash\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static string Find(string tool)
    {
        var found = (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);
        Assert.True(found is not null, $"{tool} is not installed");
        return found!;
    }

    /// <summary>The runbook's `aws logs tail` exists only in the AWS CLI v2 (Debian's awscli; GitHub runners have it).</summary>
    private static string AwsCliV2()
    {
        var candidates = (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Append("/usr/bin").Append("/usr/local/bin").Select(dir => Path.Combine(dir, "aws")).Where(File.Exists).Distinct();
        foreach (var candidate in candidates)
        {
            var version = ProcessRunner.RunAsync(candidate, ["--version"], Repo.Root, TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
            if ((version.StandardOutput + version.StandardError).StartsWith("aws-cli/2.", StringComparison.Ordinal))
            {
                return candidate;
            }
        }

        Assert.Fail("the AWS CLI v2 is not installed: scripts/test.sh installs it (Debian's awscli package)");
        return "";
    }

    private async Task ExceedTheQuotaAsync()
    {
        using var client = new HttpClient { BaseAddress = broker.BaseAddress };
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/allocate")
            {
                Headers = { { "Authorization", $"Bearer {TrackToken}" }, { "X-Instruqt-Sandbox-ID", $"runbook-quota-{i}" } },
            };
            using var response = await client.SendAsync(request);
        }

        for (var i = 0; i < 50 && !broker.Output.Contains("Allocation quota exceeded", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }
    }

    private Task<ProcessResult> BashAsync(string script, Dictionary<string, string?> environment) =>
        ProcessRunner.RunAsync("bash", ["-c", script], scratch, Deadline, environment);

    private static List<JsonElement> JsonLines(string output)
    {
        var lines = new List<JsonElement>();
        foreach (var line in output.Split('\n'))
        {
            var text = line.Trim();
            if (text.StartsWith('{'))
            {
                try
                {
                    lines.Add(JsonDocument.Parse(text).RootElement.Clone());
                }
                catch (JsonException)
                {
                    // not a log line
                }
            }
        }

        return lines;
    }

    private static string? Text(JsonElement line, string field) =>
        line.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Tail(string output) => string.Join('\n', output.Split('\n').TakeLast(30));

    [GeneratedRegex(@"^(?<aws>aws logs tail (?<group>\S+).*?)\s*\|\s*(?<filter>grep .+)$")]
    private static partial Regex LogFilter();

    [GeneratedRegex(@"^fields (?<fields>[^|]+)\|\s*filter (?<field>[a-z_]+) = ""(?<value>[^""]+)""$")]
    private static partial Regex InsightsQuery();

    [GeneratedRegex(@"\baws_[a-z0-9_]+\.[a-z0-9_]+\b")]
    private static partial Regex ResourceAddress();

    [GeneratedRegex(@"-var (?<name>[a-z0-9_]+)=")]
    private static partial Regex VarFlag();

    [GeneratedRegex(@"-var-file=(?<path>\S+)")]
    private static partial Regex VarFile();
}
