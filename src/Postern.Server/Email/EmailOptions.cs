using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Postern.Server.Email;

/// <summary>
/// Outgoing e-mail (<c>Postern:Email</c>): where it goes, who it is from, its templates, and how the outbox retries.
/// Durations are in seconds and may be fractions (the tests retry within a fraction of a second).
/// </summary>
public sealed class EmailOptions
{
    public const string Section = "Postern:Email";

    /// <summary>
    /// The SMTP server, as a URL (<see cref="SmtpServerUrl"/>): <c>smtp://user:password@host:587</c> (STARTTLS when the server
    /// offers it; required when a password would cross the network), <c>smtps://user:password@host:465</c> (TLS from the
    /// first byte), <c>smtp://127.0.0.1:25</c>. User and password are URL-encoded. Empty: every e-mail is written to the log
    /// instead, as Django's console e-mail backend does.
    /// </summary>
    public string? SmtpUrl { get; set; }

    /// <summary>The From of every e-mail: an address or <c>Name &lt;address&gt;</c> (Django's DEFAULT_FROM_EMAIL).</summary>
    [Required]
    public string From { get; set; } = "webmaster@localhost";

    /// <summary>
    /// A folder whose files replace the built-in templates, one file per part: <c>password-reset.subject.txt</c>,
    /// <c>password-reset.txt</c>, <c>password-reset.html</c>, and the same for <c>email-verification</c>.
    /// </summary>
    public string? TemplatesPath { get; set; }

    /// <summary>Attempts at sending one e-mail before it is given up and left in the outbox marked failed.</summary>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 10;

    /// <summary>The wait after a first failed attempt; it doubles after each further one (exponential back-off).</summary>
    [Range(0.01, 86_400.0)]
    public double RetryDelaySeconds { get; set; } = 30;

    /// <summary>The longest wait between two attempts, however many failed.</summary>
    [Range(0.01, 86_400.0)]
    public double MaxRetryDelaySeconds { get; set; } = 3600;

    /// <summary>
    /// How often each instance looks for e-mails that others enqueued or that are due again; an e-mail this instance enqueues
    /// goes at once.
    /// </summary>
    [Range(0.01, 3600.0)]
    public double PollIntervalSeconds { get; set; } = 5;

    /// <summary>
    /// How long an instance holds an e-mail it is sending: if it dies meanwhile, another one sends the e-mail once this has
    /// passed. Longer than <see cref="SmtpTimeoutSeconds"/>, so that a slow send is not taken over while it still runs.
    /// </summary>
    [Range(0.1, 86_400.0)]
    public double ClaimLeaseSeconds { get; set; } = 300;

    /// <summary>How long one SMTP command (connecting, each step of the conversation) may take.</summary>
    [Range(0.1, 3600.0)]
    public double SmtpTimeoutSeconds { get; set; } = 30;

    public TimeSpan RetryDelay => TimeSpan.FromSeconds(RetryDelaySeconds);
    public TimeSpan MaxRetryDelay => TimeSpan.FromSeconds(MaxRetryDelaySeconds);
    public TimeSpan PollInterval => TimeSpan.FromSeconds(PollIntervalSeconds);
    public TimeSpan ClaimLease => TimeSpan.FromSeconds(ClaimLeaseSeconds);
    public TimeSpan SmtpTimeout => TimeSpan.FromSeconds(SmtpTimeoutSeconds);

    /// <summary>
    /// The wait after <paramref name="failedAttempts"/> failed attempts: <see cref="RetryDelay"/>, doubled each time, at most
    /// <see cref="MaxRetryDelay"/>.
    /// </summary>
    public TimeSpan RetryDelayAfter(int failedAttempts)
    {
        var doublings = Math.Clamp(failedAttempts - 1, 0, 40);
        return TimeSpan.FromSeconds(Math.Min(RetryDelaySeconds * Math.Pow(2, doublings), MaxRetryDelaySeconds));
    }
}

/// <summary>
/// What the annotations on <see cref="EmailOptions"/> cannot say: a usable SMTP URL and From, a lease longer than a send.
/// </summary>
public sealed class EmailOptionsValidation : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.SmtpUrl) && !SmtpServerUrl.TryParse(options.SmtpUrl, out _, out var problem))
            failures.Add($"{EmailOptions.Section}:SmtpUrl: {problem}");
        if (!MailboxAddress.TryParse(options.From ?? "", out _))
            failures.Add($"{EmailOptions.Section}:From is not an e-mail address: '{options.From}'.");
        if (!string.IsNullOrWhiteSpace(options.TemplatesPath) && !Directory.Exists(options.TemplatesPath))
            failures.Add($"{EmailOptions.Section}:TemplatesPath is not a folder: '{options.TemplatesPath}'.");
        if (options.ClaimLeaseSeconds <= options.SmtpTimeoutSeconds)
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{EmailOptions.Section}:ClaimLeaseSeconds ({options.ClaimLeaseSeconds}) must be longer than SmtpTimeoutSeconds "
                + $"({options.SmtpTimeoutSeconds})."));
        if (options.MaxRetryDelaySeconds < options.RetryDelaySeconds)
            failures.Add($"{EmailOptions.Section}:MaxRetryDelaySeconds must not be shorter than RetryDelaySeconds.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
