using System.CommandLine;
using System.Text.Json.Nodes;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Commands;

/// <summary>
/// sandbox-broker ls [filters] [--all]: one page of GET /admin/sandboxes, or with --all every page, following
/// cursors with the same filters. --json prints a JSON array of the sandboxes (so `| jq length` counts them).
/// </summary>
internal static class ListCommand
{
    private const int MaxLimit = 100;

    public static Command Create()
    {
        var status = new Option<string?>("--status", "-s") { Description = "Only this state (deleted lists tombstones)" };
        status.AcceptOnlyFromAmong(SandboxStates.All);
        var prefix = new Option<string?>("--prefix") { Description = "Only sandboxes whose name starts with this prefix" };
        var lab = new Option<string?>("--lab") { Description = "Only sandboxes allocated for this lab (track_name, X-Instruqt-Track-ID)" };
        var requester = new Option<string?>("--requester") { Description = "Only sandboxes held by this participant (X-Instruqt-Sandbox-ID)" };
        var limit = new Option<int?>("--limit") { Description = $"Page size 1-{MaxLimit} (default: the broker's 50; {MaxLimit} with --all)" };
        var cursor = new Option<string?>("--cursor") { Description = "Continue from this cursor (printed after a page that has more), with the same filters" };
        var all = new Option<bool>("--all", "-a") { Description = "Follow cursors and list every matching sandbox" };
        var command = GlobalOptions.AddJsonTo(new Command("ls", "List sandboxes, filtered and paged") { status, prefix, lab, requester, limit, cursor, all });
        command.Validators.Add(result =>
        {
            if (result.GetValue(limit) is { } n && n is < 1 or > MaxLimit)
            {
                result.AddError($"--limit must be from 1 to {MaxLimit}.");
            }
        });

        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            var followAll = parsed.GetValue(all);
            var pageSize = parsed.GetValue(limit) ?? (followAll ? MaxLimit : null);
            var sandboxes = new JsonArray();
            var next = parsed.GetValue(cursor);
            do
            {
                var page = await context.Broker.GetAsync(Query.Path("admin/sandboxes",
                    ("status", parsed.GetValue(status)),
                    ("name_prefix", parsed.GetValue(prefix)),
                    ("track_name", parsed.GetValue(lab)),
                    ("requester", parsed.GetValue(requester)),
                    ("limit", pageSize?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    ("cursor", next)), ct);
                foreach (var sandbox in page?["sandboxes"]?.AsArray() ?? [])
                {
                    sandboxes.Add(sandbox?.DeepClone());
                }

                next = Formats.Text(page, "cursor");
            }
            while (followAll && next is not null);

            Print(context, sandboxes);
            if (next is not null)
            {
                context.Terminal.Error($"more sandboxes match: add --all, or --cursor {next}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static void Print(CliContext context, JsonArray sandboxes)
    {
        if (context.Json)
        {
            context.WriteJson(sandboxes);
            return;
        }

        var table = new TableWriter("SANDBOX_ID", "NAME", "STATUS", "REQUESTER", "LAB", "EXPIRES_AT", "UPDATED_AT");
        foreach (var s in sandboxes)
        {
            table.Add(Formats.Text(s, "sandbox_id"), Formats.Text(s, "name"), Formats.Text(s, "status"), Formats.Text(s, "allocated_to_track"),
                Formats.Text(s, "track_name"), Formats.Time(s, "expires_at"), Formats.Time(s, "updated_at"));
        }

        table.WriteTo(context.Terminal);
        context.Terminal.Error($"{table.Count} sandbox(es)");
    }
}
