namespace SandboxBroker.DeployTests.Infrastructure;

/// <summary>Paths in the repository, found by walking up from the test binaries to SandboxBroker.sln.</summary>
internal static class Repo
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts)
    {
        var path = PathOf(parts);
        Assert.True(File.Exists(path), $"{Relative(path)} is missing");
        return File.ReadAllText(path);
    }

    public static string Relative(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SandboxBroker.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"SandboxBroker.sln not found above {AppContext.BaseDirectory}");
    }
}
