using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Postern.Server.Tests.Support;

/// <summary>
/// A logger provider that keeps everything a test server logs, at every level it is given (its own filter:
/// <see cref="Settings"/>), each line as one text: category, level, message, every property of the state, the exception
/// with its stack, and every scope the line was logged in with their properties: all a log sink could write.
/// </summary>
public sealed class EveryLogLine : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Text)> _lines = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    /// <summary>Configuration that lets this provider (only) see every level, Trace included.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> Settings(LogLevel level = LogLevel.Trace) =>
    [
        new($"Logging:{typeof(EveryLogLine).FullName}:LogLevel:Default", level.ToString()),
    ];

    public IReadOnlyList<(LogLevel Level, string Category, string Text)> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private static void AppendProperties(StringBuilder text, object? state)
    {
        if (state is IEnumerable<KeyValuePair<string, object?>> properties)
        {
            foreach (var (name, value) in properties)
                text.Append(" [").Append(name).Append('=').Append(value).Append(']');
        }
    }

    private sealed class Logger(EveryLogLine provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder().Append(logLevel).Append(' ').Append(category).Append(": ").Append(formatter(state, exception));
            AppendProperties(text, state);
            if (exception is not null)
                text.Append('\n').Append(exception);
            provider._scopes.ForEachScope((scope, line) =>
            {
                line.Append(" | ").Append(scope);
                AppendProperties(line, scope);
            }, text);
            provider._lines.Enqueue((logLevel, category, text.ToString()));
        }
    }
}
