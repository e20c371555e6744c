using System.CommandLine;
using System.Globalization;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Commands;

/// <summary>sandbox-broker capacity [--prefix P] [--count N]: is the (sub-)pool enough for an event (GET /capacity)?</summary>
internal static class CapacityCommand
{
    private static readonly string[] Fields =
        ["name_prefix", "available", "reserved", "requested", "sufficient", "allocations_per_minute", "exhaustion_eta_seconds"];

    public static Command Create()
    {
        var prefix = new Option<string?>("--prefix") { Description = "The sub-pool (sandbox name prefix)" };
        var count = new Option<int?>("--count") { Description = "How many sandboxes the event needs" };
        var command = GlobalOptions.AddJsonTo(new Command("capacity", "Available sandboxes, allocation rate and time to exhaustion of a (sub-)pool") { prefix, count });
        command.Validators.Add(result =>
        {
            if (result.GetValue(count) is < 0)
            {
                result.AddError("--count must be 0 or more.");
            }
        });

        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            var path = Query.Path("capacity", ("name_prefix", parsed.GetValue(prefix)),
                ("count", parsed.GetValue(count)?.ToString(CultureInfo.InvariantCulture)));
            var capacity = await NotOffered.GuardAsync("capacity", () => context.Broker.GetAsync(path, ct));
            if (context.Json)
            {
                context.WriteJson(capacity);
                return ExitCodes.Success;
            }

            var table = new TableWriter("FIELD", "VALUE");
            foreach (var field in Fields)
            {
                table.Add(field, Formats.Text(capacity, field));
            }

            table.WriteTo(context.Terminal);
            return ExitCodes.Success;
        });
        return command;
    }
}
