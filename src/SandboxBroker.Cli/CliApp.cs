using System.CommandLine;
using SandboxBroker.Cli.Commands;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli;

/// <summary>The command tree, and the one place that turns a parse error into exit code 2.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = Build();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // System.CommandLine would answer 1; a usage error is 2, so scripts can tell "you typed it wrong" from "it failed".
            var terminal = Terminal.ForUsageErrors(parsed);
            foreach (var error in parsed.Errors)
            {
                terminal.Error($"error: {error.Message}");
            }

            terminal.Error("Run 'sandbox-broker --help' (or '<command> --help') for usage.");
            return ExitCodes.Usage;
        }

        return await parsed.InvokeAsync();
    }

    public static RootCommand Build()
    {
        var root = new RootCommand(
            "sandbox-broker: operate a SandboxBroker pool through its admin API.\n" +
            "URL and admin token from --url/--token or SANDBOX_BROKER_URL/SANDBOX_BROKER_TOKEN. " +
            "Tables for people, --json for scripts. Exit codes: 0 success, 1 failure, 2 usage error.");
        GlobalOptions.AddTo(root);
        root.Add(StatsCommand.Create());
        root.Add(ListCommand.Create());
        root.Add(ShowCommand.Create());
        root.Add(RegisterCommand.Create());
        foreach (var repair in RepairCommands.Create())
        {
            root.Add(repair);
        }

        root.Add(JobsCommand.Create());
        root.Add(CapacityCommand.Create());
        root.Add(ReservationsCommand.Create());
        return root;
    }
}
