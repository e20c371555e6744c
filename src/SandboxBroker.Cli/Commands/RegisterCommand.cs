using System.CommandLine;
using System.Text.Json.Nodes;
using SandboxBroker.Cli.Infrastructure;
using SandboxBroker.Cli.Registration;

namespace SandboxBroker.Cli.Commands;

/// <summary>
/// sandbox-broker register --csv FILE | --json FILE: checks every row first (a bad row is named by its line and
/// nothing is sent), then registers in batches of 1,000 with a progress bar and prints the created/skipped totals.
/// Safe to re-run: the broker skips every id it already has (any state, tombstones too), so after an interruption
/// the same command registers the rest.
/// </summary>
internal static class RegisterCommand
{
    public static Command Create()
    {
        var csv = new Option<FileInfo?>("--csv") { Description = "CSV with a header: sandbox_id,name,external_id[,sfdc_account_id]" };
        var json = new Option<FileInfo?>("--json")
        {
            Description = "JSON: an array of {sandbox_id, name, external_id, sfdc_account_id?}, or {\"sandboxes\": [...]}",
        };
        var command = new Command("register", "Register sandboxes as available, in batches of 1,000 (safe to re-run)") { csv, json };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(csv) is null) == (result.GetValue(json) is null))
            {
                result.AddError("register needs exactly one of --csv FILE or --json FILE.");
            }
        });

        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            var file = (parsed.GetValue(csv) ?? parsed.GetValue(json))!.FullName;
            var rows = parsed.GetValue(csv) is not null ? CsvSandboxReader.Read(file) : JsonSandboxReader.Read(file);
            SandboxRowRules.CheckAll(rows, file);
            return await RegisterAsync(context, rows, ct);
        });
        return command;
    }

    private static async Task<int> RegisterAsync(CliContext context, List<SandboxRow> rows, CancellationToken ct)
    {
        var progress = new ProgressDisplay(context.Terminal, "registering", rows.Count);
        var (created, skipped, done) = (0L, 0L, 0L);
        var skippedIds = new JsonArray();
        try
        {
            progress.Report(0);
            foreach (var batch in RegistrationBatches.Split(rows))
            {
                var reply = await context.Broker.SendAsync(HttpMethod.Post, "admin/sandboxes", RegistrationBatches.Body(batch), ct);
                created += Formats.Number(reply.Body, "created") ?? 0;
                skipped += Formats.Number(reply.Body, "skipped") ?? 0;
                foreach (var id in reply.Body?["skipped_ids"]?.AsArray() ?? [])
                {
                    skippedIds.Add(id?.DeepClone());
                }

                done += batch.Count;
                progress.Report(done, $"created {created}, skipped {skipped}");
            }
        }
        finally
        {
            progress.Finish();
            if (done < rows.Count)
            {
                context.Terminal.Error($"stopped after {done} of {rows.Count} rows (created {created}, skipped {skipped}); " +
                                       "re-run the same command to register the rest: ids already registered are skipped.");
            }
        }

        // One line a script can read too (register takes --json as its input file, so it has no JSON output mode).
        context.Terminal.Out($"created {created}, skipped {skipped} (already registered, in any state), {rows.Count} rows");
        if (skippedIds.Count > 0 && skippedIds.Count <= 20)
        {
            context.Terminal.Out("skipped ids: " + string.Join(' ', skippedIds.Select(id => id?.GetValue<string>())));
        }

        return ExitCodes.Success;
    }
}
