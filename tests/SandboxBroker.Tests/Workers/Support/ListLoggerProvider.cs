using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SandboxBroker.Tests.Workers.Support;

/// <summary>Keeps every log line, so tests can assert that an operator would have been warned.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> lines = new();

    public IReadOnlyList<LogLine> Lines => [.. lines];

    public IReadOnlyList<LogLine> At(LogLevel level) => [.. lines.Where(l => l.Level == level)];

    public ILogger CreateLogger(string categoryName) => new ListLogger(categoryName, lines);

    public void Dispose()
    {
    }

    internal sealed record LogLine(string Category, LogLevel Level, string Message);

    private sealed class ListLogger(string category, ConcurrentQueue<LogLine> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(new LogLine(category, logLevel, formatter(state, exception)));
    }
}
