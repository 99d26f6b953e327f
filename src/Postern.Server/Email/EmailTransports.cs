using System.Globalization;
using System.Text;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Postern.Server.Email;

/// <summary>How the outbox worker delivers an e-mail: through SMTP, or into the log when no SMTP server is configured.</summary>
public interface IEmailTransport
{
    /// <summary>What the log says e-mails go to (never a password).</summary>
    string Description { get; }

    /// <summary>Delivers <paramref name="email"/>, or throws; <see cref="EmailRejectedException"/> when retrying cannot help.</summary>
    Task SendAsync(OutboxEmail email, CancellationToken ct);
}

/// <summary>The SMTP server refused the recipient for good (a 5xx to RCPT TO): the e-mail is not tried again.</summary>
public sealed class EmailRejectedException(string message, Exception inner) : Exception(message, inner);

/// <summary>The MIME message of an outbox e-mail: From, To, Subject, Date, Message-Id, and multipart/alternative text + HTML.</summary>
public static class EmailMessages
{
    public static MimeMessage Build(OutboxEmail email)
    {
        var message = new MimeMessage
        {
            Subject = email.Subject,
            Date = email.CreatedAt,
            MessageId = email.MessageId,
        };
        message.From.Add(MailboxAddress.Parse(email.From));
        message.To.Add(MailboxAddress.Parse(email.To));
        message.Body = new BodyBuilder { TextBody = email.TextBody, HtmlBody = email.HtmlBody }.ToMessageBody();
        return message;
    }
}

/// <summary>
/// Sends through the server of <c>Postern:Email:SmtpUrl</c> with MailKit: a connection per e-mail (they are few), TLS as
/// <see cref="SmtpServerUrl"/> decides, authenticated when the URL has a user.
/// </summary>
public sealed class SmtpEmailTransport(IOptions<EmailOptions> options) : IEmailTransport
{
    // Read when first used: the host builds its services before it validates the options, and a bad URL is better said by
    // the validation (EmailOptionsValidation) than by an exception from here.
    private readonly Lazy<SmtpServerUrl> _url = new(() => SmtpServerUrl.Parse(options.Value.SmtpUrl ?? ""));
    private readonly int _timeoutMilliseconds = (int)Math.Min(int.MaxValue, options.Value.SmtpTimeout.TotalMilliseconds);

    public string Description => _url.Value.Description;

    public async Task SendAsync(OutboxEmail email, CancellationToken ct)
    {
        var server = _url.Value;
        var message = EmailMessages.Build(email);
        using var client = new SmtpClient { Timeout = _timeoutMilliseconds };
        try
        {
            await client.ConnectAsync(server.Host, server.Port, server.Security, ct);
            if (server.User is not null)
                await client.AuthenticateAsync(server.User, server.Password ?? "", ct);
            await client.SendAsync(message, ct);
            await client.DisconnectAsync(quit: true, ct);
        }
        // Only the recipient's refusal is final (no such mailbox): a refused sender or content is more often the server's
        // configuration or policy, which its operator may put right while the e-mail waits.
        catch (SmtpCommandException e) when ((int)e.StatusCode >= 500 && e.ErrorCode is SmtpErrorCode.RecipientNotAccepted)
        {
            throw new EmailRejectedException(
                $"{server.Description} refused it for good: {((int)e.StatusCode).ToString(CultureInfo.InvariantCulture)} {e.Message}", e);
        }
    }
}

/// <summary>
/// Without <c>Postern:Email:SmtpUrl</c>: each e-mail is written to the log, whole, at Information (Django's console e-mail
/// backend), so a developer can follow its link. It still goes through the outbox, as a sent one would.
/// </summary>
public sealed class LogEmailTransport(ILogger<LogEmailTransport> logger) : IEmailTransport
{
    public string Description => "the log (Postern:Email:SmtpUrl is not set)";

    public Task SendAsync(OutboxEmail email, CancellationToken ct)
    {
        var message = EmailMessages.Build(email);
        // 8-bit with SMTP's longest line, so the bodies read as written: quoted-printable would break a long link across
        // lines and spell out every non-ASCII letter.
        message.Prepare(EncodingConstraint.EightBit, maxLineLength: 998);
        using var text = new MemoryStream();
        message.WriteTo(text, ct); // MimeMessage.ToString() would read the UTF-8 bytes as Latin-1
        logger.EmailWrittenToLog(email.Id, email.To, Encoding.UTF8.GetString(text.ToArray()));
        return Task.CompletedTask;
    }
}
