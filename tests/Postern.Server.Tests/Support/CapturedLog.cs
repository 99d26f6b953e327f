using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Postern.Server.Tests.Support;

/// <summary>One line a server logged: its category, level and formatted message.</summary>
public sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Error);

/// <summary>
/// A logger provider that keeps what a test server logs, for tests about what the log says (added to the server's
/// services: <c>services.AddSingleton&lt;ILoggerProvider&gt;(log)</c>). The configured levels still filter it.
/// </summary>
public sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    /// <summary>The first entry <paramref name="match"/> accepts, as soon as it is logged.</summary>
    /// <exception cref="TimeoutException">None within <paramref name="timeout"/>.</exception>
    public async Task<LogEntry> WaitForAsync(Func<LogEntry, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_entries.FirstOrDefault(match) is { } entry)
                return entry;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"No such log entry within {timeout}; logged:\n"
                    + string.Join('\n', _entries.Select(e => $"{e.Level} {e.Category}: {e.Message}")));
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception), exception));
    }
}
