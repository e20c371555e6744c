using SandboxBroker.Cli.Infrastructure;

namespace SandboxBroker.Cli.Registration;

/// <summary>Reads an input file, turning "not found" and "cannot read" into one clear line.</summary>
internal static class FileText
{
    public static IEnumerable<string> Lines(string path) => Read(path, File.ReadAllLines);

    public static string All(string path) => Read(path, File.ReadAllText);

    private static T Read<T>(string path, Func<string, T> read)
    {
        try
        {
            return read(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputFileException($"{path}: cannot read: {ex.Message}", ex);
        }
    }
}
