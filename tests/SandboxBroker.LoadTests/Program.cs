using SandboxBroker.LoadTests;

// The load harness as a console program (scripts/bench.sh runs it): exit 0 when no correctness breach was found,
// 1 on a breach, 2 on a usage error. Timing never changes the exit code.
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchSettings.Usage);
    return 0;
}

// --gauge-cost LIVE TOMBSTONES [REPLICAS]: read units of one pool-gauge refresh on DynamoDB Local (issue 20 item 3).
if (args is ["--gauge-cost", var liveArg, var tombArg, ..])
{
    var replicas = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 1;
    Console.WriteLine(await SandboxBroker.LoadTests.Scenarios.GaugeCost.RunAsync(
        int.Parse(liveArg, System.Globalization.CultureInfo.InvariantCulture), int.Parse(tombArg, System.Globalization.CultureInfo.InvariantCulture), replicas, default));
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
