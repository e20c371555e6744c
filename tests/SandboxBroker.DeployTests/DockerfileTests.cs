using System.Globalization;
using System.Reflection;
using System.Runtime.Versioning;
using SandboxBroker.DeployTests.Infrastructure;
using Xunit.Abstractions;

namespace SandboxBroker.DeployTests;

/// <summary>
/// The Dockerfile without a Docker engine: its shape (official .NET images of the app's framework, non-root, port,
/// health check, entry point), and a replay of its COPY layout and its own dotnet restore and publish commands in a
/// scratch directory, so a missing file in the layout fails here rather than in the release pipeline.
/// </summary>
public sealed partial class DockerfileTests(ITestOutputHelper output)
{
    internal static readonly string AppDll = typeof(Program).Assembly.GetName().Name + ".dll";

    private static IReadOnlyList<DockerStage> Stages => Dockerfile.Parse(Repo.Read("Dockerfile"));

    [Fact]
    public void Images_are_the_official_dotnet_images_of_the_app_framework()
    {
        var framework = typeof(Program).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName; // .NETCoreApp,Version=v10.0
        var version = framework[(framework.IndexOf("=v", StringComparison.Ordinal) + 2)..];
        var stages = Stages;
        Assert.True(stages.Count >= 2, "multi-stage: an SDK stage builds, a runtime stage runs");
        Assert.StartsWith($"mcr.microsoft.com/dotnet/sdk:{version}", stages[0].BaseImage, StringComparison.Ordinal);
        Assert.StartsWith($"mcr.microsoft.com/dotnet/aspnet:{version}", stages[^1].BaseImage, StringComparison.Ordinal);
    }

    [Fact]
    public void Final_image_runs_the_published_app_as_non_root_on_the_contract_port()
    {
        var stages = Stages;
        var final = stages[^1];

        // Only the published app: every COPY of the final stage comes from an earlier stage.
        var copies = final.All("COPY").ToList();
        Assert.NotEmpty(copies);
        Assert.All(copies, c => Assert.True(c.Split().Flags.ContainsKey("from"), $"line {c.Line}: the final stage copies from the build context"));

        var user = final.Last("USER");
        Assert.True(user is not null, "the final stage sets no USER (it would run as root)");
        Assert.DoesNotContain(user.Arguments.Trim(), new[] { "root", "0", "0:0", "root:root" });

        var port = Contract.ContainerPort.ToString(CultureInfo.InvariantCulture);
        Assert.Contains(final.All("EXPOSE"), e => e.Arguments.Split(' ').Contains(port) || e.Arguments.Split(' ').Contains(port + "/tcp"));
        Assert.Contains(final.All("ENV"), e => e.Arguments.Contains($"ASPNETCORE_HTTP_PORTS={port}", StringComparison.Ordinal));

        var entry = final.Last("ENTRYPOINT")?.ExecForm;
        Assert.Equal(["dotnet", AppDll], entry);

        var health = final.Last("HEALTHCHECK");
        Assert.True(health is not null, "no HEALTHCHECK");
        Assert.EndsWith($"CMD [\"dotnet\", \"{AppDll}\", \"--probe\", \"{Contract.LivenessPath}\"]", health.Arguments.Trim(), StringComparison.Ordinal);
        Assert.Equal("/app", final.Last("WORKDIR")?.Arguments.Trim());
    }

    [Fact]
    public void Central_package_files_are_copied_before_the_restore()
    {
        var build = Stages[0];
        var instructions = build.Instructions.ToList();
        var restore = instructions.FindIndex(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet restore", StringComparison.Ordinal));
        Assert.True(restore >= 0, "the build stage has no RUN dotnet restore");
        var copiedBefore = instructions.Take(restore).Where(i => i.Keyword == "COPY").SelectMany(i => i.Split().Words.SkipLast(1)).ToList();
        foreach (var file in new[] { "Directory.Packages.props", "Directory.Build.props", "global.json" })
        {
            Assert.Contains(file, copiedBefore);
        }

        // Nothing but project and build files before the restore, so the package layer stays cached.
        Assert.All(copiedBefore, f => Assert.True(f.EndsWith(".csproj", StringComparison.Ordinal) || f.EndsWith(".props", StringComparison.Ordinal)
            || f.EndsWith(".json", StringComparison.Ordinal) || f == ".editorconfig", $"{f} is copied before the restore"));
    }

    [Fact]
    public async Task Restore_and_publish_commands_succeed_on_the_dockerfile_copy_layout()
    {
        var scratch = Path.Combine(Path.GetTempPath(), "sbx-dockerfile", Guid.NewGuid().ToString("N"));
        var fs = Path.Combine(scratch, "fs"); // stands for the image's root directory
        try
        {
            var ignore = new DockerIgnore(File.Exists(Repo.PathOf(".dockerignore")) ? Repo.Read(".dockerignore") : null);
            var stages = Stages;
            var replayed = new Dictionary<string, string>(StringComparer.Ordinal); // stage name -> its root
            string? publishDirectory = null;
            for (var s = 0; s < stages.Count - 1; s++)
            {
                var stage = stages[s];
                var workdir = "/";
                foreach (var instruction in stage.Instructions)
                {
                    switch (instruction.Keyword)
                    {
                        case "WORKDIR":
                            workdir = ContainerPath(workdir, instruction.Arguments.Trim());
                            Directory.CreateDirectory(Map(fs, workdir));
                            break;
                        case "COPY":
                            Copy(instruction, fs, workdir, ignore);
                            break;
                        case "RUN":
                            publishDirectory = await RunAsync(instruction, fs, workdir) ?? publishDirectory;
                            break;
                        case "ENV" or "ARG" or "LABEL":
                            break;
                        default:
                            Assert.Fail($"Dockerfile line {instruction.Line}: the replay does not understand {instruction.Keyword} in a build stage");
                            break;
                    }
                }

                replayed[stage.Name ?? s.ToString(CultureInfo.InvariantCulture)] = fs;
            }

            Assert.True(publishDirectory is not null, "no RUN dotnet publish with --output in the build stage");
            var published = Map(fs, publishDirectory);
            Assert.True(File.Exists(Path.Combine(published, AppDll)), $"{AppDll} is not in the publish output {publishDirectory}");
            Assert.True(File.Exists(Path.Combine(published, Path.ChangeExtension(AppDll, ".runtimeconfig.json"))), "no runtimeconfig.json in the publish output");
            Assert.False(File.Exists(Path.Combine(published, Path.GetFileNameWithoutExtension(AppDll))), "an app host was published (UseAppHost=false keeps the image portable)");

            // The final stage takes exactly that directory.
            var copy = Assert.Single(stages[^1].All("COPY"));
            var (flags, words) = copy.Split();
            Assert.True(replayed.ContainsKey(flags["from"]), $"COPY --from={flags["from"]} names no build stage");
            Assert.Equal(publishDirectory.TrimEnd('/'), words[0].TrimEnd('/'));
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
                // a build server still holds a file; the temp cleaner removes it later
            }
        }
    }

    private async Task<string?> RunAsync(DockerInstruction run, string fs, string workdir)
    {
        var words = Dockerfile.Words(run.Arguments).ToList();
        Assert.True(words.Count > 1 && words[0] == "dotnet" && !words.Contains("&&"), $"Dockerfile line {run.Line}: the replay runs single dotnet commands only: {run.Arguments}");
        // Container paths (/app/publish) move into the scratch root; MSBuild switches (/p:x=y) stay as they are.
        var arguments = words.Skip(1).Select(w => w.StartsWith('/') && !MsBuildSwitch().IsMatch(w) ? Map(fs, w) : w).ToList();
        var started = DateTime.UtcNow;
        var result = await ProcessRunner.RunAsync("dotnet", [.. arguments, "-nodeReuse:false"], Map(fs, workdir), TimeSpan.FromMinutes(5), new Dictionary<string, string?>
        {
            // A dotnet started from a test host must not inherit the host's MSBuild location.
            ["MSBuildExtensionsPath"] = null,
            ["MSBuildSDKsPath"] = null,
            ["MSBUILD_EXE_PATH"] = null,
            ["MSBuildLoadMicrosoftTargetsReadOnly"] = null,
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["UseSharedCompilation"] = "false",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        });
        output.WriteLine($"line {run.Line}: dotnet {string.Join(' ', words.Skip(1))} -> {result.ExitCode} in {(DateTime.UtcNow - started).TotalSeconds:F0} s");
        Assert.True(result.ExitCode == 0, result.Describe($"Dockerfile line {run.Line}: {run.Arguments}"));

        var outputIndex = words.FindIndex(w => w is "--output" or "-o");
        return words[1] == "publish" && outputIndex > 0 ? ContainerPath(workdir, words[outputIndex + 1]) : null;
    }

    private static void Copy(DockerInstruction copy, string fs, string workdir, DockerIgnore ignore)
    {
        var (flags, words) = copy.Split();
        Assert.False(flags.ContainsKey("from"), $"Dockerfile line {copy.Line}: COPY --from inside a build stage is not replayed");
        Assert.True(words.Count >= 2, $"Dockerfile line {copy.Line}: COPY needs a source and a destination");
        var destination = ContainerPath(workdir, words[^1]);
        var sources = words.SkipLast(1).ToList();
        var intoDirectory = words[^1].EndsWith('/') || sources.Count > 1;
        foreach (var source in sources)
        {
            var relative = source.TrimEnd('/') is "." or "" ? "" : source.TrimEnd('/');
            var path = relative.Length == 0 ? Repo.Root : Repo.PathOf(relative);
            Assert.True(relative.Length == 0 || !ignore.Excludes(relative), $"Dockerfile line {copy.Line}: {source} is excluded by .dockerignore, so COPY fails");
            if (File.Exists(path))
            {
                var target = intoDirectory ? Path.Combine(Map(fs, destination), Path.GetFileName(path)) : Map(fs, destination);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(path, target, overwrite: true);
            }
            else
            {
                Assert.True(Directory.Exists(path), $"Dockerfile line {copy.Line}: {source} does not exist in the build context");
                CopyDirectory(path, relative, Map(fs, destination), ignore);
            }
        }
    }

    /// <summary>Docker copies a directory's contents (not the directory) and leaves out what .dockerignore excludes.</summary>
    private static void CopyDirectory(string path, string relative, string target, DockerIgnore ignore)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(path))
        {
            var rel = Combine(relative, Path.GetFileName(file));
            if (!ignore.Excludes(rel))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
            }
        }

        foreach (var directory in Directory.EnumerateDirectories(path))
        {
            var rel = Combine(relative, Path.GetFileName(directory));
            if (!ignore.Excludes(rel))
            {
                CopyDirectory(directory, rel, Path.Combine(target, Path.GetFileName(directory)), ignore);
            }
        }
    }

    private static string Combine(string a, string b) => a.Length == 0 ? b : $"{a}/{b}";

    private static string ContainerPath(string workdir, string path) =>
        path.StartsWith('/') ? path : (workdir.TrimEnd('/') + "/" + (path is "." or "./" ? "" : path)).TrimEnd('/') is { Length: > 0 } p ? p : "/";

    private static string Map(string fs, string containerPath) => Path.Combine(fs, containerPath.TrimStart('/'));

    [System.Text.RegularExpressions.GeneratedRegex("^/[A-Za-z]+:")]
    private static partial System.Text.RegularExpressions.Regex MsBuildSwitch();
}
