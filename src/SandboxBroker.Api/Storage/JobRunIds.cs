using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace SandboxBroker.Api.Storage;

/// <summary>
/// Run ids name their job and start: "cleanup-1764919320-a1b2c3". Within a job they sort by start time (ten-digit
/// epoch seconds), so a store can keep a job's newest runs by key order, and any replica can find a run's job from
/// its id alone.
/// </summary>
public static partial class JobRunIds
{
    public static string New(string job, long startedAt) =>
        string.Create(CultureInfo.InvariantCulture, $"{job}-{startedAt:D10}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}");

    /// <summary>The job of a well-formed run id; false for anything else (which names no run).</summary>
    public static bool TryParseJob(string runId, out string job)
    {
        var match = RunId().Match(runId ?? "");
        job = match.Success ? match.Groups["job"].Value : "";
        return match.Success;
    }

    [GeneratedRegex("^(?<job>[a-z][a-z_]{0,31})-[0-9]{10}-[0-9a-f]{6}$", RegexOptions.CultureInvariant)]
    private static partial Regex RunId();
}
