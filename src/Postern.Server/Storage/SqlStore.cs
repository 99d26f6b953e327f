using System.Data.Common;
using Dapper;
using Postern.Server.Storage.Postgres;
using Postern.Server.Storage.Sqlite;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage;

/// <summary>
/// What the SQLite and PostgreSQL stores share: the same tables and columns, and every statement below, each
/// valid in both dialects (SQLite since 3.39 understands <c>IS DISTINCT FROM</c> and <c>ON CONFLICT DO NOTHING</c>).
/// A store supplies only what differs: how a connection opens and which of its errors mean an outage, how a
/// write transaction begins, what a violated constraint looks like, how a list parameter is matched, and the schema.
/// </summary>
public abstract class SqlStore : IUserStore, IGroupStore, ISessionStore, IStoreAdministration, IAsyncDisposable, IDisposable
{
    /// <summary>The store <c>--db</c> names: a <c>postgres://</c> URL selects PostgreSQL, anything else is a SQLite path.</summary>
    public static SqlStore Open(string database) =>
        PostgresDatabaseUrl.IsPostgres(database) ? new PostgresStore(database) : new SqliteStore(database);

    // ---- the dialect seam

    /// <summary>An open connection, pooled or not as the store decides.</summary>
    protected abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>The 503 for an error that means the database cannot serve now; null for any other error (a bug, a constraint).</summary>
    protected abstract StoreUnavailableException? AsUnavailable(Exception e);

    /// <summary>A transaction for a write; by default the provider's plain BEGIN.</summary>
    protected virtual async Task<DbTransaction> BeginWriteAsync(DbConnection db, CancellationToken ct) => await db.BeginTransactionAsync(ct);

    /// <summary>Whether <paramref name="e"/> is a unique (or primary key) constraint that a write ran into.</summary>
    protected abstract bool IsUniqueViolation(DbException e);

    /// <summary>Whether <paramref name="e"/> is a foreign key that a write ran into: the row it refers to is gone.</summary>
    protected abstract bool IsForeignKeyViolation(DbException e);

    /// <summary>A condition true when <paramref name="column"/> is one of the values of the array parameter <paramref name="parameter"/>.</summary>
    protected abstract string IsOneOf(string column, string parameter);

    public abstract Task MigrateAsync(CancellationToken ct = default);

    public abstract Task PingAsync(CancellationToken ct = default);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Also synchronous: a service provider disposed with Dispose() refuses services that are only IAsyncDisposable.</summary>
    public virtual void Dispose() => GC.SuppressFinalize(this);

    // ---- administration

    /// <summary>Applies the migrations a database has not seen yet, in <paramref name="tx"/>, recording each in <c>schema_version</c>.</summary>
    protected static async Task ApplyMigrationsAsync(DbConnection db, DbTransaction tx, IReadOnlyList<string> migrations)
    {
        await db.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);", transaction: tx);
        var version = await db.ExecuteScalarAsync<int?>("SELECT MAX(version) FROM schema_version;", transaction: tx) ?? 0;
        for (var i = version; i < migrations.Count; i++)
        {
            await db.ExecuteAsync(migrations[i], transaction: tx);
            await db.ExecuteAsync("INSERT INTO schema_version (version) VALUES (@v);", new { v = i + 1 }, tx);
        }
    }

    public Task<string> GetOrCreateSettingAsync(string name, Func<string> create, CancellationToken ct = default) => RunAsync(async db =>
    {
        await db.ExecuteAsync("INSERT INTO settings (name, value) VALUES (@name, @value) ON CONFLICT DO NOTHING;", new { name, value = create() });
        return await db.ExecuteScalarAsync<string>("SELECT value FROM settings WHERE name = @name;", new { name }) ?? "";
    }, ct);

    // ---- users

    private const string UserColumns = "id, username, email, password, is_active, is_staff, is_superuser, date_joined, last_login";

    public Task<User?> FindUserByUsernameAsync(string username, CancellationToken ct = default) => RunAsync(async db =>
        (await db.QuerySingleOrDefaultAsync<UserRow>($"SELECT {UserColumns} FROM users WHERE username = @username;", new { username }))?.ToUser(), ct);

    public Task<User?> FindUserByIdAsync(long id, CancellationToken ct = default) => RunAsync(async db =>
        (await db.QuerySingleOrDefaultAsync<UserRow>($"SELECT {UserColumns} FROM users WHERE id = @id;", new { id }))?.ToUser(), ct);

    public Task<long> CountUsersAsync(CancellationToken ct = default) =>
        RunAsync(db => db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM users;"), ct);

    public Task<User> CreateUserAsync(NewUser user, CancellationToken ct = default) => RunAsync(async db =>
    {
        var now = Micros(DateTimeOffset.UtcNow);
        try
        {
            await using var tx = await BeginWriteAsync(db, ct);
            var id = await db.ExecuteScalarAsync<long>(
                """
                INSERT INTO users (username, email, password, is_active, is_staff, is_superuser, date_joined)
                VALUES (@Username, @Email, @Password, @IsActive, @IsStaff, @IsSuperuser, @now) RETURNING id;
                """,
                new { user.Username, user.Email, user.Password, user.IsActive, user.IsStaff, user.IsSuperuser, now }, tx);
            await ReplaceMembershipsAsync(db, tx, id, user.GroupIds);
            await tx.CommitAsync(ct);
            return new User(id, user.Username, user.Email, user.Password, user.IsActive, user.IsStaff, user.IsSuperuser, FromMicros(now), null);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new DuplicateUsernameException(user.Username);
        }
        catch (DbException e) when (IsForeignKeyViolation(e))
        {
            throw new MissingReferenceException(e);
        }
    }, ct);

    public Task<IReadOnlyList<UserWithGroups>> ListUsersAsync(int offset, int limit, CancellationToken ct = default) => RunAsync(async db =>
    {
        var users = (await db.QueryAsync<UserRow>($"SELECT {UserColumns} FROM users ORDER BY id LIMIT @limit OFFSET @offset;", new { limit, offset })).ToList();
        if (users.Count == 0)
            return (IReadOnlyList<UserWithGroups>)[];
        var memberships = (await db.QueryAsync<(long UserId, long GroupId)>(
            "SELECT user_id, group_id FROM user_groups WHERE user_id >= @first AND user_id <= @last ORDER BY group_id;",
            new { first = users[0].id, last = users[^1].id })).ToLookup(m => m.UserId, m => m.GroupId);
        return users.Select(u => new UserWithGroups(u.ToUser(), memberships[u.id].ToList())).ToList();
    }, ct);

    public Task<UserWithGroups?> FindUserWithGroupsAsync(long id, CancellationToken ct = default) =>
        RunAsync(db => FindUserWithGroupsAsync(db, null, id), ct);

    private static async Task<UserWithGroups?> FindUserWithGroupsAsync(DbConnection db, DbTransaction? tx, long id)
    {
        var user = await db.QuerySingleOrDefaultAsync<UserRow>($"SELECT {UserColumns} FROM users WHERE id = @id;", new { id }, tx);
        if (user is null)
            return null;
        var groups = await db.QueryAsync<long>("SELECT group_id FROM user_groups WHERE user_id = @id ORDER BY group_id;", new { id }, tx);
        return new UserWithGroups(user.ToUser(), groups.ToList());
    }

    public Task<UserWithGroups?> UpdateUserAsync(long id, UserChanges changes, CancellationToken ct = default) => RunAsync(async db =>
    {
        await using var tx = await BeginWriteAsync(db, ct);
        try
        {
            var found = await db.ExecuteAsync(
                "UPDATE users SET username = COALESCE(@Username, username), email = COALESCE(@Email, email) WHERE id = @id;",
                new { id, changes.Username, changes.Email }, tx);
            if (found == 0)
                return null;
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new DuplicateUsernameException(changes.Username ?? "");
        }
        if (changes.GroupIds is not null)
        {
            await db.ExecuteAsync("DELETE FROM user_groups WHERE user_id = @id;", new { id }, tx);
            try
            {
                await ReplaceMembershipsAsync(db, tx, id, changes.GroupIds);
            }
            catch (DbException e) when (IsForeignKeyViolation(e))
            {
                throw new MissingReferenceException(e);
            }
        }
        var updated = await FindUserWithGroupsAsync(db, tx, id);
        await tx.CommitAsync(ct);
        return updated;
    }, ct);

    private const string AddMembership = "INSERT INTO user_groups (user_id, group_id) VALUES (@userId, @groupId) ON CONFLICT DO NOTHING;";

    private static async Task ReplaceMembershipsAsync(DbConnection db, DbTransaction tx, long userId, IReadOnlyList<long> groupIds)
    {
        foreach (var groupId in groupIds.Distinct())
            await db.ExecuteAsync(AddMembership, new { userId, groupId }, tx);
    }

    public Task SetPasswordAsync(long userId, string encodedPassword, KeptSession? kept = null, CancellationToken ct = default) => RunAsync(async db =>
    {
        await using var tx = await BeginWriteAsync(db, ct);
        await db.ExecuteAsync("UPDATE users SET password = @encodedPassword WHERE id = @userId;", new { userId, encodedPassword }, tx);
        await db.ExecuteAsync(DeleteSessionsOfUserExcept, new { userId, exceptKey = kept?.Key }, tx);
        if (kept is not null)
            await db.ExecuteAsync("UPDATE sessions SET auth_hash = @AuthHash WHERE session_key = @Key AND user_id = @userId;", new { userId, kept.Key, kept.AuthHash }, tx);
        await tx.CommitAsync(ct);
        return 0;
    }, ct);

    public Task SetActiveAsync(long userId, bool isActive, CancellationToken ct = default) => RunAsync(async db =>
    {
        await using var tx = await BeginWriteAsync(db, ct);
        await db.ExecuteAsync("UPDATE users SET is_active = @isActive WHERE id = @userId;", new { userId, isActive }, tx);
        if (!isActive)
            await db.ExecuteAsync("DELETE FROM sessions WHERE user_id = @userId;", new { userId }, tx);
        await tx.CommitAsync(ct);
        return 0;
    }, ct);

    public Task DeleteUserAsync(long userId, CancellationToken ct = default) =>
        RunAsync(db => db.ExecuteAsync("DELETE FROM users WHERE id = @userId;", new { userId }), ct);

    public Task RecordLoginAsync(long userId, DateTimeOffset at, PasswordUpgrade? upgrade, CancellationToken ct = default) => RunAsync(async db =>
    {
        var now = Micros(at);
        if (upgrade is null)
            return await db.ExecuteAsync("UPDATE users SET last_login = @now WHERE id = @userId;", new { userId, now });
        await using var tx = await BeginWriteAsync(db, ct);
        await db.ExecuteAsync("UPDATE users SET last_login = @now, password = @EncodedPassword WHERE id = @userId;",
            new { userId, now, upgrade.EncodedPassword }, tx);
        await db.ExecuteAsync("UPDATE sessions SET auth_hash = @NewAuthHash WHERE user_id = @userId AND auth_hash = @OldAuthHash;",
            new { userId, upgrade.NewAuthHash, upgrade.OldAuthHash }, tx);
        await tx.CommitAsync(ct);
        return 0;
    }, ct);

    // ---- groups

    public Task<Group> CreateGroupAsync(string name, CancellationToken ct = default) => RunAsync(async db =>
    {
        try
        {
            var id = await db.ExecuteScalarAsync<long>("INSERT INTO groups (name) VALUES (@name) RETURNING id;", new { name });
            return new Group(id, name);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new DuplicateGroupNameException(name);
        }
    }, ct);

    public Task<Group?> FindGroupByNameAsync(string name, CancellationToken ct = default) => RunAsync(async db =>
        (await db.QuerySingleOrDefaultAsync<GroupRow>("SELECT id, name FROM groups WHERE name = @name;", new { name }))?.ToGroup(), ct);

    public Task<Group?> FindGroupByIdAsync(long id, CancellationToken ct = default) => RunAsync(async db =>
        (await db.QuerySingleOrDefaultAsync<GroupRow>("SELECT id, name FROM groups WHERE id = @id;", new { id }))?.ToGroup(), ct);

    public Task<long> CountGroupsAsync(CancellationToken ct = default) =>
        RunAsync(db => db.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM groups;"), ct);

    public Task<IReadOnlyList<Group>> ListGroupsAsync(int offset, int limit, CancellationToken ct = default) => RunAsync(async db =>
        (IReadOnlyList<Group>)(await db.QueryAsync<GroupRow>("SELECT id, name FROM groups ORDER BY id LIMIT @limit OFFSET @offset;", new { limit, offset }))
            .Select(r => r.ToGroup()).ToList(), ct);

    public Task<IReadOnlySet<long>> FindExistingGroupIdsAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default) => RunAsync(async db =>
        ids.Count == 0
            ? (IReadOnlySet<long>)new HashSet<long>()
            : (await db.QueryAsync<long>($"SELECT id FROM groups WHERE {IsOneOf("id", "@ids")};", new { ids = ids.ToArray() })).ToHashSet(), ct);

    public Task<Group?> RenameGroupAsync(long id, string name, CancellationToken ct = default) => RunAsync(async db =>
    {
        try
        {
            var found = await db.ExecuteAsync("UPDATE groups SET name = @name WHERE id = @id;", new { id, name });
            return found == 0 ? null : new Group(id, name);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new DuplicateGroupNameException(name);
        }
    }, ct);

    public Task<bool> DeleteGroupAsync(long id, CancellationToken ct = default) =>
        RunAsync(async db => await db.ExecuteAsync("DELETE FROM groups WHERE id = @id;", new { id }) > 0, ct);

    public Task AddUserToGroupAsync(long userId, long groupId, CancellationToken ct = default) => RunAsync(async db =>
    {
        try
        {
            return await db.ExecuteAsync(AddMembership, new { userId, groupId });
        }
        catch (DbException e) when (IsForeignKeyViolation(e))
        {
            throw new MissingReferenceException(e);
        }
    }, ct);

    public Task<IReadOnlyList<Group>> ListGroupsOfUserAsync(long userId, CancellationToken ct = default) => RunAsync(async db =>
        (IReadOnlyList<Group>)(await db.QueryAsync<GroupRow>(
            "SELECT g.id, g.name FROM groups g JOIN user_groups m ON m.group_id = g.id WHERE m.user_id = @userId ORDER BY g.id;",
            new { userId })).Select(r => r.ToGroup()).ToList(), ct);

    // ---- sessions

    public Task<SessionWithUser?> FindLiveSessionAsync(string key, DateTimeOffset now, CancellationToken ct = default) => RunAsync(async db =>
    {
        var row = await db.QuerySingleOrDefaultAsync<SessionUserRow>(
            $"""
            SELECT s.session_key, s.user_id, s.auth_hash, s.created_at, s.last_seen_at, s.expires_at, s.user_agent,
                   u.{UserColumns.Replace(", ", ", u.", StringComparison.Ordinal)}
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.session_key = @key AND s.expires_at > @now;
            """,
            new { key, now = Micros(now) });
        return row is null ? null : new SessionWithUser(row.ToSession(), row.ToUser());
    }, ct);

    public Task CreateSessionAsync(SessionRecord session, string? replacedKey, CancellationToken ct = default) => RunAsync(async db =>
    {
        await using var tx = await BeginWriteAsync(db, ct);
        if (replacedKey is not null)
            await db.ExecuteAsync("DELETE FROM sessions WHERE session_key = @replacedKey;", new { replacedKey }, tx);
        try
        {
            await db.ExecuteAsync(
                """
                INSERT INTO sessions (session_key, user_id, auth_hash, created_at, last_seen_at, expires_at, user_agent)
                VALUES (@Key, @UserId, @AuthHash, @created, @seen, @expires, @UserAgent);
                """,
                new
                {
                    session.Key,
                    session.UserId,
                    session.AuthHash,
                    session.UserAgent,
                    created = Micros(session.CreatedAt),
                    seen = Micros(session.LastSeenAt),
                    expires = Micros(session.ExpiresAt),
                }, tx);
        }
        catch (DbException e) when (IsForeignKeyViolation(e))
        {
            throw new MissingReferenceException(e);
        }
        await tx.CommitAsync(ct);
        return 0;
    }, ct);

    public Task DeleteSessionAsync(string key, CancellationToken ct = default) =>
        RunAsync(db => db.ExecuteAsync("DELETE FROM sessions WHERE session_key = @key;", new { key }), ct);

    public Task TouchSessionAsync(string key, DateTimeOffset lastSeenAt, CancellationToken ct = default) =>
        RunAsync(db => db.ExecuteAsync("UPDATE sessions SET last_seen_at = @seen WHERE session_key = @key;", new { key, seen = Micros(lastSeenAt) }), ct);

    public Task<IReadOnlyList<SessionRecord>> ListLiveSessionsOfUserAsync(long userId, DateTimeOffset now, CancellationToken ct = default) => RunAsync(async db =>
        (IReadOnlyList<SessionRecord>)(await db.QueryAsync<SessionUserRow>(
            """
            SELECT session_key, user_id, auth_hash, created_at, last_seen_at, expires_at, user_agent
            FROM sessions WHERE user_id = @userId AND expires_at > @now ORDER BY created_at, session_key;
            """,
            new { userId, now = Micros(now) })).Select(r => r.ToSession()).ToList(), ct);

    /// <summary>A null <c>@exceptKey</c> keeps none: <c>IS DISTINCT FROM</c> is true for every key then, where <c>&lt;&gt;</c> would be null.</summary>
    private const string DeleteSessionsOfUserExcept = "DELETE FROM sessions WHERE user_id = @userId AND session_key IS DISTINCT FROM @exceptKey;";

    public Task<int> DeleteSessionsOfUserAsync(long userId, string? exceptKey, CancellationToken ct = default) =>
        RunAsync(db => db.ExecuteAsync(DeleteSessionsOfUserExcept, new { userId, exceptKey }), ct);

    public Task<int> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct = default) =>
        RunAsync(db => db.ExecuteAsync("DELETE FROM sessions WHERE expires_at <= @now;", new { now = Micros(now) }), ct);

    // ---- plumbing

    /// <summary>Runs <paramref name="work"/> on a connection of its own; an outage becomes <see cref="StoreUnavailableException"/>.</summary>
    protected async Task<T> RunAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken ct)
    {
        try
        {
            await using var db = await OpenAsync(ct);
            return await work(db);
        }
        catch (Exception e) when (AsUnavailable(e) is { } outage)
        {
            throw outage;
        }
    }
}
