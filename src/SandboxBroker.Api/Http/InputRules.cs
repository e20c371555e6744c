namespace SandboxBroker.Api.Http;

/// <summary>Input limits: ids and keys are 1-128 printable ASCII characters without spaces, name prefixes 1-64.</summary>
public static class InputRules
{
    public const int MaxIdLength = 128;
    public const int MaxPrefixLength = 64;

    public static bool IsValidId(string? value) => IsPrintableToken(value, MaxIdLength);

    public static bool IsValidPrefix(string? value) => IsPrintableToken(value, MaxPrefixLength);

    /// <summary>The 400 message for a value outside these rules.</summary>
    public static string Describe(string name, int maxLength) => $"{name} must be 1-{maxLength} printable ASCII characters without spaces.";

    public static bool IsPrintableToken(string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}
