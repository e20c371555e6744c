namespace SandboxBroker.Cli.Commands;

/// <summary>Builds "path?a=1&amp;b=2" from the parameters that are set, each value escaped.</summary>
internal static class Query
{
    public static string Path(string path, params (string Name, string? Value)[] parameters)
    {
        var set = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return set.Count == 0 ? path : path + "?" + string.Join('&', set);
    }

    /// <summary>One path segment (a sandbox, run or reservation id), escaped so an id can never change the route.</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);
}
