using System.Globalization;
using System.Text;

namespace SandboxBroker.Cli.Tests.Infrastructure;

/// <summary>Registration files as an operator would export them.</summary>
public static class SandboxFiles
{
    /// <summary>A CSV of <paramref name="count"/> sandboxes named {prefix}00001...; the row numbered <paramref name="badRow"/> (1-based) has no external_id.</summary>
    public static string Csv(string prefix, int count, int? badRow = null)
    {
        var text = new StringBuilder("sandbox_id,name,external_id,sfdc_account_id\n");
        for (var i = 1; i <= count; i++)
        {
            var n = i.ToString("D5", CultureInfo.InvariantCulture);
            var external = i == badRow ? string.Empty : $"identity/accounts/{prefix}{n}";
            text.Append(CultureInfo.InvariantCulture, $"{prefix}{n},\"{prefix}{n}\",{external},0015g{n}\n");
        }

        return Write(text.ToString(), ".csv");
    }

    /// <summary>One folder for the files of this test run, removed when the test process ends.</summary>
    private static readonly Lazy<string> Folder = new(() =>
    {
        var folder = Directory.CreateTempSubdirectory("sbx-cli-files").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(folder, recursive: true);
        return folder;
    });

    public static string Write(string content, string extension)
    {
        var path = Path.Combine(Folder.Value, Guid.NewGuid().ToString("N") + extension);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A name prefix no other test uses, so counts by prefix belong to one test.</summary>
    public static string Prefix(string test) => $"{test}-{Guid.NewGuid().ToString("N")[..6]}-";
}
