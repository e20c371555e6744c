using System.Text.RegularExpressions;
using SandboxBroker.Cli.Tests.Infrastructure;

namespace SandboxBroker.Cli.Tests;

/// <summary>sandbox-broker register against the real broker on SQLite: checked first, batches of 1,000, safe to re-run.</summary>
[Collection(BrokersCollection.Name)]
public sealed class RegisterTests(Brokers brokers)
{
    private Uri Url => brokers.Sqlite.BaseAddress;

    [Fact]
    public async Task A_csv_of_2500_rows_with_one_bad_row_names_its_line_and_sends_nothing()
    {
        var prefix = SandboxFiles.Prefix("bad");
        var csv = SandboxFiles.Csv(prefix, 2500, badRow: 1734);

        var result = await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--csv", csv);

        Assert.True(result.ExitCode == 1, result.ToString());
        // Row 1,734 is line 1,735 of the file (the header is line 1).
        Assert.Contains($"{csv} line 1735: external_id must be non-empty", result.Stderr);
        Assert.Contains("nothing was sent", result.Stderr);
        Assert.DoesNotContain("   at ", result.All);
        Assert.Equal(0, await AvailableAsync(prefix));
    }

    [Fact]
    public async Task A_csv_of_2500_rows_registers_in_three_batches_with_progress_and_totals()
    {
        var prefix = SandboxFiles.Prefix("ok");
        var csv = SandboxFiles.Csv(prefix, 2500);

        var result = await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--csv", csv);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("created 2500, skipped 0", result.Stdout);
        // stderr is not a terminal here: one progress line per batch.
        Assert.Contains("registering: 1000/2500", result.Stderr);
        Assert.Contains("registering: 2000/2500", result.Stderr);
        Assert.Contains("registering: 2500/2500", result.Stderr);
        Assert.Equal(2500, await AvailableAsync(prefix));
    }

    [Fact]
    public async Task An_interrupted_registration_run_again_registers_the_rest_and_skips_what_is_there()
    {
        var prefix = SandboxFiles.Prefix("cut");
        var csv = SandboxFiles.Csv(prefix, 2500);
        await using var proxy = await HoldingProxy.StartAsync(brokers.Sqlite.BaseAddress, holdFromCall: 2);

        // The first batch goes through; the second hangs in the proxy, and the operator presses Ctrl+C.
        using (var first = CliRun.Start(proxy.BaseAddress, Brokers.AdminToken, "register", "--csv", csv))
        {
            await proxy.Holding.WaitAsync(TimeSpan.FromMinutes(1));
            first.Interrupt();
            var interrupted = await first.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(interrupted.ExitCode != 0, interrupted.ToString());
            Assert.Contains("stopped after 1000 of 2500 rows", interrupted.Stderr);
            Assert.Contains("re-run the same command", interrupted.Stderr);
        }

        Assert.Equal(1000, await AvailableAsync(prefix));

        var rerun = await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--csv", csv);

        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Contains("created 1500, skipped 1000", rerun.Stdout);
        Assert.Equal(2500, await AvailableAsync(prefix));

        var again = await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--csv", csv);
        Assert.Contains("created 0, skipped 2500", again.Stdout);
    }

    [Fact]
    public async Task A_json_file_registers_and_a_bad_item_is_named_by_index_and_line()
    {
        var prefix = SandboxFiles.Prefix("json");
        var good = SandboxFiles.Write($$"""
            {"sandboxes": [
              {"sandbox_id": "{{prefix}}1", "name": "{{prefix}}1", "external_id": "identity/accounts/{{prefix}}1"},
              {"sandbox_id": "{{prefix}}2", "name": "{{prefix}}2", "external_id": "identity/accounts/{{prefix}}2", "sfdc_account_id": "0015g1"}
            ]}
            """, ".json");
        var bad = SandboxFiles.Write($$"""
            [
              {"sandbox_id": "{{prefix}}3", "name": "{{prefix}}3", "external_id": "identity/accounts/{{prefix}}3"},
              {"sandbox_id": "has space", "name": "x", "external_id": "y"}
            ]
            """, ".json");

        var refused = await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--json", bad);
        var registered = await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--json", good);

        Assert.True(refused.ExitCode == 1, refused.ToString());
        Assert.Contains("sandboxes[1] (line 3): sandbox_id must be", refused.Stderr);
        Assert.True(registered.ExitCode == 0, registered.ToString());
        Assert.Contains("created 2, skipped 0", registered.Stdout);
        Assert.Equal(2, await AvailableAsync(prefix));
    }

    [Fact]
    public async Task A_csv_as_spreadsheets_write_it_registers_quoted_fields_any_column_order_and_crlf()
    {
        var prefix = SandboxFiles.Prefix("quoted");
        var csv = SandboxFiles.Write(
            "External_ID,Name,Sandbox_ID\r\n" +
            $"identity/accounts/{prefix}a,\"Lab, \"\"DNS\"\" edition\",{prefix}a\r\n" +
            "\r\n" +
            $"identity/accounts/{prefix}b,plain name,{prefix}b\r\n", ".csv");

        var result = await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--csv", csv);
        var shown = await CliRun.RunAsync(Url, Brokers.AdminToken, "show", prefix + "a", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("created 2, skipped 0", result.Stdout);
        using var json = System.Text.Json.JsonDocument.Parse(shown.Stdout);
        var sandbox = json.RootElement.GetProperty("sandbox");
        Assert.Equal("Lab, \"DNS\" edition", sandbox.GetProperty("name").GetString());
        Assert.Equal($"identity/accounts/{prefix}a", sandbox.GetProperty("external_id").GetString());
    }

    [Fact]
    public async Task A_csv_with_an_id_twice_or_a_missing_column_is_refused_before_anything_is_sent()
    {
        var prefix = SandboxFiles.Prefix("dup");
        var twice = SandboxFiles.Write($"sandbox_id,name,external_id\n{prefix}1,{prefix}a,x/1\n{prefix}2,{prefix}b,x/2\n{prefix}1,{prefix}c,x/3\n", ".csv");
        var noColumn = SandboxFiles.Write($"sandbox_id,name\n{prefix}9,{prefix}z\n", ".csv");

        var duplicate = await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--csv", twice);
        var missing = await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--csv", noColumn);

        Assert.True(duplicate.ExitCode == 1, duplicate.ToString());
        Assert.Contains($"line 4: sandbox_id '{prefix}1' appears twice (first at line 2)", duplicate.Stderr);
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("line 1: the header must name the columns sandbox_id, name, external_id", missing.Stderr);
        Assert.Contains("missing: external_id", missing.Stderr);
        Assert.Equal(0, await AvailableAsync(prefix));
    }

    [Fact]
    public async Task A_missing_file_is_one_clear_line_and_exit_1()
    {
        var result = await CliRun.RunAsync(Url, Brokers.AdminToken, "register", "--csv", "/nonexistent/sandboxes.csv");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("/nonexistent/sandboxes.csv: cannot read", result.Stderr);
        Assert.DoesNotContain("   at ", result.All);
    }

    private async Task<int> AvailableAsync(string prefix)
    {
        var stats = await CliRun.RunAsync(Url, Brokers.AdminToken, "stats", "--prefix", prefix);
        Assert.True(stats.ExitCode == 0, stats.ToString());
        var match = Regex.Match(stats.Stdout, @"^available\s+(\d+)", RegexOptions.Multiline);
        Assert.True(match.Success, stats.ToString());
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
