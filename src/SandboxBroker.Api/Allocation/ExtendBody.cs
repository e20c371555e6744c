using System.Text.Json;

namespace SandboxBroker.Api.Allocation;

/// <summary>
/// The optional body of POST /sandboxes/{id}/extend: none (any content type, as the lab scripts send it) or
/// {"seconds": N} with 60 ≤ N ≤ 7 days. Read by hand so a malformed body is a 400, never a binder 500.
/// </summary>
internal static class ExtendBody
{
    public const long MinSeconds = 60;
    public const long MaxSeconds = 7 * 24 * 3600;
    private const int MaxBytes = 4096;

    /// <summary>The seconds asked for (null: the default step), or an error message for a 400.</summary>
    public static async Task<(long? Seconds, string? Error)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        string text;
        try
        {
            using var reader = new StreamReader(request.Body);
            var buffer = new char[MaxBytes + 1];
            var read = await reader.ReadBlockAsync(buffer.AsMemory(), ct);
            if (read > MaxBytes)
            {
                return (null, $"The body must be at most {MaxBytes} bytes.");
            }

            text = new string(buffer, 0, read);
        }
        catch (BadHttpRequestException)
        {
            return (null, "The body could not be read.");
        }

        return string.IsNullOrWhiteSpace(text) ? (null, null) : Parse(text);
    }

    private static (long? Seconds, string? Error) Parse(string text)
    {
        const string shape = "The body must be empty or {\"seconds\": N} with 60 <= N <= 604800.";
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, shape);
            }

            if (!root.TryGetProperty("seconds", out var seconds) || seconds.ValueKind == JsonValueKind.Null)
            {
                return (null, null);
            }

            return seconds.ValueKind == JsonValueKind.Number && seconds.TryGetInt64(out var n) && n is >= MinSeconds and <= MaxSeconds
                ? (n, null)
                : (null, shape);
        }
        catch (JsonException)
        {
            return (null, "The body is not valid JSON.");
        }
    }
}
