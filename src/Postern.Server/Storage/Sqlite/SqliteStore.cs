using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, a pooled connection per operation. Timestamps are
/// microseconds since the Unix epoch, so comparisons are integer comparisons.
/// </summary>
public sealed class SqliteStore : IUserStore, IGroupStore, ISessionStore, IStoreAdministration
{
    private const int SqliteConstraint = 19;
    private readonly string _connectionString;
    private readonly string _pingConnectionString;

    public SqliteStore(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 10,
        }.ToString();
        _pingConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 2,
        }.ToString();
    }

    public string Path { get; }

    // ---- administration

    public Task MigrateAsync(CancellationToken ct = default)
    {
        CreateFolder();
        return RunAsync(db => MigrateSchemaAsync(db, ct), ct);
    }

    /// <summary>The database's folder must exist before the connection opens: SQLite creates the file, never its folder.</summary>
    private void CreateFolder()
    {
        var directory = System.IO.Path.GetDirectoryName(Path);
        if (string.IsNullOrEmpty(directory))
            return;
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreUnavailableException($"Cannot create the folder of {Path}: {e.Message}", e);
        }
    }

    private static async Task<int> MigrateSchemaAsync(SqliteConnection db, CancellationToken ct)
    {
        await db.ExecuteAsync("PRAGMA journal_mode=WAL;");
        await using var tx = await BeginImmediateAsync(db, ct);
        await db.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);", transaction: tx);
        var version = await db.ExecuteScalarAsync<long?>("SELECT MAX(version) FROM schema_version;", transaction: tx) ?? 0;
        for (var i = (int)version; i < SqliteSchema.Migrations.Length; i++)
        {
            await db.ExecuteAsync(SqliteSchema.Migrations[i], transaction: tx);
            await db.ExecuteAsync("INSERT INTO schema_version (version) VALUES (@v);", new { v = i + 1 }, tx);
        }
        await tx.CommitAsync(ct);
        return 0;
    }

    public Task<string> GetOrCreateSettingAsync(string name, Func<string> create, CancellationToken ct = default) => RunAsync(async db =>
    {
        await db.ExecuteAsync("INSERT OR IGNORE INTO settings (name, value) VALUES (@name, @value);", new { name, value = create() });
        return await db.ExecuteScalarAsync<string>("SELECT value FROM settings WHERE name = @name;", new { name }) ?? "";
    }, ct);

    /// <summary>
    /// On a fresh, unpooled connection that may not create the file: a pooled connection keeps the file
    /// open and would answer <c>SELECT 1</c> even after the file or its folder was deleted.
    /// </summary>
    public async Task PingAsync(CancellationToken ct = default)
    {
        try
        {
            await using var db = new SqliteConnection(_pingConnectionString);
            await db.OpenAsync(ct);
            await db.ExecuteScalarAsync<long>(new CommandDefinition("SELECT 1 FROM schema_version LIMIT 1;", cancellationToken: ct));
        }
        catch (SqliteException e)
        {
            throw new StoreUnavailableException($"SQLite error {e.SqliteErrorCode} on {Path}.", e);
        }
    }

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
            await using var tx = await BeginImmediateAsync(db, ct);
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
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            throw new DuplicateUsernameException(user.Username);
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

    private static async Task<UserWithGroups?> FindUserWithGroupsAsync(SqliteConnection db, DbTransaction? tx, long id)
    {
        var user = await db.QuerySingleOrDefaultAsync<UserRow>($"SELECT {UserColumns} FROM users WHERE id = @id;", new { id }, tx);
        if (user is null)
            return null;
        var groups = await db.QueryAsync<long>("SELECT group_id FROM user_groups WHERE user_id = @id ORDER BY group_id;", new { id }, tx);
        return new UserWithGroups(user.ToUser(), groups.ToList());
    }

    public Task<UserWithGroups?> UpdateUserAsync(long id, UserChanges changes, CancellationToken ct = default) => RunAsync(async db =>
    {
        await using var tx = await BeginImmediateAsync(db, ct);
        try
        {
            var found = await db.ExecuteAsync(
                "UPDATE users SET username = COALESCE(@Username, username), email = COALESCE(@Email, email) WHERE id = @id;",
                new { id, changes.Username, changes.Email }, tx);
            if (found == 0)
                return null;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            throw new DuplicateUsernameException(changes.Username ?? "");
        }
        if (changes.GroupIds is not null)
        {
            await db.ExecuteAsync("DELETE FROM user_groups WHERE user_id = @id;", new { id }, tx);
            await ReplaceMembershipsAsync(db, tx, id, changes.GroupIds);
        }
        var updated = await FindUserWithGroupsAsync(db, tx, id);
        await tx.CommitAsync(ct);
        return updated;
    }, ct);

    private static async Task ReplaceMembershipsAsync(SqliteConnection db, DbTransaction tx, long userId, IReadOnlyList<long> groupIds)
    {
        foreach (var groupId in groupIds.Distinct())
            await db.ExecuteAsync("INSERT OR IGNORE INTO user_groups (user_id, group_id) VALUES (@userId, @groupId);", new { userId, groupId }, tx);
    }

    public Task SetPasswordAsync(long userId, string encodedPassword, KeptSession? kept = null, CancellationToken ct = default) => RunAsync(async db =>
    {
        await using var tx = await BeginImmediateAsync(db, ct);
        await db.ExecuteAsync("UPDATE users SET password = @encodedPassword WHERE id = @userId;", new { userId, encodedPassword }, tx);
        await db.ExecuteAsync("DELETE FROM sessions WHERE user_id = @userId AND session_key IS NOT @key;", new { userId, key = kept?.Key }, tx);
        if (kept is not null)
            await db.ExecuteAsync("UPDATE sessions SET auth_hash = @AuthHash WHERE session_key = @Key AND user_id = @userId;", new { userId, kept.Key, kept.AuthHash }, tx);
        await tx.CommitAsync(ct);
        return 0;
    }, ct);

    public Task SetActiveAsync(long userId, bool isActive, CancellationToken ct = default) => RunAsync(async db =>
    {
        await using var tx = await BeginImmediateAsync(db, ct);
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
        await using var tx = await BeginImmediateAsync(db, ct);
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
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
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
            : (await db.QueryAsync<long>("SELECT id FROM groups WHERE id IN @ids;", new { ids })).ToHashSet(), ct);

    public Task<Group?> RenameGroupAsync(long id, string name, CancellationToken ct = default) => RunAsync(async db =>
    {
        try
        {
            var found = await db.ExecuteAsync("UPDATE groups SET name = @name WHERE id = @id;", new { id, name });
            return found == 0 ? null : new Group(id, name);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            throw new DuplicateGroupNameException(name);
        }
    }, ct);

    public Task<bool> DeleteGroupAsync(long id, CancellationToken ct = default) =>
        RunAsync(async db => await db.ExecuteAsync("DELETE FROM groups WHERE id = @id;", new { id }) > 0, ct);

    public Task AddUserToGroupAsync(long userId, long groupId, CancellationToken ct = default) =>
        RunAsync(db => db.ExecuteAsync("INSERT OR IGNORE INTO user_groups (user_id, group_id) VALUES (@userId, @groupId);", new { userId, groupId }), ct);

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
        await using var tx = await BeginImmediateAsync(db, ct);
        if (replacedKey is not null)
            await db.ExecuteAsync("DELETE FROM sessions WHERE session_key = @replacedKey;", new { replacedKey }, tx);
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

    public Task<int> DeleteSessionsOfUserAsync(long userId, string? exceptKey, CancellationToken ct = default) =>
        RunAsync(db => db.ExecuteAsync("DELETE FROM sessions WHERE user_id = @userId AND session_key IS NOT @exceptKey;", new { userId, exceptKey }), ct);

    public Task<int> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct = default) =>
        RunAsync(db => db.ExecuteAsync("DELETE FROM sessions WHERE expires_at <= @now;", new { now = Micros(now) }), ct);

    // ---- plumbing

    private async Task<T> RunAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken ct)
    {
        try
        {
            await using var db = new SqliteConnection(_connectionString);
            await db.OpenAsync(ct);
            return await work(db);
        }
        catch (SqliteException e) when (e.SqliteErrorCode != SqliteConstraint)
        {
            throw new StoreUnavailableException($"SQLite error {e.SqliteErrorCode} on {Path}.", e);
        }
    }

    /// <summary>BEGIN IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking on upgrade.</summary>
    private static Task<DbTransaction> BeginImmediateAsync(SqliteConnection db, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult<DbTransaction>(db.BeginTransaction(deferred: false));
    }
}
