using System.Text.Json;
using SandboxBroker.Api.Http;
using SandboxBroker.Api.Sandboxes;

namespace SandboxBroker.Api.Admin;

/// <summary>
/// Reads and validates the body of POST /admin/sandboxes by hand, so every malformed body (bad JSON, wrong shape,
/// nulls, bad ids, too many items, wrong content type, too large) gets a precise problem instead of a binder 500.
/// </summary>
internal static class RegistrationBody
{
    public const int MaxItems = 1000;
    public const int MaxNameLength = 256;
    public const int MaxExternalIdLength = 512;

    public static async Task<RegistrationBodyOutcome> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
        {
            return Refused(StatusCodes.Status415UnsupportedMediaType, "The body must be application/json.");
        }

        JsonElement root;
        try
        {
            root = await request.ReadFromJsonAsync<JsonElement>(ct);
        }
        catch (JsonException)
        {
            return Refused(StatusCodes.Status400BadRequest, "The body is not valid JSON.");
        }
        catch (BadHttpRequestException ex)
        {
            return Refused(ex.StatusCode, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? "The body is too large; register at most 1,000 sandboxes per call." : "The body could not be read.");
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException)
        {
            return Refused(StatusCodes.Status415UnsupportedMediaType, "The body must be UTF-8 application/json.");
        }

        return Parse(root);
    }

    private static RegistrationBodyOutcome Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("sandboxes", out var items) || items.ValueKind != JsonValueKind.Array)
        {
            return Refused(StatusCodes.Status400BadRequest, "The body must be {\"sandboxes\": [{\"sandbox_id\", \"name\", \"external_id\", \"sfdc_account_id\"?}, ...]}.");
        }

        var count = items.GetArrayLength();
        if (count > MaxItems)
        {
            return Refused(StatusCodes.Status400BadRequest, $"At most {MaxItems} sandboxes per call ({count} sent).");
        }

        var sandboxes = new List<UpstreamSandbox>(count);
        var index = 0;
        foreach (var item in items.EnumerateArray())
        {
            var error = ReadItem(item, out var sandbox);
            if (error is not null)
            {
                return Refused(StatusCodes.Status400BadRequest, $"sandboxes[{index}]: {error}");
            }

            sandboxes.Add(sandbox!);
            index++;
        }

        return new RegistrationBodyOutcome.Valid(sandboxes);
    }

    private static string? ReadItem(JsonElement item, out UpstreamSandbox? sandbox)
    {
        sandbox = null;
        if (item.ValueKind != JsonValueKind.Object)
        {
            return "must be an object.";
        }

        var id = Text(item, "sandbox_id");
        if (!InputRules.IsValidId(id))
        {
            return $"sandbox_id must be a string of 1-{InputRules.MaxIdLength} printable ASCII characters without spaces.";
        }

        var name = Text(item, "name");
        if (!IsPlainText(name, MaxNameLength))
        {
            return $"name must be a non-empty string of at most {MaxNameLength} characters without control characters.";
        }

        var externalId = Text(item, "external_id");
        if (!IsPlainText(externalId, MaxExternalIdLength))
        {
            return $"external_id must be a non-empty string of at most {MaxExternalIdLength} characters (e.g. identity/accounts/<uuid>).";
        }

        string? sfdc = null;
        if (item.TryGetProperty("sfdc_account_id", out var sfdcValue) && sfdcValue.ValueKind != JsonValueKind.Null)
        {
            sfdc = sfdcValue.ValueKind == JsonValueKind.String ? StringOf(sfdcValue) : null;
            if (sfdc is null || (sfdc.Length > 0 && !InputRules.IsValidId(sfdc)))
            {
                return $"sfdc_account_id must be null or a string of up to {InputRules.MaxIdLength} printable ASCII characters.";
            }
        }

        // CreatedAt 0: the service stamps the registration time.
        sandbox = new UpstreamSandbox(id!, name!, externalId!, 0, string.IsNullOrEmpty(sfdc) ? null : sfdc);
        return null;
    }

    /// <summary>The string value of a property; null when absent, null, or not a string (numbers are refused).</summary>
    private static string? Text(JsonElement item, string property) =>
        item.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? StringOf(value) : null;

    /// <summary>A string element's value; null when its bytes are not valid UTF-8 (the parser defers that check to here).</summary>
    private static string? StringOf(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static bool IsPlainText(string? value, int maxLength) =>
        !string.IsNullOrWhiteSpace(value) && value.Length <= maxLength && !value.Any(char.IsControl);

    private static RegistrationBodyOutcome.Refused Refused(int status, string detail) => new(status, detail);
}
