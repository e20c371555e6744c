namespace SandboxBroker.Tests.Infrastructure;

/// <summary>Files of the repository (README, docs) for tests that check them against the code.</summary>
internal static class RepositoryFiles
{
    public static string PathOf(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SandboxBroker.sln")))
            {
                return Path.Combine([dir.FullName, .. parts]);
            }
        }

        throw new InvalidOperationException("the repository root (SandboxBroker.sln) is not above " + AppContext.BaseDirectory);
    }
}
