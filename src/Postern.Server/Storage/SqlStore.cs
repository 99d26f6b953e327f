using System.Data.Common;
using Postern.Server.Storage.Postgres;
using Postern.Server.Storage.Sqlite;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage;

/// <summary>
/// What the SQLite and PostgreSQL stores share: the same tables and columns, and every statement below, each
/// valid in both dialects (SQLite since 3.39 understands <c>IS DISTINCT FROM</c> and <c>ON CONFLICT DO NOTHING</c>).
/// A store supplies only what differs: how a connection opens and which of its errors mean an outage, how a
/// write transaction begins, what a violated constraint looks like, how a list parameter is matched, and the schema.
/// Statements go through <see cref="StoreCommands"/> without the caller's token: once sent, a statement runs to its
/// end (opening the connection and committing honour the token).
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

    /// <summary>A condition true when <paramref name="column"/> is one of <paramref name="values"/>, whose parameters it adds to <paramref name="command"/>.</summary>
    protected abstract string IsOneOf(DbCommand command, string column, IReadOnlyCollection<long> values);

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
        await db.Command("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL);", tx).ExecuteAsync();
        var version = (int)await db.Command("SELECT MAX(version) FROM schema_version;", tx).ReadInt64Async();
        for (var i = version; i < migrations.Count; i++)
        {
            await db.Command(migrations[i], tx).ExecuteAsync();
            await db.Command("INSERT INTO schema_version (version) VALUES (@v);", tx).With("@v", i + 1).ExecuteAsync();
        }
    }

    public Task<string> GetOrCreateSettingAsync(string name, Func<string> create, CancellationToken ct = default) => WriteAsync(async db =>
    {
        await db.Command("INSERT INTO settings (name, value) VALUES (@name, @value) ON CONFLICT DO NOTHING;")
            .With("@name", name).With("@value", create()).ExecuteAsync();
        return await db.Command("SELECT value FROM settings WHERE name = @name;").With("@name", name).ReadStringAsync() ?? "";
    }, ct);

    // ---- users

    public Task<User?> FindUserByUsernameAsync(string username, CancellationToken ct = default) => RunAsync(db =>
        db.Command($"SELECT {UserColumns} FROM users WHERE username = @username;").With("@username", username).ReadFirstOrDefaultAsync(ReadUser), ct);

    public Task<User?> FindUserByIdAsync(long id, CancellationToken ct = default) =>
        RunAsync(db => FindUserByIdAsync(db, null, id), ct);

    private static Task<User?> FindUserByIdAsync(DbConnection db, DbTransaction? tx, long id) =>
        db.Command($"SELECT {UserColumns} FROM users WHERE id = @id;", tx).With("@id", id).ReadFirstOrDefaultAsync(ReadUser);

    public Task<long> CountUsersAsync(CancellationToken ct = default) =>
        RunAsync(db => db.Command("SELECT COUNT(*) FROM users;").ReadInt64Async(), ct);

    public Task<User> CreateUserAsync(NewUser user, CancellationToken ct = default) => WriteAsync(async db =>
    {
        var now = Micros(DateTimeOffset.UtcNow);
        try
        {
            await using var tx = await BeginWriteAsync(db, ct);
            var id = await db.Command(
                    """
                    INSERT INTO users (username, email, password, is_active, is_staff, is_superuser, date_joined)
                    VALUES (@Username, @Email, @Password, @IsActive, @IsStaff, @IsSuperuser, @now) RETURNING id;
                    """, tx)
                .With("@Username", user.Username).With("@Email", user.Email).With("@Password", user.Password)
                .With("@IsActive", user.IsActive).With("@IsStaff", user.IsStaff).With("@IsSuperuser", user.IsSuperuser).With("@now", now)
                .ReadInt64Async();
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
        var users = await db.Command($"SELECT {UserColumns} FROM users ORDER BY id LIMIT @limit OFFSET @offset;")
            .With("@limit", limit).With("@offset", offset).ReadAllAsync(ReadUser);
        if (users.Count == 0)
            return (IReadOnlyList<UserWithGroups>)[];
        var memberships = (await db.Command("SELECT user_id, group_id FROM user_groups WHERE user_id >= @first AND user_id <= @last ORDER BY group_id;")
            .With("@first", users[0].Id).With("@last", users[^1].Id)
            .ReadAllAsync(static row => (UserId: row.GetInt64(0), GroupId: row.GetInt64(1)))).ToLookup(m => m.UserId, m => m.GroupId);
        return users.Select(u => new UserWithGroups(u, memberships[u.Id].ToList())).ToList();
    }, ct);

    public Task<UserWithGroups?> FindUserWithGroupsAsync(long id, CancellationToken ct = default) =>
        RunAsync(db => FindUserWithGroupsAsync(db, null, id), ct);

    private static async Task<UserWithGroups?> FindUserWithGroupsAsync(DbConnection db, DbTransaction? tx, long id)
    {
        var user = await FindUserByIdAsync(db, tx, id);
        if (user is null)
            return null;
        var groups = await db.Command("SELECT group_id FROM user_groups WHERE user_id = @id ORDER BY group_id;", tx).With("@id", id).ReadAllAsync(ReadId);
        return new UserWithGroups(user, groups);
    }

    public Task<UserWithGroups?> UpdateUserAsync(long id, UserChanges changes, CancellationToken ct = default) => WriteAsync(async db =>
    {
        await using var tx = await BeginWriteAsync(db, ct);
        try
        {
            var found = await db.Command("UPDATE users SET username = COALESCE(@Username, username), email = COALESCE(@Email, email) WHERE id = @id;", tx)
                .With("@id", id).With("@Username", changes.Username).With("@Email", changes.Email).ExecuteAsync();
            if (found == 0)
                return null;
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new DuplicateUsernameException(changes.Username ?? "");
        }
        if (changes.GroupIds is not null)
        {
            await db.Command("DELETE FROM user_groups WHERE user_id = @id;", tx).With("@id", id).ExecuteAsync();
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
            await db.Command(AddMembership, tx).With("@userId", userId).With("@groupId", groupId).ExecuteAsync();
    }

    public Task SetPasswordAsync(long userId, string encodedPassword, KeptSession? kept = null, CancellationToken ct = default) => WriteAsync(async db =>
    {
        await using var tx = await BeginWriteAsync(db, ct);
        await db.Command("UPDATE users SET password = @encodedPassword WHERE id = @userId;", tx)
            .With("@userId", userId).With("@encodedPassword", encodedPassword).ExecuteAsync();
        await DeleteSessionsOfUserExcept(db, tx, userId, kept?.Key).ExecuteAsync();
        if (kept is not null)
        {
            await db.Command("UPDATE sessions SET auth_hash = @AuthHash WHERE session_key = @Key AND user_id = @userId;", tx)
                .With("@userId", userId).With("@Key", kept.Key).With("@AuthHash", kept.AuthHash).ExecuteAsync();
        }
        await tx.CommitAsync(ct);
        return 0;
    }, ct);

    public Task SetActiveAsync(long userId, bool isActive, CancellationToken ct = default) => WriteAsync(async db =>
    {
        await using var tx = await BeginWriteAsync(db, ct);
        await db.Command("UPDATE users SET is_active = @isActive WHERE id = @userId;", tx).With("@userId", userId).With("@isActive", isActive).ExecuteAsync();
        if (!isActive)
            await db.Command("DELETE FROM sessions WHERE user_id = @userId;", tx).With("@userId", userId).ExecuteAsync();
        await tx.CommitAsync(ct);
        return 0;
    }, ct);

    public Task DeleteUserAsync(long userId, CancellationToken ct = default) =>
        WriteAsync(db => db.Command("DELETE FROM users WHERE id = @userId;").With("@userId", userId).ExecuteAsync(), ct);

    public Task RecordLoginAsync(long userId, DateTimeOffset at, PasswordUpgrade? upgrade, CancellationToken ct = default) => WriteAsync(async db =>
    {
        var now = Micros(at);
        if (upgrade is null)
            return await db.Command("UPDATE users SET last_login = @now WHERE id = @userId;").With("@userId", userId).With("@now", now).ExecuteAsync();
        await using var tx = await BeginWriteAsync(db, ct);
        await db.Command("UPDATE users SET last_login = @now, password = @EncodedPassword WHERE id = @userId;", tx)
            .With("@userId", userId).With("@now", now).With("@EncodedPassword", upgrade.EncodedPassword).ExecuteAsync();
        await db.Command("UPDATE sessions SET auth_hash = @NewAuthHash WHERE user_id = @userId AND auth_hash = @OldAuthHash;", tx)
            .With("@userId", userId).With("@NewAuthHash", upgrade.NewAuthHash).With("@OldAuthHash", upgrade.OldAuthHash).ExecuteAsync();
        await tx.CommitAsync(ct);
        return 0;
    }, ct);

    // ---- groups

    public Task<Group> CreateGroupAsync(string name, CancellationToken ct = default) => WriteAsync(async db =>
    {
        try
        {
            var id = await db.Command("INSERT INTO groups (name) VALUES (@name) RETURNING id;").With("@name", name).ReadInt64Async();
            return new Group(id, name);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new DuplicateGroupNameException(name);
        }
    }, ct);

    public Task<Group?> FindGroupByNameAsync(string name, CancellationToken ct = default) => RunAsync(db =>
        db.Command("SELECT id, name FROM groups WHERE name = @name;").With("@name", name).ReadFirstOrDefaultAsync(ReadGroup), ct);

    public Task<Group?> FindGroupByIdAsync(long id, CancellationToken ct = default) => RunAsync(db =>
        db.Command("SELECT id, name FROM groups WHERE id = @id;").With("@id", id).ReadFirstOrDefaultAsync(ReadGroup), ct);

    public Task<long> CountGroupsAsync(CancellationToken ct = default) =>
        RunAsync(db => db.Command("SELECT COUNT(*) FROM groups;").ReadInt64Async(), ct);

    public Task<IReadOnlyList<Group>> ListGroupsAsync(int offset, int limit, CancellationToken ct = default) => RunAsync(async db =>
        (IReadOnlyList<Group>)await db.Command("SELECT id, name FROM groups ORDER BY id LIMIT @limit OFFSET @offset;")
            .With("@limit", limit).With("@offset", offset).ReadAllAsync(ReadGroup), ct);

    public Task<IReadOnlySet<long>> FindExistingGroupIdsAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default) => RunAsync(async db =>
    {
        if (ids.Count == 0)
            return (IReadOnlySet<long>)new HashSet<long>();
        var query = db.Command("");
        query.CommandText = $"SELECT id FROM groups WHERE {IsOneOf(query, "id", ids)};";
        return (await query.ReadAllAsync(ReadId)).ToHashSet();
    }, ct);

    public Task<Group?> RenameGroupAsync(long id, string name, CancellationToken ct = default) => WriteAsync(async db =>
    {
        try
        {
            var found = await db.Command("UPDATE groups SET name = @name WHERE id = @id;").With("@id", id).With("@name", name).ExecuteAsync();
            return found == 0 ? null : new Group(id, name);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new DuplicateGroupNameException(name);
        }
    }, ct);

    public Task<bool> DeleteGroupAsync(long id, CancellationToken ct = default) =>
        WriteAsync(async db => await db.Command("DELETE FROM groups WHERE id = @id;").With("@id", id).ExecuteAsync() > 0, ct);

    public Task AddUserToGroupAsync(long userId, long groupId, CancellationToken ct = default) => WriteAsync(async db =>
    {
        try
        {
            return await db.Command(AddMembership).With("@userId", userId).With("@groupId", groupId).ExecuteAsync();
        }
        catch (DbException e) when (IsForeignKeyViolation(e))
        {
            throw new MissingReferenceException(e);
        }
    }, ct);

    public Task<IReadOnlyList<Group>> ListGroupsOfUserAsync(long userId, CancellationToken ct = default) => RunAsync(async db =>
        (IReadOnlyList<Group>)await db.Command("SELECT g.id, g.name FROM groups g JOIN user_groups m ON m.group_id = g.id WHERE m.user_id = @userId ORDER BY g.id;")
            .With("@userId", userId).ReadAllAsync(ReadGroup), ct);

    // ---- sessions

    /// <summary>Built once: every authenticated request that misses the session cache runs it.</summary>
    private static readonly string FindLiveSession =
        $"""
        SELECT s.{SessionColumns.Replace(", ", ", s.", StringComparison.Ordinal)},
               u.{UserColumns.Replace(", ", ", u.", StringComparison.Ordinal)}
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.session_key = @key AND s.expires_at > @now;
        """;

    public Task<SessionWithUser?> FindLiveSessionAsync(string key, DateTimeOffset now, CancellationToken ct = default) => RunAsync(db =>
        db.Command(FindLiveSession).With("@key", key).With("@now", Micros(now)).ReadFirstOrDefaultAsync(ReadSessionWithUser), ct);

    public Task CreateSessionAsync(SessionRecord session, string? replacedKey, CancellationToken ct = default) => WriteAsync(async db =>
    {
        await using var tx = await BeginWriteAsync(db, ct);
        if (replacedKey is not null)
            await db.Command("DELETE FROM sessions WHERE session_key = @replacedKey;", tx).With("@replacedKey", replacedKey).ExecuteAsync();
        try
        {
            await db.Command(
                    """
                    INSERT INTO sessions (session_key, user_id, auth_hash, created_at, last_seen_at, expires_at, user_agent)
                    VALUES (@Key, @UserId, @AuthHash, @created, @seen, @expires, @UserAgent);
                    """, tx)
                .With("@Key", session.Key).With("@UserId", session.UserId).With("@AuthHash", session.AuthHash).With("@UserAgent", session.UserAgent)
                .With("@created", Micros(session.CreatedAt)).With("@seen", Micros(session.LastSeenAt)).With("@expires", Micros(session.ExpiresAt))
                .ExecuteAsync();
        }
        catch (DbException e) when (IsForeignKeyViolation(e))
        {
            throw new MissingReferenceException(e);
        }
        await tx.CommitAsync(ct);
        return 0;
    }, ct);

    public Task DeleteSessionAsync(string key, CancellationToken ct = default) =>
        WriteAsync(db => db.Command("DELETE FROM sessions WHERE session_key = @key;").With("@key", key).ExecuteAsync(), ct);

    public Task TouchSessionAsync(string key, DateTimeOffset lastSeenAt, CancellationToken ct = default) =>
        WriteAsync(db => db.Command("UPDATE sessions SET last_seen_at = @seen WHERE session_key = @key;").With("@key", key).With("@seen", Micros(lastSeenAt)).ExecuteAsync(), ct);

    public Task<IReadOnlyList<SessionRecord>> ListLiveSessionsOfUserAsync(long userId, DateTimeOffset now, CancellationToken ct = default) => RunAsync(async db =>
        (IReadOnlyList<SessionRecord>)await db.Command(
                $"SELECT {SessionColumns} FROM sessions WHERE user_id = @userId AND expires_at > @now ORDER BY created_at, session_key;")
            .With("@userId", userId).With("@now", Micros(now)).ReadAllAsync(ReadSession), ct);

    /// <summary>A null <c>@exceptKey</c> keeps none: <c>IS DISTINCT FROM</c> is true for every key then, where <c>&lt;&gt;</c> would be null.</summary>
    private static DbCommand DeleteSessionsOfUserExcept(DbConnection db, DbTransaction? tx, long userId, string? exceptKey) =>
        db.Command("DELETE FROM sessions WHERE user_id = @userId AND session_key IS DISTINCT FROM @exceptKey;", tx)
            .With("@userId", userId).With("@exceptKey", exceptKey);

    public Task<int> DeleteSessionsOfUserAsync(long userId, string? exceptKey, CancellationToken ct = default) =>
        WriteAsync(db => DeleteSessionsOfUserExcept(db, null, userId, exceptKey).ExecuteAsync(), ct);

    public Task<int> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct = default) =>
        WriteAsync(db => db.Command("DELETE FROM sessions WHERE expires_at <= @now;").With("@now", Micros(now)).ExecuteAsync(), ct);

    // ---- plumbing

    /// <summary>
    /// Whether this process's writes should wait their turn here rather than in the database. SQLite takes one writer at a
    /// time, and a writer that finds the file locked polls it with sleeps of up to 100 ms: under a burst of writes that is
    /// slow and unfair (the p99 of concurrent writes ran to hundreds of ms). Queued here, they go one after another at once.
    /// Writers in other processes on the same file still meet at SQLite's lock.
    /// </summary>
    protected virtual bool OneWriterAtATime => false;

    private readonly SemaphoreSlim _writer = new(1, 1);

    /// <summary><see cref="RunAsync"/> for an operation that writes: behind this process's other writes when <see cref="OneWriterAtATime"/>.</summary>
    protected async Task<T> WriteAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken ct)
    {
        if (!OneWriterAtATime)
            return await RunAsync(work, ct);
        await _writer.WaitAsync(ct);
        try
        {
            return await RunAsync(work, ct);
        }
        finally
        {
            _writer.Release();
        }
    }

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
