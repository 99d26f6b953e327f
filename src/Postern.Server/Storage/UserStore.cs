using System.Data.Common;
using Postern.Server.Storage.Caching;

using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage;

/// <summary>
/// Users and their memberships, in the <c>users</c> and <c>user_groups</c> tables (beside Django, its <c>auth_user</c> and
/// <c>auth_user_groups</c>: Schema/TableNames.cs). Reads by id, name, page and count are cached.
/// </summary>
/// <param name="djangoSessions">Beside Django: its sessions, re-signed when a password change or upgrade re-ties them.</param>
public sealed class UserStore(Database database, TimeProvider time, Django.DjangoSessionStore? djangoSessions = null) : IUserStore
{
    private static readonly CachedQuery ByName = new("user by name");
    private static readonly CachedQuery ById = new("user by id");
    private static readonly CachedQuery WithGroupsById = new("user with groups by id");
    private static readonly CachedQuery Counted = new("user count");
    private static readonly CachedQuery Paged = new("user page");
    private static readonly CachedQuery VerifiedEmail = new("verified e-mail by user id");

    // No stored username holds NUL (none may), and PostgreSQL cannot even compare such text: a name with one is nobody's.
    public Task<User?> FindUserByUsernameAsync(string username, CancellationToken ct = default) => username.Contains('\0', StringComparison.Ordinal)
        ? Task.FromResult<User?>(null)
        : database.ReadCachedAsync(new ReadKey(ByName, Text: username), db =>
            db.Command($"SELECT {UserColumns} FROM users WHERE username = @username;").With("@username", username)
                .ReadFirstOrDefaultAsync(ReadUser), ct);

    public Task<User?> FindUserByIdAsync(long id, CancellationToken ct = default) =>
        database.ReadCachedAsync(new ReadKey(ById, id), db => FindUserByIdAsync(db, null, id), ct);

    private static Task<User?> FindUserByIdAsync(DbConnection db, DbTransaction? tx, long id) =>
        db.Command($"SELECT {UserColumns} FROM users WHERE id = @id;", tx).With("@id", id).ReadFirstOrDefaultAsync(ReadUser);

    public Task<long> CountUsersAsync(CancellationToken ct = default) =>
        database.ReadCachedAsync(new ReadKey(Counted), db => db.Command("SELECT COUNT(*) FROM users;").ReadInt64Async(), ct);

    public Task<IReadOnlyList<UserWithGroups>> ListUsersAsync(int offset, int limit, CancellationToken ct = default) =>
        database.ReadCachedAsync(new ReadKey(Paged, offset, limit), async db =>
        {
            var users = await db.Command($"SELECT {UserColumns} FROM users ORDER BY id LIMIT @limit OFFSET @offset;")
                .With("@limit", limit).With("@offset", offset).ReadAllAsync(ReadUser);
            if (users.Count == 0)
                return (IReadOnlyList<UserWithGroups>)[];
            var memberships = (await db.Command(
                        "SELECT user_id, group_id FROM user_groups WHERE user_id >= @first AND user_id <= @last ORDER BY group_id;")
                    .With("@first", users[0].Id).With("@last", users[^1].Id)
                    .ReadAllAsync(static row => (UserId: row.GetInt64(0), GroupId: row.GetInt64(1))))
                .ToLookup(m => m.UserId, m => m.GroupId);
            return users.Select(u => new UserWithGroups(u, memberships[u.Id].ToList())).ToList();
        }, ct);

    public Task<UserWithGroups?> FindUserWithGroupsAsync(long id, CancellationToken ct = default) =>
        database.ReadCachedAsync(new ReadKey(WithGroupsById, id), db => FindUserWithGroupsAsync(db, null, id), ct);

    private static async Task<UserWithGroups?> FindUserWithGroupsAsync(DbConnection db, DbTransaction? tx, long id)
    {
        var user = await FindUserByIdAsync(db, tx, id);
        if (user is null)
            return null;
        var groups = await db.Command("SELECT group_id FROM user_groups WHERE user_id = @id ORDER BY group_id;", tx).With("@id", id)
            .ReadAllAsync(ReadId);
        return new UserWithGroups(user, groups);
    }

    public Task<User> CreateUserAsync(NewUser user, CancellationToken ct = default) => database.WriteAsync(async db =>
    {
        var joined = time.GetUtcNow();
        var now = Micros(joined);
        try
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            var id = await db.Command(
                    """
                    INSERT INTO users (username, email, password, is_active, is_staff, is_superuser, date_joined, first_name, last_name)
                    VALUES (@Username, @Email, @Password, @IsActive, @IsStaff, @IsSuperuser, @joined, @FirstName, @LastName) RETURNING id;
                    """, tx)
                .With("@Username", user.Username).With("@Email", user.Email).With("@Password", user.Password)
                .With("@IsActive", user.IsActive).With("@IsStaff", user.IsStaff).With("@IsSuperuser", user.IsSuperuser)
                .WithUserTime("@joined", joined, database)
                .With("@FirstName", user.FirstName).With("@LastName", user.LastName)
                .ReadInt64Async();
            await GroupStore.AddMembershipsAsync(db, tx, id, user.GroupIds);
            if (user.EmailVerified)
                await MarkVerified(db, tx, id, user.Email, now).ExecuteAsync();
            await tx.CommitAsync(ct);
            return new User(id, user.Username, user.Email, user.Password, user.IsActive, user.IsStaff, user.IsSuperuser,
                FromMicros(now), LastLogin: null, user.FirstName, user.LastName);
        }
        catch (DbException e) when (database.IsUniqueViolation(e))
        {
            throw new DuplicateUsernameException(user.Username);
        }
        catch (DbException e) when (database.IsForeignKeyViolation(e))
        {
            throw new MissingReferenceException(e);
        }
    }, ct);

    public Task<UserWithGroups?> UpdateUserAsync(long id, UserChanges changes, CancellationToken ct = default) =>
        database.WriteAsync(async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            try
            {
                var found = await db.Command(
                        """
                        UPDATE users SET username = COALESCE(@Username, username), email = COALESCE(@Email, email),
                            first_name = COALESCE(@FirstName, first_name), last_name = COALESCE(@LastName, last_name),
                            is_active = COALESCE(@IsActive, is_active), is_staff = COALESCE(@IsStaff, is_staff),
                            is_superuser = COALESCE(@IsSuperuser, is_superuser)
                        WHERE id = @id;
                        """, tx)
                    .With("@id", id).With("@Username", changes.Username).With("@Email", changes.Email)
                    .With("@FirstName", changes.FirstName).With("@LastName", changes.LastName)
                    .With("@IsActive", changes.IsActive).With("@IsStaff", changes.IsStaff).With("@IsSuperuser", changes.IsSuperuser)
                    .ExecuteAsync();
                if (found == 0)
                    return null;
            }
            catch (DbException e) when (database.IsUniqueViolation(e))
            {
                throw new DuplicateUsernameException(changes.Username ?? "");
            }
            if (changes.GroupIds is not null)
            {
                await db.Command("DELETE FROM user_groups WHERE user_id = @id;", tx).With("@id", id).ExecuteAsync();
                try
                {
                    await GroupStore.AddMembershipsAsync(db, tx, id, changes.GroupIds);
                }
                catch (DbException e) when (database.IsForeignKeyViolation(e))
                {
                    throw new MissingReferenceException(e);
                }
            }
            if (changes.Email is not null && changes.EmailVerified)
                await MarkVerified(db, tx, id, changes.Email, Micros(time.GetUtcNow())).ExecuteAsync();
            // A user's own new address is unverified, even one verified before and left since.
            else if (changes.Email is not null)
            {
                await db.Command("DELETE FROM email_verifications WHERE user_id = @id AND email <> @Email;", tx)
                    .With("@id", id).With("@Email", changes.Email).ExecuteAsync();
            }
            // Deactivation ends every session at once, as SetActiveAsync does.
            if (changes.IsActive == false)
                await db.Command("DELETE FROM sessions WHERE user_id = @id;", tx).With("@id", id).ExecuteAsync();
            var updated = await FindUserWithGroupsAsync(db, tx, id);
            await tx.CommitAsync(ct);
            return updated;
        }, ct);

    public Task<User?> FindUserByIdUncachedAsync(long id, CancellationToken ct = default) =>
        database.ReadAsync(db => FindUserByIdAsync(db, null, id), ct);

    public Task<User?> FindUserByUsernameIgnoringCaseAsync(string username, CancellationToken ct = default) =>
        database.ReadAsync(db => db.Command($"SELECT {UserColumns} FROM users WHERE lower(username) = lower(@username) LIMIT 1;")
            .With("@username", username).ReadFirstOrDefaultAsync(ReadUser), ct);

    public Task<IReadOnlyList<User>> FindUsersByEmailAsync(string email, CancellationToken ct = default) =>
        database.ReadAsync<IReadOnlyList<User>>(async db =>
            await db.Command($"SELECT {UserColumns} FROM users WHERE lower(email) = lower(@email) ORDER BY id;")
                .With("@email", email).ReadAllAsync(ReadUser), ct);

    public Task<string?> FindVerifiedEmailAsync(long userId, CancellationToken ct = default) =>
        database.ReadCachedAsync(new ReadKey(VerifiedEmail, userId), db =>
            db.Command("SELECT email FROM email_verifications WHERE user_id = @userId;").With("@userId", userId)
                .ReadFirstOrDefaultAsync(static row => row.GetString(0)), ct);

    public Task<bool> MarkEmailVerifiedAsync(long userId, string email, CancellationToken ct = default) =>
        database.WriteAsync(async db => await MarkVerified(db, null, userId, email, Micros(time.GetUtcNow())).ExecuteAsync() > 0, ct);

    /// <summary>Records <paramref name="email"/> as the user's verified address, if it is still their address.</summary>
    private static DbCommand MarkVerified(DbConnection db, DbTransaction? tx, long userId, string email, long at) =>
        db.Command(
                """
                INSERT INTO email_verifications (user_id, email, verified_at)
                SELECT id, email, @at FROM users WHERE id = @userId AND email = @email
                ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, verified_at = excluded.verified_at;
                """, tx)
            .With("@userId", userId).With("@email", email).With("@at", at);

    public Task<int> SetPasswordAsync(long userId, string encodedPassword, KeptSession? kept = null, CancellationToken ct = default) =>
        database.WriteAsync(async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            await db.Command("UPDATE users SET password = @encodedPassword WHERE id = @userId;", tx)
                .With("@userId", userId).With("@encodedPassword", encodedPassword).ExecuteAsync();
            var ended = await SessionStore.DeleteSessionsOfUserExcept(db, tx, userId, kept?.Key).ExecuteAsync();
            // A token is tied to the password it was made under: a new password ends them all (a token cannot be re-tied:
            // nobody holding one is asking).
            await ApiTokenStore.DeleteTokensOfUser(db, tx, userId).ExecuteAsync();
            if (kept is not null)
            {
                await db.Command("UPDATE sessions SET auth_hash = @AuthHash WHERE session_key = @Key AND user_id = @userId;", tx)
                    .With("@userId", userId).With("@Key", kept.Key).With("@AuthHash", kept.AuthHash).ExecuteAsync();
                if (djangoSessions is not null)
                    await djangoSessions.ResignAsync(db, tx, userId, kept.AuthHash);
            }
            await tx.CommitAsync(ct);
            return ended;
        }, ct);

    public Task SetActiveAsync(long userId, bool isActive, CancellationToken ct = default) => database.WriteAsync(async db =>
    {
        await using var tx = await database.BeginWriteAsync(db, ct);
        await db.Command("UPDATE users SET is_active = @isActive WHERE id = @userId;", tx)
            .With("@userId", userId).With("@isActive", isActive).ExecuteAsync();
        if (!isActive)
            await db.Command("DELETE FROM sessions WHERE user_id = @userId;", tx).With("@userId", userId).ExecuteAsync();
        await tx.CommitAsync(ct);
    }, ct);

    public Task DeleteUserAsync(long userId, CancellationToken ct = default) => database.Schema == Schema.StorageSchema.Postern
        ? database.WriteAsync(db => db.Command("DELETE FROM users WHERE id = @userId;").With("@userId", userId).ExecuteAsync(), ct)
        : DeleteDjangoUserAsync(userId, ct);

    /// <summary>
    /// Beside Django, whose foreign keys do not cascade in the database (Django's ORM cascades them itself): what Django's
    /// own apps would delete with the user goes first (memberships, permissions, and where those apps are installed, DRF's
    /// token and the admin's log), in one transaction; the rows of any other app are the project's to decide.
    /// </summary>
    /// <exception cref="UserStillReferencedException">Another app's rows refer to the user; nothing was deleted.</exception>
    private Task DeleteDjangoUserAsync(long userId, CancellationToken ct) => database.WriteAsync(async db =>
    {
        var userTable = database.Tables!["users"];
        string[] cascaded = [$"{userTable}_user_permissions", "authtoken_token", "django_admin_log"];
        await using var tx = await database.BeginWriteAsync(db, ct);
        var present = await db.Command(database.IsPostgres
                ? "SELECT tablename FROM pg_tables WHERE schemaname = current_schema();"
                : "SELECT name FROM sqlite_master WHERE type = 'table';", tx)
            .ReadAllAsync(static row => row.GetString(0));
        await db.Command("DELETE FROM user_groups WHERE user_id = @userId;", tx).With("@userId", userId).ExecuteAsync();
        foreach (var table in cascaded.Where(present.Contains))
            await db.Command($"DELETE FROM {table} WHERE user_id = @userId;", tx).With("@userId", userId).ExecuteAsync();
        try
        {
            await db.Command("DELETE FROM users WHERE id = @userId;", tx).With("@userId", userId).ExecuteAsync();
            // Django's foreign keys are deferred: a row of another app that refers to the user fails the commit.
            await tx.CommitAsync(ct);
        }
        catch (DbException e) when (database.IsForeignKeyViolation(e))
        {
            throw new UserStillReferencedException(e);
        }
    }, ct);

    /// <summary>
    /// Without an upgraded hash only last_login changes, which no answer shows: not announced, as for a new session (a login
    /// flood does not empty every instance's cache). An upgrade rewrites the password and the sessions' hashes: announced.
    /// </summary>
    public Task RecordLoginAsync(long userId, DateTimeOffset at, PasswordUpgrade? upgrade, CancellationToken ct = default)
    {
        if (upgrade is null)
        {
            return database.WriteWithoutAnnouncingAsync(db =>
                db.Command("UPDATE users SET last_login = @now WHERE id = @userId;").With("@userId", userId).WithUserTime("@now", at, database)
                    .ExecuteAsync(), ct);
        }
        return database.WriteAsync(async db =>
        {
            await using var tx = await database.BeginWriteAsync(db, ct);
            await db.Command("UPDATE users SET last_login = @now, password = @EncodedPassword WHERE id = @userId;", tx)
                .With("@userId", userId).WithUserTime("@now", at, database).With("@EncodedPassword", upgrade.EncodedPassword).ExecuteAsync();
            await db.Command("UPDATE sessions SET auth_hash = @NewAuthHash WHERE user_id = @userId AND auth_hash = @OldAuthHash;", tx)
                .With("@userId", userId).With("@NewAuthHash", upgrade.NewAuthHash).With("@OldAuthHash", upgrade.OldAuthHash)
                .ExecuteAsync();
            if (djangoSessions is not null)
                await djangoSessions.ResignAsync(db, tx, userId, upgrade.NewAuthHash);
            // The same password, re-hashed: the user's tokens go on too.
            await db.Command("UPDATE api_tokens SET auth_hash = @NewAuthHash WHERE user_id = @userId AND auth_hash = @OldAuthHash;", tx)
                .With("@userId", userId).With("@NewAuthHash", upgrade.NewAuthHash).With("@OldAuthHash", upgrade.OldAuthHash)
                .ExecuteAsync();
            await tx.CommitAsync(ct);
        }, ct);
    }
}
