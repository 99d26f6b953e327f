using System.Data.Common;
using Postern.Server.Storage;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Email;

/// <summary>An e-mail as it waits in the outbox, complete: the worker sends exactly this, whichever instance it runs in.</summary>
/// <param name="MessageId">Its Message-Id, made once when enqueued, so every attempt at it carries the same one.</param>
/// <param name="Attempts">Claims so far, this one included; also the claim's fence (see <see cref="EmailOutboxStore"/>).</param>
public sealed record OutboxEmail(
    long Id, string From, string To, string Subject, string TextBody, string? HtmlBody, string MessageId, DateTimeOffset CreatedAt,
    int Attempts);

/// <summary>
/// The <c>email_outbox</c> table. An instance claims a due row by moving its <c>next_attempt_at</c> to the end of a lease
/// and counting the attempt, in one statement that picks and updates the row so that no two instances claim it at once
/// (SQLite: one writer at a time; PostgreSQL: <c>FOR UPDATE SKIP LOCKED</c>, and the outer WHERE checked again after any
/// wait). A claimer that dies leaves the row to come due again when its lease ends. What follows a send (delete, retry
/// later, give up) only applies while the attempt count is still the one claimed: a claimer whose lease ran out and
/// was taken over changes nothing.
/// </summary>
/// <remarks>
/// Written without announcing: no cached read depends on this table. On SQLite every such commit still moves
/// data_version and so empties the instances' read caches, which e-mails are too rare to make a cost.
/// </remarks>
public sealed class EmailOutboxStore(Database database)
{
    private const string Columns =
        "id, from_address, to_address, subject, text_body, html_body, message_id, created_at, attempts";

    private const string Due = "failed_at IS NULL AND next_attempt_at <= @now";

    /// <summary>Longer errors are cut: the column tells an operator why, the log has the rest.</summary>
    public const int MaxErrorLength = 2000;

    /// <summary>Adds an e-mail, due at once; returns its id.</summary>
    public Task<long> AddAsync(string from, OutgoingEmail email, string messageId, DateTimeOffset now, CancellationToken ct = default) =>
        database.WriteWithoutAnnouncingAsync(db => db.Command(
                """
                INSERT INTO email_outbox (from_address, to_address, subject, text_body, html_body, message_id, created_at, attempts,
                                          next_attempt_at)
                VALUES (@from, @to, @subject, @text, @html, @message_id, @now, 0, @now)
                RETURNING id;
                """)
            .With("@from", from).With("@to", email.To).With("@subject", email.Subject).With("@text", email.TextBody)
            .With("@html", email.HtmlBody).With("@message_id", messageId).With("@now", Micros(now))
            .ReadInt64Async(), ct);

    /// <summary>
    /// The next due e-mail, claimed by this instance until <paramref name="now"/> + <paramref name="lease"/>; null if none is
    /// due. Looks before it writes, so an idle poll takes no write lock.
    /// </summary>
    public async Task<OutboxEmail?> ClaimNextAsync(DateTimeOffset now, TimeSpan lease, CancellationToken ct = default)
    {
        var due = await database.ReadAsync(db => db.Command($"SELECT id FROM email_outbox WHERE {Due} LIMIT 1;")
            .With("@now", Micros(now)).ReadInt64Async(), ct);
        if (due == 0)
            return null;
        return await database.WriteWithoutAnnouncingAsync(async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            var claimed = await db.Command(
                    $"""
                    UPDATE email_outbox SET attempts = attempts + 1, next_attempt_at = @lease_end
                    WHERE id = (SELECT id FROM email_outbox WHERE {Due}
                                ORDER BY next_attempt_at, id LIMIT 1{database.SkipLockedRows})
                      AND {Due}
                    RETURNING {Columns};
                    """, tx)
                .With("@now", Micros(now)).With("@lease_end", Micros(now + lease))
                .ReadFirstOrDefaultAsync(ReadEmail);
            await tx.CommitAsync(ct);
            return claimed;
        }, ct);
    }

    /// <summary>Sent: the row goes. False if the claim had been taken over meanwhile (its lease ran out).</summary>
    public Task<bool> DeleteSentAsync(OutboxEmail email, CancellationToken ct = default) =>
        WhileClaimedAsync(email, "DELETE FROM email_outbox", db => db, ct);

    /// <summary>Failed this time: due again at <paramref name="at"/>.</summary>
    public Task<bool> RetryLaterAsync(OutboxEmail email, DateTimeOffset at, string error, CancellationToken ct = default) =>
        WhileClaimedAsync(email, "UPDATE email_outbox SET next_attempt_at = @at, last_error = @error",
            command => command.With("@at", Micros(at)).With("@error", Cut(error)), ct);

    /// <summary>Given up: the row stays, marked failed, and is never claimed again.</summary>
    public Task<bool> MarkFailedAsync(OutboxEmail email, DateTimeOffset now, string error, CancellationToken ct = default) =>
        WhileClaimedAsync(email, "UPDATE email_outbox SET failed_at = @now, last_error = @error",
            command => command.With("@now", Micros(now)).With("@error", Cut(error)), ct);

    /// <summary>Not attempted after all (the instance is stopping): due again at once, for any instance.</summary>
    public Task<bool> ReleaseAsync(OutboxEmail email, DateTimeOffset now, CancellationToken ct = default) =>
        WhileClaimedAsync(email, "UPDATE email_outbox SET next_attempt_at = @now",
            command => command.With("@now", Micros(now)), ct);

    private Task<bool> WhileClaimedAsync(OutboxEmail email, string change, Func<DbCommand, DbCommand> bind, CancellationToken ct) =>
        database.WriteWithoutAnnouncingAsync(async db =>
            await bind(db.Command($"{change} WHERE id = @id AND attempts = @attempts AND failed_at IS NULL;"))
                .With("@id", email.Id).With("@attempts", email.Attempts).ExecuteAsync() > 0, ct);

    private static string Cut(string error) => error.Length <= MaxErrorLength ? error : error[..MaxErrorLength];

    private static OutboxEmail ReadEmail(DbDataReader row) => new(
        row.GetInt64(0),
        row.GetString(1),
        row.GetString(2),
        row.GetString(3),
        row.GetString(4),
        row.IsDBNull(5) ? null : row.GetString(5),
        row.GetString(6),
        FromMicros(row.GetInt64(7)),
        checked((int)row.GetInt64(8)));
}
