namespace SandboxBroker.Api.Admin.Activity;

/// <summary>
/// The sub-pool a sandbox belongs to, for counts by prefix: its name without the trailing number (dns-lab-007 →
/// dns-lab-), the same string an X-Sandbox-Name-Prefix or a name_prefix filter would use. A name with no trailing
/// number is its own prefix.
/// </summary>
internal static class NamePrefix
{
    public static string Of(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var end = name.Length;
        while (end > 0 && char.IsAsciiDigit(name[end - 1]))
        {
            end--;
        }

        return end == 0 ? name : name[..end];
    }
}
