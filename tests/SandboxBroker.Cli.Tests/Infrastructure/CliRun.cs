using System.Diagnostics;
using System.Text;

namespace SandboxBroker.Cli.Tests.Infrastructure;

/// <summary>What one run of the CLI printed and how it exited.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public string All => Stdout + Stderr;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// The CLI as an operator runs it: its own process (dotnet SandboxBroker.Cli.dll from the test output), with
/// SANDBOX_BROKER_* taken from the arguments here only, never from the test's own environment.
/// </summary>
public sealed class CliRun : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder stdout = new();
    private readonly StringBuilder stderr = new();
    private readonly TaskCompletionSource firstStderrLine = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CliRun(Process process) => this.process = process;

    public int Id => process.Id;

    public static async Task<CliResult> RunAsync(Uri? url, string? token, params string[] args)
    {
        using var run = Start(url, token, args);
        return await run.WaitAsync(TimeSpan.FromMinutes(2));
    }

    public static CliRun Start(Uri? url, string? token, params string[] args) =>
        StartFile("dotnet", [Path.Combine(AppContext.BaseDirectory, "SandboxBroker.Cli.dll"), .. args], url, token);

    /// <summary>Runs any executable (the installed tool) with the same environment rules.</summary>
    public static CliRun StartFile(string file, string[] args, Uri? url, string? token)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("SANDBOX_BROKER_URL");
        info.Environment.Remove("SANDBOX_BROKER_TOKEN");
        info.Environment["DOTNET_NOLOGO"] = "1";
        if (url is not null)
        {
            info.Environment["SANDBOX_BROKER_URL"] = url.ToString();
        }

        if (token is not null)
        {
            info.Environment["SANDBOX_BROKER_TOKEN"] = token;
        }

        var process = new Process { StartInfo = info };
        var run = new CliRun(process);
        process.OutputDataReceived += (_, e) => Append(run.stdout, e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            Append(run.stderr, e.Data);
            run.firstStderrLine.TrySetResult();
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    public string Stderr
    {
        get
        {
            lock (stderr)
            {
                return stderr.ToString();
            }
        }
    }

    public async Task<CliResult> WaitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the CLI did not exit within {limit}; stderr so far:\n{Stderr}");
        }

        process.WaitForExit(); // drains the redirected output
        lock (stdout)
        {
            return new CliResult(process.ExitCode, stdout.ToString(), Stderr);
        }
    }

    /// <summary>Ctrl+C, as an operator interrupts a long registration.</summary>
    public void Interrupt()
    {
        using var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.AppendLine(line);
        }
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }
}
