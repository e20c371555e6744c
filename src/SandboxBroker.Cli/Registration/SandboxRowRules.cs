namespace SandboxBroker.Cli.Registration;

/// <summary>
/// The broker's registration rules, checked for the whole file before anything is sent, so a bad row 1,734 never
/// leaves the pool half registered. The broker checks them again; these only make the error early and name the line.
/// </summary>
internal static class SandboxRowRules
{
    public const int MaxIdLength = 128;
    public const int MaxNameLength = 256;
    public const int MaxExternalIdLength = 512;

    /// <summary>The first problem with the row, or null when the broker will accept it.</summary>
    public static string? Check(string? sandboxId, string? name, string? externalId, string? sfdcAccountId)
    {
        if (!IsPrintableToken(sandboxId, MaxIdLength))
        {
            return $"sandbox_id must be 1-{MaxIdLength} printable ASCII characters without spaces (got '{sandboxId}')";
        }

        if (!IsPlainText(name, MaxNameLength))
        {
            return $"name must be non-empty, at most {MaxNameLength} characters, without control characters";
        }

        if (!IsPlainText(externalId, MaxExternalIdLength))
        {
            return $"external_id must be non-empty, at most {MaxExternalIdLength} characters (e.g. identity/accounts/<uuid>)";
        }

        if (!string.IsNullOrEmpty(sfdcAccountId) && !IsPrintableToken(sfdcAccountId, MaxIdLength))
        {
            return $"sfdc_account_id must be empty or 1-{MaxIdLength} printable ASCII characters without spaces";
        }

        return null;
    }

    /// <summary>The rows, or the first bad one's error (including an id that appears twice).</summary>
    public static void CheckAll(IReadOnlyList<SandboxRow> rows, string file)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!seen.TryAdd(row.SandboxId, row.Where))
            {
                throw new Infrastructure.InputFileException(
                    $"{file} {row.Where}: sandbox_id '{row.SandboxId}' appears twice (first at {seen[row.SandboxId]}); nothing was sent.");
            }
        }
    }

    private static bool IsPrintableToken(string? value, int maxLength) =>
        !string.IsNullOrEmpty(value) && value.Length <= maxLength && value.All(c => c is >= '!' and <= '~');

    private static bool IsPlainText(string? value, int maxLength) =>
        !string.IsNullOrWhiteSpace(value) && value.Length <= maxLength && !value.Any(char.IsControl);
}
