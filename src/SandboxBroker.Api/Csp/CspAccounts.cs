using System.Globalization;
using System.Text.Json;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Csp;

/// <summary>
/// Maps one page of GET current_user/accounts to the pool: only results with account_type "sandbox" and state
/// "active"; sandbox_id = csp_id in decimal (a string on the wire; the original lab script writes it to a file),
/// external_id = id (identity/accounts/&lt;uuid&gt;), created_at ISO-8601 → epoch seconds, sfdc_account_id as is.
/// The ids of every row, in any type or state, are kept beside the pool (<see cref="UpstreamListing.Listed"/>).
/// </summary>
internal static class CspAccounts
{
    /// <summary>
    /// Throws <see cref="CspException"/> (a breaker failure) when the body is not the documented shape. One bad row
    /// never aborts the list: a row that is not an object, or an active sandbox account without id or csp_id, is left
    /// out and described to <paramref name="skipped"/> (keyed any other way, one account could end up under two
    /// sandbox ids, SPEC 11.3).
    /// </summary>
    public static CspAccountPage Parse(JsonDocument document, Action<string>? skipped = null)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("results", out var results)
            || results.ValueKind != JsonValueKind.Array)
        {
            throw new CspException("CSP account list has no results array", 200) { CountsAsFailure = true };
        }

        var sandboxes = new List<UpstreamSandbox>(results.GetArrayLength());
        var rowKeys = new List<string>(results.GetArrayLength());
        var ids = new List<string>(2 * results.GetArrayLength());
        foreach (var account in results.EnumerateArray())
        {
            rowKeys.Add(RowKey(account, ids));
            if (ToSandbox(account, skipped) is { } sandbox)
            {
                sandboxes.Add(sandbox);
            }
        }

        return new CspAccountPage(sandboxes, ids, rowKeys);
    }

    /// <summary>Adds the row's ids to <paramref name="ids"/>; returns what identifies the row across pages.</summary>
    private static string RowKey(JsonElement account, List<string> ids)
    {
        if (account.ValueKind != JsonValueKind.Object)
        {
            return account.GetRawText();
        }

        var id = Text(account, "id");
        var cspId = Text(account, "csp_id");
        if (id is { Length: > 0 })
        {
            ids.Add(id);
        }

        if (cspId is { Length: > 0 })
        {
            ids.Add(cspId);
        }

        return id ?? cspId ?? account.GetRawText();
    }

    private static UpstreamSandbox? ToSandbox(JsonElement account, Action<string>? skipped)
    {
        if (account.ValueKind != JsonValueKind.Object)
        {
            skipped?.Invoke($"a {account.ValueKind} row instead of an account object");
            return null;
        }

        if (!Is(account, "account_type", "sandbox") || !Is(account, "state", "active"))
        {
            return null; // not a sandbox, or not active: not part of the pool
        }

        if (Text(account, "id") is not { Length: > 0 } id)
        {
            skipped?.Invoke($"an active sandbox account without id (csp_id {Text(account, "csp_id") ?? "none"})");
            return null;
        }

        // The original fell back to id when csp_id is missing; that keys one account two ways if csp_id appears later.
        if (Text(account, "csp_id") is not { Length: > 0 } sandboxId)
        {
            skipped?.Invoke($"account {id} without csp_id");
            return null;
        }

        var name = Text(account, "name") is { Length: > 0 } n ? n : "sandbox-" + sandboxId;
        return new UpstreamSandbox(sandboxId, name, id, EpochOf(Text(account, "created_at")), Text(account, "sfdc_account_id"));
    }

    /// <summary>The CSP account uuid: the last segment of external_id.</summary>
    public static string UuidOf(string externalId)
    {
        var trimmed = externalId.Trim().TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return slash >= 0 ? trimmed[(slash + 1)..] : trimmed;
    }

    private static bool Is(JsonElement account, string property, string expected) =>
        string.Equals(Text(account, property), expected, StringComparison.OrdinalIgnoreCase);

    /// <summary>A string as is, a number in invariant decimal (csp_id is a number upstream); anything else null.</summary>
    private static string? Text(JsonElement account, string property)
    {
        if (!account.TryGetProperty(property, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()?.Trim(),
            JsonValueKind.Number when value.TryGetInt64(out var whole) => whole.ToString(CultureInfo.InvariantCulture),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
    }

    /// <summary>0 when missing or unparsable: the store then records the sync time, as the original did.</summary>
    private static long EpochOf(string? iso) =>
        iso is not null && DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at.ToUnixTimeSeconds()
            : 0;
}

/// <summary>
/// One page of the account list: the active sandbox accounts on it, the ids of every row on it, and one key per row
/// (to tell a next page from a repeated one).
/// </summary>
internal sealed record CspAccountPage(IReadOnlyList<UpstreamSandbox> Active, IReadOnlyList<string> Ids, IReadOnlyList<string> RowKeys);
