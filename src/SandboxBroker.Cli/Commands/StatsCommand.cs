using System.CommandLine;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Commands;

/// <summary>sandbox-broker stats [--prefix P]: exact counts per state (GET /admin/stats).</summary>
internal static class StatsCommand
{
    private static readonly string[] States = ["total", "available", "allocated", "pending_deletion", "deletion_failed", "stale", "deleted"];

    public static Command Create()
    {
        var prefix = new Option<string?>("--prefix") { Description = "Only sandboxes whose name starts with this prefix (a sub-pool)" };
        var command = GlobalOptions.AddJsonTo(new Command("stats", "Counts per state; total leaves tombstones out, deleted counts them") { prefix });
        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            var stats = await context.Broker.GetAsync(Query.Path("admin/stats", ("name_prefix", parsed.GetValue(prefix))), ct);
            if (context.Json)
            {
                context.WriteJson(stats);
                return ExitCodes.Success;
            }

            var table = new TableWriter("STATE", "COUNT");
            var shown = new HashSet<string>(States);
            foreach (var state in States)
            {
                table.Add(state, Formats.Text(stats, state) ?? "0");
            }

            // States a newer broker adds (reserved, unverified_deletions, ...) are shown too.
            foreach (var (name, value) in stats?.AsObject() ?? [])
            {
                if (!shown.Contains(name))
                {
                    table.Add(name, value?.ToJsonString());
                }
            }

            table.WriteTo(context.Terminal);
            return ExitCodes.Success;
        });
        return command;
    }
}
