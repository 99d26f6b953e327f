using System.Data.Common;
using Postern.Server.Storage.Caching;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage;

/// <summary>
/// Signed-in sessions, in the <c>sessions</c> table. A live session is cached by key, its expiry checked again at every
/// hit; the writes that only a login, a touch or the sweeper make are not announced (each says why).
/// </summary>
public sealed class SessionStore(Database database) : ISessionStore
{
    private static readonly CachedQuery LiveByKey = new("live session with its user by key");

    private static ReadKey LiveSessionKey(string key) => new(LiveByKey, Text: key);

    /// <summary>Whether this instance would answer a request carrying this session key from memory.</summary>
    internal bool HoldsSession(string key) => database.Cache?.Holds(LiveSessionKey(key)) ?? false;

    /// <summary>Built once: every authenticated request that misses the session cache runs it.</summary>
    private static readonly string FindLiveSession =
        $"""
        SELECT s.{SessionColumns.Replace(", ", ", s.", StringComparison.Ordinal)},
               u.{UserColumns.Replace(", ", ", u.", StringComparison.Ordinal)}
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.session_key = @key AND s.expires_at > @now;
        """;

    /// <summary>
    /// Cached by key alone; expiry is checked against <paramref name="now"/> on every hit. Unknown keys are not cached
    /// (anyone can send many).
    /// </summary>
    public async Task<SessionWithUser?> FindLiveSessionAsync(string key, DateTimeOffset now, CancellationToken ct = default)
    {
        var found = await database.ReadCachedAsync(LiveSessionKey(key), db =>
                db.Command(FindLiveSession).With("@key", key).With("@now", Micros(now)).ReadFirstOrDefaultAsync(ReadSessionWithUser),
            ct, keepIf: static found => found is not null);
        if (found is not null && found.Session.ExpiresAt <= now)
        {
            // Expired as this instance remembers it; another instance may have moved the expiry since (sliding expiration,
            // not announced): the database has the last word.
            found = await database.ReadAsync(db =>
                db.Command(FindLiveSession).With("@key", key).With("@now", Micros(now)).ReadFirstOrDefaultAsync(ReadSessionWithUser), ct);
            if (found is not null)
                database.UpdateCached<SessionWithUser>(LiveSessionKey(key), _ => found);
        }
        return found is not null && found.Session.ExpiresAt > now ? found : null;
    }

    /// <summary>
    /// A brand-new key is not announced: no cache anywhere can hold it (unknown keys are never cached), so a login flood
    /// does not empty every instance's cache, and logins go on while Redis is away. Ending the replaced session is announced.
    /// </summary>
    public Task CreateSessionAsync(SessionRecord session, string? replacedKey, CancellationToken ct = default)
    {
        Func<DbConnection, Task> write = async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            if (replacedKey is not null)
            {
                await db.Command("DELETE FROM sessions WHERE session_key = @replacedKey;", tx)
                    .With("@replacedKey", replacedKey).ExecuteAsync();
            }
            try
            {
                await db.Command(
                        """
                        INSERT INTO sessions (session_key, user_id, auth_hash, created_at, last_seen_at, expires_at, user_agent)
                        VALUES (@Key, @UserId, @AuthHash, @created, @seen, @expires, @UserAgent);
                        """, tx)
                    .With("@Key", session.Key).With("@UserId", session.UserId).With("@AuthHash", session.AuthHash)
                    .With("@UserAgent", session.UserAgent).With("@created", Micros(session.CreatedAt))
                    .With("@seen", Micros(session.LastSeenAt)).With("@expires", Micros(session.ExpiresAt))
                    .ExecuteAsync();
            }
            catch (DbException e) when (database.IsForeignKeyViolation(e))
            {
                throw new MissingReferenceException(e);
            }
            await tx.CommitAsync(ct);
        };
        return replacedKey is null ? database.WriteWithoutAnnouncingAsync(write, ct) : database.WriteAsync(write, ct);
    }

    public Task DeleteSessionAsync(string key, CancellationToken ct = default) =>
        database.WriteAsync(db => db.Command("DELETE FROM sessions WHERE session_key = @key;").With("@key", key).ExecuteAsync(), ct);

    /// <summary>
    /// Only when the session was last seen: nothing another instance caches depends on it, so it is not announced
    /// (a busy site would otherwise empty every cache many times a second). This instance's copy is updated so it
    /// does not touch again at once.
    /// </summary>
    public async Task TouchSessionAsync(string key, DateTimeOffset lastSeenAt, DateTimeOffset? expiresAt = null,
        CancellationToken ct = default)
    {
        await database.WriteWithoutAnnouncingAsync(db =>
            db.Command("UPDATE sessions SET last_seen_at = @seen, expires_at = COALESCE(@expires, expires_at) WHERE session_key = @key;")
                .With("@key", key).With("@seen", Micros(lastSeenAt)).With("@expires", expiresAt is { } at ? Micros(at) : null)
                .ExecuteAsync(), ct);
        database.UpdateCached<SessionWithUser>(LiveSessionKey(key),
            found => found with { Session = found.Session with { LastSeenAt = lastSeenAt, ExpiresAt = expiresAt ?? found.Session.ExpiresAt } });
    }

    /// <summary>Not cached: shown rarely, and its last-seen times would lag.</summary>
    public Task<IReadOnlyList<SessionRecord>> ListLiveSessionsOfUserAsync(long userId, DateTimeOffset now,
        CancellationToken ct = default) =>
        database.ReadAsync(async db => (IReadOnlyList<SessionRecord>)await db.Command(
                    $"""
                    SELECT {SessionColumns} FROM sessions WHERE user_id = @userId AND expires_at > @now
                    ORDER BY created_at, session_key;
                    """)
                .With("@userId", userId).With("@now", Micros(now)).ReadAllAsync(ReadSession), ct);

    /// <summary>
    /// A null <c>@exceptKey</c> keeps none: <c>IS DISTINCT FROM</c> is true for every key then, where <c>&lt;&gt;</c> would be null.
    /// </summary>
    internal static DbCommand DeleteSessionsOfUserExcept(DbConnection db, DbTransaction? tx, long userId, string? exceptKey) =>
        db.Command("DELETE FROM sessions WHERE user_id = @userId AND session_key IS DISTINCT FROM @exceptKey;", tx)
            .With("@userId", userId).With("@exceptKey", exceptKey);

    public Task<int> DeleteSessionsOfUserAsync(long userId, string? exceptKey, CancellationToken ct = default) =>
        database.WriteAsync(db => DeleteSessionsOfUserExcept(db, null, userId, exceptKey).ExecuteAsync(), ct);

    /// <summary>
    /// Once the user has more than <paramref name="beyond"/> sessions, ends the oldest but the newest <paramref name="keep"/>.
    /// Counted first (an index read), so the usual login writes nothing more; a deletion is announced, as other instances
    /// may hold those sessions.
    /// </summary>
    public async Task<int> EndOldestSessionsOfUserAsync(long userId, int keep, int beyond, CancellationToken ct = default)
    {
        var count = await database.ReadAsync(db => db.Command("SELECT COUNT(*) FROM sessions WHERE user_id = @userId;")
            .With("@userId", userId).ReadInt64Async(), ct);
        if (count <= beyond)
            return 0;
        // The oldest kept session's creation time bounds the deletion; LIMIT 1 OFFSET n reads alike on both databases.
        return await database.WriteAsync(db => db.Command(
                """
                DELETE FROM sessions WHERE user_id = @userId AND created_at < (
                    SELECT created_at FROM sessions WHERE user_id = @userId ORDER BY created_at DESC, session_key LIMIT 1 OFFSET @offset);
                """)
            .With("@userId", userId).With("@offset", (long)keep - 1).ExecuteAsync(), ct);
    }

    /// <summary>Not announced: a cached session's expiry is checked at every hit, so no cached read depends on expired rows.</summary>
    public Task<int> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct = default) =>
        database.WriteWithoutAnnouncingAsync(db =>
            db.Command("DELETE FROM sessions WHERE expires_at <= @now;").With("@now", Micros(now)).ExecuteAsync(), ct);
}
