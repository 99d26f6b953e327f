namespace Postern.Server.Hosting;

/// <summary>Postern's log messages, generated at compile time.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Purged {Count} expired sessions")]
    public static partial void PurgedSessions(this ILogger logger, int count);

    [LoggerMessage(2, LogLevel.Warning, "Could not purge expired sessions; will retry")]
    public static partial void PurgeFailed(this ILogger logger, Exception error);
}
