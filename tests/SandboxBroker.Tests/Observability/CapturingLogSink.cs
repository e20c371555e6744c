using System.Collections.Concurrent;
using System.Text.Json;
using SandboxBroker.Api.Observability;
using Serilog.Core;
using Serilog.Events;

namespace SandboxBroker.Tests.Observability;

/// <summary>
/// A Serilog sink registered in the host's services (the broker reads sinks from DI), writing each event with the
/// broker's own <see cref="BrokerLogFormat"/>: the text is exactly what the console sink writes to stdout.
/// </summary>
public sealed class CapturingLogSink : ILogEventSink
{
    private readonly ConcurrentQueue<string> output = new();
    private readonly Serilog.Formatting.ITextFormatter formatter = BrokerLogFormat.Create();

    public void Emit(LogEvent logEvent)
    {
        using var writer = new StringWriter();
        formatter.Format(logEvent, writer);
        output.Enqueue(writer.ToString());
    }

    /// <summary>Everything written so far, as the console would show it.</summary>
    public string Text => string.Concat(output);

    public IReadOnlyList<string> Lines => Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public IEnumerable<JsonElement> Events => Lines.Select(l => JsonDocument.Parse(l).RootElement.Clone());

    /// <summary>Waits (request lines are written after the response) for a line matching <paramref name="match"/>.</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, string what)
    {
        for (var i = 0; i < 100; i++)
        {
            foreach (var e in Events)
            {
                if (match(e))
                {
                    return e;
                }
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException($"no log line for {what} in:\n{Text}");
    }
}
