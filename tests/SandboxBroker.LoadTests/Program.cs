using SandboxBroker.LoadTests;

// The load harness as a console program (scripts/bench.sh runs it): exit 0 when no correctness breach was found,
// 1 on a breach, 2 on a usage error. Timing never changes the exit code.
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchSettings.Usage);
    return 0;
}

BenchSettings settings;
try
{
    settings = BenchSettings.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    await Console.Error.WriteLineAsync(ex.Message + "\n\n" + BenchSettings.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var command = Environment.GetEnvironmentVariable("BENCH_COMMAND") is { Length: > 0 } shown
    ? shown
    : "dotnet SandboxBroker.LoadTests.dll " + string.Join(' ', args);
var report = await BenchRunner.RunAsync(settings, command, line => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}"), cancel.Token);
var markdown = report.Write(settings.OutputDirectory);
Console.WriteLine();
Console.WriteLine(markdown);
Console.WriteLine($"written: {Path.Combine(settings.OutputDirectory, "bench.md")} and bench.json");
return report.Breaches.Count == 0 ? 0 : 1;
