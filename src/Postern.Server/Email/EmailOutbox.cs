using System.Threading.Channels;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;

namespace Postern.Server.Email;

/// <summary>An e-mail to send: one recipient, a subject, a plain-text body and, usually, an HTML one.</summary>
public sealed record OutgoingEmail(string To, string Subject, string TextBody, string? HtmlBody = null);

/// <summary>
/// Where the rest of Postern hands over an e-mail: <see cref="EnqueueAsync(OutgoingEmail, CancellationToken)"/> writes it to
/// the outbox table and returns; <see cref="EmailOutboxWorker"/> sends it, in this instance or another, retrying while the
/// SMTP server is away. So a request never waits for, nor fails because of, the SMTP server; only the database, whose
/// outage is a 503 as for any write.
/// </summary>
/// <example>
/// <code>
/// await outbox.EnqueueAsync(EmailTemplate.PasswordReset, user.Email, new Dictionary&lt;string, string&gt;
/// {
///     ["username"] = user.Username, ["reset_url"] = link, ["site_name"] = siteName,
/// }, ct);
/// </code>
/// </example>
public sealed class EmailOutbox(
    EmailOutboxStore store, EmailTemplates templates, EmailOutboxSignal signal, IOptions<EmailOptions> options, TimeProvider time)
{
    /// <summary>
    /// Puts <paramref name="email"/> in the outbox, from <c>Postern:Email:From</c>, and wakes this instance's worker; returns
    /// its id in the outbox.
    /// </summary>
    /// <exception cref="ArgumentException">The recipient is not one e-mail address.</exception>
    /// <exception cref="Storage.StoreUnavailableException">The database cannot take it now.</exception>
    public async Task<long> EnqueueAsync(OutgoingEmail email, CancellationToken ct = default)
    {
        if (!MailboxAddress.TryParse(email.To, out var to) || to.LocalPart.Length == 0 || to.Domain.Length == 0)
            throw new ArgumentException($"Not an e-mail address: '{email.To}'.", nameof(email));
        var from = options.Value.From;
        // A header is one line: a line break in a subject would end it and start a header of the sender's choosing.
        var subject = email.Subject.ReplaceLineEndings(" ").Trim();
        var id = await store.AddAsync(from, email with { Subject = subject }, NewMessageId(from), time.GetUtcNow(), ct);
        signal.Notify();
        return id;
    }

    /// <summary>
    /// <paramref name="template"/> filled in with <paramref name="values"/> (its <see cref="EmailTemplate.Values"/>; <c>email</c>
    /// defaults to <paramref name="to"/>), put in the outbox for <paramref name="to"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A value the template takes is missing, or the recipient is not an e-mail address.</exception>
    public Task<long> EnqueueAsync(
        EmailTemplate template, string to, IReadOnlyDictionary<string, string> values, CancellationToken ct = default)
    {
        var filled = new Dictionary<string, string>(values);
        filled.TryAdd("email", to);
        var rendered = templates.Render(template, filled);
        return EnqueueAsync(new OutgoingEmail(to, rendered.Subject, rendered.TextBody, rendered.HtmlBody), ct);
    }

    /// <summary>Unique, at the sender's domain, as Django's make_msgid makes them.</summary>
    private static string NewMessageId(string from) =>
        MimeUtils.GenerateMessageId(
            MailboxAddress.TryParse(from, out var sender) && sender.Domain.Length > 0 ? sender.Domain : "localhost");
}

/// <summary>
/// Wakes this instance's <see cref="EmailOutboxWorker"/> when an e-mail is enqueued here. Signals while it is busy fold into
/// one: it looks at the whole outbox each time it wakes.
/// </summary>
public sealed class EmailOutboxSignal
{
    private readonly Channel<bool> _wakeUps = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
    });

    public void Notify() => _wakeUps.Writer.TryWrite(true);

    /// <summary>Returns when notified or after <paramref name="timeout"/>, whichever comes first.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled.</exception>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        using var poll = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(poll.Token, ct);
        try
        {
            await _wakeUps.Reader.WaitToReadAsync(either.Token);
            _wakeUps.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // the poll interval passed
        }
    }
}
