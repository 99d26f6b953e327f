using System.Data.Common;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Sessions;
using Postern.Server.Storage;
using Postern.Server.Storage.Caching;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Django;

/// <summary>
/// Sessions beside a Django project: Django's own <c>django_session</c> rows, byte for byte what Django writes
/// (<c>session_data</c> signed with the project's SECRET_KEY, <see cref="DjangoSessionData"/>), so that a session opened on
/// either side is signed in on the other, and a logout or a password change on either side ends it on both. What Django does
/// not keep (when a session was opened and last used, its user agent) is in <c>postern_sessions</c>, a row per session Postern
/// opened or has seen; the row in <c>django_session</c> alone decides whether a session lives.
/// </summary>
/// <remarks>
/// A session is the user's while its auth hash is the user's password's under the key or a fallback (Django 3.2's SHA-1
/// form too), as Django's <c>get_user</c> checks; one that no longer matches comes back with the hash it holds, and
/// <see cref="SessionManager"/> ends it, as Django flushes it. Statements name Postern's tables (<c>sessions</c>, <c>users</c>),
/// which <see cref="Storage.Schema.TableNames"/> turns into <c>postern_sessions</c> and Django's user table.
/// </remarks>
public sealed class DjangoSessionStore(Database database, SecretKeyRing keys, SessionAuthHash authHash, IOptions<SecretOptions> secrets,
    TimeProvider time) : ISessionStore
{
    private static readonly CachedQuery LiveByKey = new("live Django session with its user by key");

    private static ReadKey LiveSessionKey(string key) => new(LiveByKey, Text: key);

    private readonly string[] _secretKeys =
        [secrets.Value.SecretKey ?? "", .. secrets.Value.SecretKeyFallbacks.Where(k => !string.IsNullOrEmpty(k))];

    private bool Postgres => database.IsPostgres;

    /// <summary>A Django session row and what Postern knows of it besides.</summary>
    private sealed record DjangoRow(string Data, DateTimeOffset ExpireDate, DateTimeOffset? CreatedAt, DateTimeOffset? LastSeenAt,
        string? UserAgent);

    public async Task<SessionWithUser?> FindLiveSessionAsync(string key, DateTimeOffset now, CancellationToken ct = default)
    {
        var found = await database.ReadCachedAsync(LiveSessionKey(key), db => ReadLiveAsync(db, key, now), ct,
            keepIf: static found => found is not null);
        if (found is not null && found.Session.ExpiresAt <= now)
        {
            // Expired as this instance remembers it; the expiry may have moved since: the database has the last word.
            found = await database.ReadAsync(db => ReadLiveAsync(db, key, now), ct);
            if (found is not null)
                database.UpdateCached<SessionWithUser>(LiveSessionKey(key), _ => found);
        }
        return found is not null && found.Session.ExpiresAt > now ? found : null;
    }

    private async Task<SessionWithUser?> ReadLiveAsync(DbConnection db, string key, DateTimeOffset now)
    {
        var row = await db.Command(
                """
                SELECT d.session_data, d.expire_date, m.created_at, m.last_seen_at, m.user_agent
                FROM django_session d LEFT JOIN sessions m ON m.session_key = d.session_key
                WHERE d.session_key = @key AND d.expire_date > @now;
                """)
            .With("@key", key).WithDjangoTime("@now", now, Postgres)
            .ReadFirstOrDefaultAsync(static row => new DjangoRow(row.GetString(0), ReadDjangoTime(row.GetValue(1)),
                row.IsDBNull(2) ? null : FromMicros(row.GetInt64(2)), row.IsDBNull(3) ? null : FromMicros(row.GetInt64(3)),
                row.IsDBNull(4) ? null : row.GetString(4)));
        // A bad signature is no session, as Django treats it; so is an anonymous one.
        if (row is null || DjangoSessionData.Decode(keys.Signer, row.Data, now) is not { } data
            || DjangoSessionData.SignedInUser(data) is not { } signedIn)
            return null;
        var user = await db.Command($"SELECT {UserColumns} FROM users WHERE id = @id;").With("@id", signedIn.UserId)
            .ReadFirstOrDefaultAsync(ReadUser);
        if (user is null)
            return null;
        // Postern's own check (SessionManager) knows the current key's SHA-256 form only: a hash Django accepts (a fallback
        // key's, Django 3.2's SHA-1 one) is shown as that form; any other is shown as it is, and ends the session there.
        var hash = DjangoSessionData.HashMatches(signedIn.AuthHash, user.Password, _secretKeys)
            ? authHash.For(user.Password)
            : signedIn.AuthHash;
        // A session Django opened and Postern has not seen yet: last seen never, so the first request records it.
        var session = new SessionRecord(key, user.Id, hash, row.CreatedAt ?? DateTimeOffset.UnixEpoch,
            row.LastSeenAt ?? DateTimeOffset.UnixEpoch, row.ExpireDate, row.UserAgent);
        return new SessionWithUser(session, user);
    }

    /// <summary>Not announced when it replaces nothing: no cache anywhere can hold a brand-new key (as in SessionStore).</summary>
    public Task CreateSessionAsync(SessionRecord session, string? replacedKey, CancellationToken ct = default)
    {
        var data = DjangoSessionData.Encode(keys.Signer, DjangoSessionData.ForLogin(session.UserId, session.AuthHash), time.GetUtcNow());
        Func<DbConnection, Task> write = async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            if (replacedKey is not null)
                await DeleteAsync(db, tx, replacedKey);
            try
            {
                await db.Command("INSERT INTO django_session (session_key, session_data, expire_date) VALUES (@Key, @data, @expires);", tx)
                    .With("@Key", session.Key).With("@data", data).WithDjangoTime("@expires", session.ExpiresAt, Postgres).ExecuteAsync();
                await InsertMetadata(db, tx, session).ExecuteAsync();
            }
            catch (DbException e) when (database.IsForeignKeyViolation(e))
            {
                throw new MissingReferenceException(e);
            }
            await tx.CommitAsync(ct);
        };
        return replacedKey is null ? database.WriteWithoutAnnouncingAsync(write, ct) : database.WriteAsync(write, ct);
    }

    private static DbCommand InsertMetadata(DbConnection db, DbTransaction? tx, SessionRecord session) =>
        db.Command(
                """
                INSERT INTO sessions (session_key, user_id, auth_hash, created_at, last_seen_at, expires_at, user_agent)
                VALUES (@Key, @UserId, @AuthHash, @created, @seen, @expires, @UserAgent) ON CONFLICT (session_key) DO NOTHING;
                """, tx)
            .With("@Key", session.Key).With("@UserId", session.UserId).With("@AuthHash", session.AuthHash)
            .With("@UserAgent", session.UserAgent).With("@created", Micros(session.CreatedAt))
            .With("@seen", Micros(session.LastSeenAt)).With("@expires", Micros(session.ExpiresAt));

    private static async Task DeleteAsync(DbConnection db, DbTransaction? tx, string key)
    {
        await db.Command("DELETE FROM django_session WHERE session_key = @key;", tx).With("@key", key).ExecuteAsync();
        await db.Command("DELETE FROM sessions WHERE session_key = @key;", tx).With("@key", key).ExecuteAsync();
    }

    public Task DeleteSessionAsync(string key, CancellationToken ct = default) => database.WriteAsync(async db =>
    {
        await using var tx = await database.BeginWriteAsync(db, ct);
        await DeleteAsync(db, tx, key);
        await tx.CommitAsync(ct);
    }, ct);

    /// <summary>
    /// Not announced, as in SessionStore. A session Django opened gets its row in <c>postern_sessions</c> here, at its first
    /// request on Postern, so that it is listed and ended with the user's others.
    /// </summary>
    public async Task TouchSessionAsync(string key, DateTimeOffset lastSeenAt, DateTimeOffset? expiresAt = null, CancellationToken ct = default)
    {
        DateTimeOffset? firstSeen = null;
        await database.WriteWithoutAnnouncingAsync(async db =>
        {
            var touched = await db.Command(
                    "UPDATE sessions SET last_seen_at = @seen, expires_at = COALESCE(@expires, expires_at) WHERE session_key = @key;")
                .With("@key", key).With("@seen", Micros(lastSeenAt)).With("@expires", expiresAt is { } at ? Micros(at) : null)
                .ExecuteAsync();
            if (expiresAt is { } slid)
            {
                await db.Command("UPDATE django_session SET expire_date = @expires WHERE session_key = @key;")
                    .With("@key", key).WithDjangoTime("@expires", slid, Postgres).ExecuteAsync();
            }
            if (touched == 0 && await ReadLiveAsync(db, key, lastSeenAt) is { } found)
            {
                firstSeen = lastSeenAt;
                await InsertMetadata(db, null, found.Session with
                {
                    CreatedAt = lastSeenAt,
                    LastSeenAt = lastSeenAt,
                    ExpiresAt = expiresAt ?? found.Session.ExpiresAt,
                }).ExecuteAsync();
            }
        }, ct);
        database.UpdateCached<SessionWithUser>(LiveSessionKey(key), found => found with
        {
            Session = found.Session with
            {
                CreatedAt = firstSeen ?? found.Session.CreatedAt,
                LastSeenAt = lastSeenAt,
                ExpiresAt = expiresAt ?? found.Session.ExpiresAt,
            },
        });
    }

    /// <summary>The sessions Postern opened or has seen (Django keeps no index of sessions by user).</summary>
    public Task<IReadOnlyList<SessionRecord>> ListLiveSessionsOfUserAsync(long userId, DateTimeOffset now, CancellationToken ct = default) =>
        database.ReadAsync(async db => (IReadOnlyList<SessionRecord>)await db.Command(
                    $"""
                    SELECT m.{SessionColumns.Replace(", ", ", m.", StringComparison.Ordinal)}
                    FROM sessions m JOIN django_session d ON d.session_key = m.session_key
                    WHERE m.user_id = @userId AND d.expire_date > @now
                    ORDER BY m.created_at, m.session_key;
                    """)
                .With("@userId", userId).WithDjangoTime("@now", now, Postgres).ReadAllAsync(ReadSession), ct);

    public async Task<int> EndOldestSessionsOfUserAsync(long userId, int keep, int beyond, CancellationToken ct = default)
    {
        var count = await database.ReadAsync(db => db.Command("SELECT COUNT(*) FROM sessions WHERE user_id = @userId;")
            .With("@userId", userId).ReadInt64Async(), ct);
        if (count <= beyond)
            return 0;
        return await database.WriteAsync(async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            var oldest = (await db.Command(
                        "SELECT session_key FROM sessions WHERE user_id = @userId ORDER BY created_at DESC, session_key;", tx)
                    .With("@userId", userId).ReadAllAsync(static row => row.GetString(0)))
                .Skip(keep).ToList();
            foreach (var key in oldest)
                await DeleteAsync(db, tx, key);
            await tx.CommitAsync(ct);
            return oldest.Count;
        }, ct);
    }

    /// <summary>
    /// Every live session of the user, those Django opened included: Django keeps no index of sessions by user, so each live
    /// row is read and its signed data decoded, as Django itself would have to. Rare (an operator ending a user's sessions).
    /// </summary>
    public Task<int> DeleteSessionsOfUserAsync(long userId, string? exceptKey, CancellationToken ct = default) =>
        database.WriteAsync(async db =>
        {
            var now = time.GetUtcNow();
            await using var tx = await database.BeginWriteAsync(db, ct);
            var rows = await db.Command("SELECT session_key, session_data FROM django_session WHERE expire_date > @now;", tx)
                .WithDjangoTime("@now", now, Postgres).ReadAllAsync(static row => (Key: row.GetString(0), Data: row.GetString(1)));
            var ended = 0;
            foreach (var (key, data) in rows)
            {
                if (key == exceptKey || DjangoSessionData.Decode(keys.Signer, data, now) is not { } decoded
                    || DjangoSessionData.SignedInUser(decoded)?.UserId != userId)
                    continue;
                await DeleteAsync(db, tx, key);
                ended++;
            }
            await tx.CommitAsync(ct);
            return ended;
        }, ct);

    /// <summary>As Django's clearsessions, and the rows of Postern's that no live Django session is behind any more. Not announced.</summary>
    public Task<int> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct = default) =>
        database.WriteWithoutAnnouncingAsync(async db =>
        {
            var ended = await db.Command("DELETE FROM django_session WHERE expire_date <= @now;").WithDjangoTime("@now", now, Postgres)
                .ExecuteAsync();
            await db.Command(
                    """
                    DELETE FROM sessions WHERE NOT EXISTS (
                        SELECT 1 FROM django_session d WHERE d.session_key = sessions.session_key AND d.expire_date > @now);
                    """)
                .WithDjangoTime("@now", now, Postgres).ExecuteAsync();
            return ended;
        }, ct);

    /// <summary>
    /// Re-ties the user's sessions that <c>postern_sessions</c> shows under <paramref name="authHash"/> in Django's signed data
    /// too, in the caller's transaction: Django's <c>update_session_auth_hash</c>, for a password change that keeps the session
    /// that asked for it, or a password re-hashed at login.
    /// </summary>
    internal async Task ResignAsync(DbConnection db, DbTransaction tx, long userId, string authHash)
    {
        var now = time.GetUtcNow();
        var sessions = await db.Command(
                """
                SELECT d.session_key, d.session_data FROM django_session d JOIN sessions m ON m.session_key = d.session_key
                WHERE m.user_id = @userId AND m.auth_hash = @authHash;
                """, tx)
            .With("@userId", userId).With("@authHash", authHash)
            .ReadAllAsync(static row => (Key: row.GetString(0), Data: row.GetString(1)));
        foreach (var (key, data) in sessions)
        {
            if (DjangoSessionData.Decode(keys.Signer, data, now) is not JsonObject decoded)
                continue;
            decoded[DjangoSessionData.HashKey] = authHash;
            await db.Command("UPDATE django_session SET session_data = @data WHERE session_key = @key;", tx)
                .With("@key", key).With("@data", DjangoSessionData.Encode(keys.Signer, decoded, now)).ExecuteAsync();
        }
    }
}
