using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using SandboxBroker.Api.Http;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Admin;

/// <summary>The filters a list cursor is bound to (limit is not one of them: a client may change it between pages).</summary>
internal sealed record ListFilters(SandboxStatus? Status, string? NamePrefix, string? TrackName, string? Requester);

internal sealed record ListRequest(ListFilters Filters, int Limit, string? Cursor);

/// <summary>Query string of GET /admin/sandboxes, bound as raw strings so every bad value gets our own 400 problem.</summary>
internal sealed class ListQuery
{
    [FromQuery(Name = "status"), Description("available, allocated, pending_deletion, deletion_failed, stale or deleted (tombstones); default: every state but deleted")]
    public string? Status { get; set; }

    [FromQuery(Name = "name_prefix"), Description("Only sandboxes whose name starts with this prefix")]
    public string? NamePrefix { get; set; }

    [FromQuery(Name = "track_name"), Description("Only sandboxes allocated for this lab (X-Instruqt-Track-ID)")]
    public string? TrackName { get; set; }

    [FromQuery(Name = "requester"), Description("Only sandboxes held by this participant (X-Instruqt-Sandbox-ID)")]
    public string? Requester { get; set; }

    [FromQuery(Name = "limit"), Description("Page size, 1-100 (default 50)")]
    public string? Limit { get; set; }

    [FromQuery(Name = "cursor"), Description("The cursor of the previous page, with the same filters")]
    public string? Cursor { get; set; }
}

/// <summary>Validation of admin query values (the input limits of <see cref="InputRules"/>). An empty value counts as absent.</summary>
internal static class AdminInput
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    public static string? TryParseList(ListQuery query, out ListRequest request)
    {
        request = null!;
        if (Blank(query.Status) is { } statusText && !SandboxStatusNames.TryParse(statusText, out _))
        {
            return $"status must be one of {string.Join(", ", SandboxStatusNames.All.Select(s => s.ToWire()))}.";
        }

        var limit = DefaultLimit;
        if (Blank(query.Limit) is { } limitText
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return $"limit must be an integer from 1 to {MaxLimit}.";
        }

        var error = CheckPrefix(query.NamePrefix)
            ?? CheckId("track_name", query.TrackName)
            ?? CheckId("requester", query.Requester);
        if (error is not null)
        {
            return error;
        }

        SandboxStatus? status = SandboxStatusNames.TryParse(Blank(query.Status), out var parsed) ? parsed : null;
        var filters = new ListFilters(status, Blank(query.NamePrefix), Blank(query.TrackName), Blank(query.Requester));
        request = new ListRequest(filters, limit, Blank(query.Cursor));
        return null;
    }

    public static string? CheckPrefix(string? namePrefix) =>
        Blank(namePrefix) is { } prefix && !InputRules.IsValidPrefix(prefix)
            ? InputRules.Describe("name_prefix", InputRules.MaxPrefixLength)
            : null;

    public static string? CheckId(string name, string? value) =>
        Blank(value) is { } text && !InputRules.IsValidId(text)
            ? InputRules.Describe(name, InputRules.MaxIdLength)
            : null;

    /// <summary>The status bulk-delete may tombstone: only stale and deletion_failed (the lifecycle allows no other).</summary>
    public static string? TryParseBulkDeleteStatus(string? value, out SandboxStatus status)
    {
        if (SandboxStatusNames.TryParse(Blank(value), out status) && status is SandboxStatus.Stale or SandboxStatus.DeletionFailed)
        {
            return null;
        }

        return "status is required and must be stale or deletion_failed: only those may be tombstoned in bulk.";
    }

    /// <summary>dry_run: true/false (also 1/0); absent or empty is false.</summary>
    public static string? TryParseDryRun(string? value, out bool dryRun)
    {
        dryRun = false;
        switch (Blank(value)?.ToUpperInvariant())
        {
            case null or "FALSE" or "0":
                return null;
            case "TRUE" or "1":
                dryRun = true;
                return null;
            default:
                return "dry_run must be true or false.";
        }
    }

    public static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
