using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Commands;

/// <summary>sandbox-broker reservations ls | create | end: hold sandboxes for a lab ahead of an event (/admin/reservations).</summary>
internal static class ReservationsCommand
{
    private const string Feature = "reservations";

    public static Command Create()
    {
        var command = new Command("reservations", "Hold sandboxes for a lab ahead of an event: ls, create, end");
        command.Add(List());
        command.Add(CreateOne());
        command.Add(End());
        return command;
    }

    private static Command List()
    {
        var command = GlobalOptions.AddJsonTo(new Command("ls", "Active and recent reservations with held and allocated counts"));
        CommandAction.Set(command, async (context, _, ct) =>
        {
            var body = await NotOffered.GuardAsync(Feature, () => context.Broker.GetAsync("admin/reservations", ct));
            if (context.Json)
            {
                context.WriteJson(body);
                return ExitCodes.Success;
            }

            var items = body as JsonArray ?? body?["reservations"]?.AsArray() ?? [];
            var table = new TableWriter("RESERVATION_ID", "LAB", "PREFIX", "COUNT", "HELD", "ALLOCATED", "ENDS_AT", "STATUS");
            foreach (var r in items)
            {
                table.Add(Formats.Text(r, "reservation_id"), Formats.Text(r, "track_name"), Formats.Text(r, "name_prefix"), Formats.Text(r, "count"),
                    Formats.Text(r, "held"), Formats.Text(r, "allocated"), Formats.Time(r, "ends_at"), Formats.Text(r, "status"));
            }

            table.WriteTo(context.Terminal);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateOne()
    {
        var lab = new Option<string>("--lab") { Description = "The lab (track_name) the sandboxes are held for", Required = true };
        var count = new Option<int>("--count") { Description = "How many sandboxes to hold", Required = true };
        var prefix = new Option<string?>("--prefix") { Description = "Hold from this sub-pool only" };
        var endsAt = new Option<string>("--ends-at") { Description = "When the hold ends: epoch seconds or an ISO 8601 time (2026-12-06T18:00:00Z)", Required = true };
        var partial = new Option<bool>("--partial") { Description = "Hold what is available when fewer than --count are" };
        var command = GlobalOptions.AddJsonTo(new Command("create", "Hold sandboxes for a lab until a time") { lab, count, prefix, endsAt, partial });
        command.Validators.Add(result =>
        {
            if (result.GetValue(count) < 1)
            {
                result.AddError("--count must be 1 or more.");
            }

            if (ParseTime(result.GetValue(endsAt)) is null)
            {
                result.AddError("--ends-at must be epoch seconds or an ISO 8601 time such as 2026-12-06T18:00:00Z.");
            }
        });

        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            var body = new JsonObject
            {
                ["track_name"] = parsed.GetValue(lab),
                ["count"] = parsed.GetValue(count),
                ["ends_at"] = ParseTime(parsed.GetValue(endsAt)),
                ["partial"] = parsed.GetValue(partial),
            };
            if (parsed.GetValue(prefix) is { Length: > 0 } p)
            {
                body["name_prefix"] = p;
            }

            var reply = await NotOffered.GuardAsync(Feature, () => context.Broker.SendAsync(HttpMethod.Post, "admin/reservations", body, ct));
            WriteOne(context, reply.Body);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command End()
    {
        var id = new Argument<string>("reservation_id") { Description = "The reservation to end (its unused sandboxes go back to available)" };
        var command = GlobalOptions.AddJsonTo(new Command("end", "End a reservation now") { id });
        CommandAction.Set(command, async (context, parsed, ct) =>
        {
            var reply = await NotOffered.GuardAsync(Feature, () =>
                context.Broker.SendAsync(HttpMethod.Delete, $"admin/reservations/{Query.Segment(parsed.GetValue(id)!)}", null, ct));
            WriteOne(context, reply.Body);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void WriteOne(CliContext context, JsonNode? reservation)
    {
        if (context.Json)
        {
            context.WriteJson(reservation);
            return;
        }

        context.Terminal.Out($"reservation {Formats.Text(reservation, "reservation_id") ?? "-"}: {Formats.Text(reservation, "status") ?? "done"}, " +
                             $"held {Formats.Text(reservation, "held") ?? "-"} of {Formats.Text(reservation, "count") ?? "-"}, " +
                             $"allocated {Formats.Text(reservation, "allocated") ?? "-"}, ends {Formats.Time(reservation, "ends_at") ?? "-"}");
    }

    private static long? ParseTime(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time.ToUnixTimeSeconds() : null;
    }
}
