namespace Postern.Server.Email;

/// <summary>
/// E-mail's log messages, generated at compile time. None carries the SMTP password: servers are named by their description.
/// </summary>
internal static partial class EmailLog
{
    [LoggerMessage(20, LogLevel.Information, "E-mails go to {Destination}")]
    public static partial void EmailGoesTo(this ILogger logger, string destination);

    [LoggerMessage(21, LogLevel.Information, "Sent e-mail {Id} to {To} through {Server} (attempt {Attempt})")]
    public static partial void EmailSent(this ILogger logger, long id, string to, string server, int attempt);

    [LoggerMessage(22, LogLevel.Warning,
        "Could not send e-mail {Id} to {To} (attempt {Attempt} of {MaxAttempts}); trying again in {DelaySeconds} s: {Reason}")]
    public static partial void EmailAttemptFailed(
        this ILogger logger, long id, string to, int attempt, int maxAttempts, double delaySeconds, string reason);

    [LoggerMessage(23, LogLevel.Error,
        "Gave up sending e-mail {Id} to {To} after {Attempts} attempts; it stays in email_outbox, marked failed: {Reason}")]
    public static partial void EmailGivenUp(this ILogger logger, Exception? error, long id, string to, int attempts, string reason);

    [LoggerMessage(24, LogLevel.Warning,
        "Sent e-mail {Id} to {To} after its claim had run out (Postern:Email:ClaimLeaseSeconds = {LeaseSeconds}): another instance "
        + "may send it again")]
    public static partial void EmailSentAfterLeaseRanOut(this ILogger logger, long id, string to, double leaseSeconds);

    [LoggerMessage(25, LogLevel.Warning, "The e-mail outbox is out of reach; will look again")]
    public static partial void OutboxUnavailable(this ILogger logger, Exception error);

    [LoggerMessage(26, LogLevel.Error, "The e-mail outbox worker failed; will look again")]
    public static partial void OutboxFailed(this ILogger logger, Exception error);

    [LoggerMessage(27, LogLevel.Information,
        "E-mail {Id} to {To}, written here instead of sent (Postern:Email:SmtpUrl is not set):\n{Message}")]
    public static partial void EmailWrittenToLog(this ILogger logger, long id, string to, string message);

    [LoggerMessage(28, LogLevel.Warning,
        "{Folder} replaces only {Files} of the e-mail template '{Template}': the other parts keep the built-in wording")]
    public static partial void PartlyOverriddenTemplate(this ILogger logger, string template, string files, string folder);
}
