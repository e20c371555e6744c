using System.CommandLine;
using System.Text.Json.Nodes;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Commands;

/// <summary>release, retry-deletion and bulk-delete: the admin repairs (conditional writes on the broker; none calls the CSP).</summary>
internal static class RepairCommands
{
    public static IEnumerable<Command> Create() => [Release(), RetryDeletion(), BulkDelete()];

    private static Command Release()
    {
        var id = new Argument<string>("id") { Description = "The sandbox id" };
        var command = GlobalOptions.AddJsonTo(new Command("release",
            "Release an allocated sandbox on its holder's behalf (allocated -> pending_deletion; cleanup deletes it upstream)") { id });
        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            var reply = await context.Broker.SendAsync(HttpMethod.Post, $"admin/sandboxes/{Query.Segment(parsed.GetValue(id)!)}/release", null, ct);
            WriteSandbox(context, reply.Body);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command RetryDeletion()
    {
        var id = new Argument<string?>("id") { Description = "The deletion_failed sandbox to retry", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Retry every deletion_failed sandbox (after a CSP outage)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "With --all: count them, change nothing" };
        var command = GlobalOptions.AddJsonTo(new Command("retry-deletion",
            "Retry a failed deletion (deletion_failed -> pending_deletion, attempts reset): one id, or --all [--dry-run]") { id, all, dryRun });
        command.Validators.Add(result =>
        {
            var hasId = !string.IsNullOrEmpty(result.GetValue(id));
            if (hasId == result.GetValue(all))
            {
                result.AddError("retry-deletion needs a sandbox id or --all (not both).");
            }
            else if (hasId && result.GetValue(dryRun))
            {
                result.AddError("--dry-run goes with --all.");
            }
        });

        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            if (parsed.GetValue(id) is { Length: > 0 } sandboxId)
            {
                var one = await context.Broker.SendAsync(HttpMethod.Post, $"admin/sandboxes/{Query.Segment(sandboxId)}/retry-deletion", null, ct);
                WriteSandbox(context, one.Body);
                return ExitCodes.Success;
            }

            var dry = parsed.GetValue(dryRun);
            var reply = await context.Broker.SendAsync(HttpMethod.Post, Query.Path("admin/retry-deletion", ("dry_run", dry ? "true" : null)), null, ct);
            WriteCount(context, reply.Body, dry ? "would retry" : "retried", "retried");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BulkDelete()
    {
        var status = new Option<string>("--status", "-s") { Description = "stale or deletion_failed (no other state may be tombstoned in bulk)", Required = true };
        status.AcceptOnlyFromAmong(SandboxStates.BulkDeletable);
        var dryRun = new Option<bool>("--dry-run") { Description = "Count them, change nothing" };
        var command = GlobalOptions.AddJsonTo(new Command("bulk-delete",
            "Tombstone every stale or deletion_failed sandbox (never calls the CSP: remove deletion_failed ones upstream first)") { status, dryRun });
        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            var dry = parsed.GetValue(dryRun);
            var reply = await context.Broker.SendAsync(HttpMethod.Post,
                Query.Path("admin/bulk-delete", ("status", parsed.GetValue(status)), ("dry_run", dry ? "true" : null)), null, ct);
            WriteCount(context, reply.Body, dry ? $"would tombstone ({parsed.GetValue(status)})" : $"tombstoned ({parsed.GetValue(status)})", "deleted");
            return ExitCodes.Success;
        });
        return command;
    }

    private static void WriteSandbox(CliContext context, JsonNode? sandbox)
    {
        if (context.Json)
        {
            context.WriteJson(sandbox);
            return;
        }

        context.Terminal.Out($"sandbox {Formats.Text(sandbox, "sandbox_id")}: {Formats.Text(sandbox, "status")}");
    }

    private static void WriteCount(CliContext context, JsonNode? body, string verb, string field)
    {
        if (context.Json)
        {
            context.WriteJson(body);
            return;
        }

        context.Terminal.Out($"{verb}: {Formats.Number(body, field) ?? 0} sandbox(es) in {Formats.Number(body, "duration_ms") ?? 0} ms");
    }
}
