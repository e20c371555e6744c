namespace SandboxBroker.Api.Http;

/// <summary>Input limits of SPEC section 5: ids and keys 1-128 printable ASCII without spaces, prefixes 1-64.</summary>
public static class InputRules
{
    public const int MaxIdLength = 128;
    public const int MaxPrefixLength = 64;

    public static bool IsValidId(string? value) => IsPrintableToken(value, MaxIdLength);

    public static bool IsValidPrefix(string? value) => IsPrintableToken(value, MaxPrefixLength);

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
