using System.Text.Json;
using SandboxBroker.Cli.Tests.Infrastructure;

namespace SandboxBroker.Cli.Tests;

/// <summary>sandbox-broker ls on both stores: one page with a cursor hint, and --all following every cursor.</summary>
[Collection(BrokersCollection.Name)]
public sealed class ListTests(Brokers brokers)
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("dynamodb")]
    public async Task Ls_all_follows_cursors_to_every_matching_sandbox_exactly_once(string store)
    {
        var broker = brokers.For(store);
        var prefix = SandboxFiles.Prefix("ls-" + store);
        var registered = await CliRun.RunAsync(broker.BaseAddress, Brokers.AdminToken, "register", "--csv", SandboxFiles.Csv(prefix, 230));
        Assert.True(registered.ExitCode == 0, registered.ToString());

        // --limit 40: six pages, so the cursor is followed five times.
        var all = await CliRun.RunAsync(broker.BaseAddress, Brokers.AdminToken, "ls", "--all", "--limit", "40", "--prefix", prefix, "--json");

        Assert.True(all.ExitCode == 0, all.ToString());
        using var json = JsonDocument.Parse(all.Stdout);
        var ids = json.RootElement.EnumerateArray().Select(s => s.GetProperty("sandbox_id").GetString()).ToList();
        Assert.Equal(230, ids.Count);
        Assert.Equal(230, ids.Distinct().Count());
        Assert.All(ids, id => Assert.StartsWith(prefix, id));
        Assert.DoesNotContain("more sandboxes match", all.Stderr);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("dynamodb")]
    public async Task Ls_shows_one_page_as_a_table_and_says_how_to_go_on(string store)
    {
        var broker = brokers.For(store);
        var prefix = SandboxFiles.Prefix("page-" + store);
        await CliRun.RunAsync(broker.BaseAddress, Brokers.AdminToken, "register", "--csv", SandboxFiles.Csv(prefix, 12));

        var page = await CliRun.RunAsync(broker.BaseAddress, Brokers.AdminToken, "ls", "--prefix", prefix, "--limit", "5", "--status", "available");

        Assert.True(page.ExitCode == 0, page.ToString());
        var lines = page.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("SANDBOX_ID", lines[0]);
        Assert.Equal(5, lines.Skip(1).Count(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Contains("available", StringComparison.Ordinal)));
        var hint = page.Stderr.Split('\n').Single(l => l.StartsWith("more sandboxes match", StringComparison.Ordinal));
        var cursor = hint[(hint.LastIndexOf(' ') + 1)..].Trim();

        var next = await CliRun.RunAsync(broker.BaseAddress, Brokers.AdminToken, "ls", "--prefix", prefix, "--limit", "5", "--status", "available",
            "--cursor", cursor, "--json");

        Assert.True(next.ExitCode == 0, next.ToString());
        using var json = JsonDocument.Parse(next.Stdout);
        Assert.Equal(5, json.RootElement.GetArrayLength());
        Assert.DoesNotContain(json.RootElement.EnumerateArray().Select(s => s.GetProperty("sandbox_id").GetString()!), id => page.Stdout.Contains(id, StringComparison.Ordinal));
    }
}
