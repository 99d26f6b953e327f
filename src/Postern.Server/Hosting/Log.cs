namespace Postern.Server.Hosting;

/// <summary>Postern's log messages, generated at compile time.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Purged {Count} expired sessions")]
    public static partial void PurgedSessions(this ILogger logger, int count);

    [LoggerMessage(2, LogLevel.Warning, "Could not purge expired sessions; will retry")]
    public static partial void PurgeFailed(this ILogger logger, Exception error);

    [LoggerMessage(6, LogLevel.Warning, "A write was made but could not be announced through Redis: other instances may serve what it changed until their caches age out (Postern:Cache:MaxAgeSeconds)")]
    public static partial void WriteNotAnnounced(this ILogger logger, Exception error);
}
