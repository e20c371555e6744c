using System.CommandLine;
using System.Text.Json.Nodes;
using SandboxBroker.Cli.Http;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Commands;

/// <summary>
/// sandbox-broker show ID: every field of one sandbox and its history, oldest first. A tombstone has no sandbox
/// view (404) but keeps its history, which is then shown on its own.
/// </summary>
internal static class ShowCommand
{
    private static readonly string[] Fields =
    [
        "sandbox_id", "name", "external_id", "status", "allocated_to_track", "track_name", "idempotency_key", "sfdc_account_id",
        "deletion_retry_count", "last_error",
    ];

    private static readonly string[] TimeFields =
        ["allocated_at", "expires_at", "deletion_requested_at", "next_attempt_at", "last_synced", "created_at", "updated_at", "deleted_at"];

    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "The sandbox id" };
        var command = GlobalOptions.AddJsonTo(new Command("show", "One sandbox with every field and its history (what happened to it)") { id });
        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            var sandboxId = Query.Segment(parsed.GetValue(id)!);
            var history = await context.Broker.GetAsync($"admin/sandboxes/{sandboxId}/history", ct);
            JsonNode? sandbox = null;
            try
            {
                sandbox = await context.Broker.GetAsync($"admin/sandboxes/{sandboxId}", ct);
            }
            catch (BrokerProblemException problem) when (problem.Status == 404)
            {
                // a tombstone: no sandbox view, but its history is still kept
            }

            if (context.Json)
            {
                context.WriteJson(new JsonObject { ["sandbox"] = sandbox?.DeepClone(), ["history"] = history?.DeepClone() });
                return ExitCodes.Success;
            }

            PrintSandbox(context.Terminal, sandbox, history);
            PrintHistory(context.Terminal, history);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void PrintSandbox(Terminal terminal, JsonNode? sandbox, JsonNode? history)
    {
        if (sandbox is null)
        {
            terminal.Out($"sandbox_id: {Formats.Text(history, "sandbox_id")}");
            terminal.Out($"status: {Formats.Text(history, "status")} (a tombstone: only its history is kept)");
            return;
        }

        var width = Fields.Concat(TimeFields).Max(f => f.Length) + 1;
        foreach (var field in Fields)
        {
            terminal.Out($"{(field + ":").PadRight(width)} {Formats.Text(sandbox, field) ?? "-"}");
        }

        foreach (var field in TimeFields)
        {
            terminal.Out($"{(field + ":").PadRight(width)} {Formats.Time(sandbox, field) ?? "-"}");
        }
    }

    private static void PrintHistory(Terminal terminal, JsonNode? history)
    {
        var events = history?["events"]?.AsArray() ?? [];
        terminal.Out(string.Empty);
        terminal.Out($"history ({events.Count} event(s), oldest first):");
        var table = new TableWriter("AT", "FROM", "TO", "ACTOR", "REQUESTER", "LAB", "DETAIL");
        foreach (var e in events)
        {
            var detail = string.Join("; ", new[]
            {
                Formats.Text(e, "reason"),
                Formats.Number(e, "attempt") is { } attempt ? $"attempt {attempt}" : null,
                Formats.Text(e, "error") is { } error ? "error: " + error : null,
                Formats.Time(e, "next_attempt_at") is { } next ? "next attempt " + next : null,
            }.Where(part => part is not null));
            table.Add(Formats.Time(e, "at"), Formats.Text(e, "from"), Formats.Text(e, "to"), Formats.Text(e, "actor"),
                Formats.Text(e, "requester"), Formats.Text(e, "track_name"), detail);
        }

        table.WriteTo(terminal);
    }
}
