namespace Postern.Server.Storage;

/// <summary>Users. Implementations: SQLite (embedded default); PostgreSQL behind the same seam.</summary>
public interface IUserStore
{
    Task<User?> FindUserByUsernameAsync(string username, CancellationToken ct = default);
    Task<User?> FindUserByIdAsync(long id, CancellationToken ct = default);
    Task<long> CountUsersAsync(CancellationToken ct = default);

    /// <summary>A page of users in id order, each with their group ids.</summary>
    Task<IReadOnlyList<UserWithGroups>> ListUsersAsync(int offset, int limit, CancellationToken ct = default);

    Task<UserWithGroups?> FindUserWithGroupsAsync(long id, CancellationToken ct = default);

    /// <summary>Applies profile changes (memberships replaced when given) in one transaction; null if there is no such user.</summary>
    /// <exception cref="DuplicateUsernameException">The new username is taken.</exception>
    /// <exception cref="MissingReferenceException">A group to join does not exist; nothing changed.</exception>
    Task<UserWithGroups?> UpdateUserAsync(long id, UserChanges changes, CancellationToken ct = default);

    /// <exception cref="DuplicateUsernameException">The username is taken.</exception>
    /// <exception cref="MissingReferenceException">A group to join does not exist; no user was created.</exception>
    Task<User> CreateUserAsync(NewUser user, CancellationToken ct = default);

    /// <summary>
    /// Sets the encoded password and, in the same transaction, ends every session of the user but
    /// <paramref name="kept"/>, which is re-tied to the new password (Django's update_session_auth_hash), and every API token.
    /// </summary>
    /// <returns>How many of the user's sessions it ended.</returns>
    Task<int> SetPasswordAsync(long userId, string encodedPassword, KeptSession? kept = null, CancellationToken ct = default);

    /// <summary>
    /// Activates or deactivates; deactivation ends every session of the user in the same transaction. API tokens stay, refused
    /// while the user is inactive (DRF's "User inactive or deleted."), as DRF keeps a deactivated user's token.
    /// </summary>
    Task SetActiveAsync(long userId, bool isActive, CancellationToken ct = default);

    /// <summary>Deletes the user, their sessions and memberships.</summary>
    Task DeleteUserAsync(long userId, CancellationToken ct = default);

    /// <summary>
    /// The user as the database has it this moment, past the read cache: for password reset tokens, which are computed over
    /// the last login (a write that is not announced to the cache).
    /// </summary>
    Task<User?> FindUserByIdUncachedAsync(long id, CancellationToken ct = default);

    /// <summary>A user whose name equals <paramref name="username"/> ignoring case (Django's UserCreationForm looks so).</summary>
    Task<User?> FindUserByUsernameIgnoringCaseAsync(string username, CancellationToken ct = default);

    /// <summary>The users whose address equals <paramref name="email"/> ignoring case, uncached (for e-mails to send).</summary>
    Task<IReadOnlyList<User>> FindUsersByEmailAsync(string email, CancellationToken ct = default);

    /// <summary>The address last verified for the user, if any: the user's address is verified when it is this one.</summary>
    Task<string?> FindVerifiedEmailAsync(long userId, CancellationToken ct = default);

    /// <summary>Marks <paramref name="email"/> verified for the user; false if it is no longer the user's address.</summary>
    Task<bool> MarkEmailVerifiedAsync(long userId, string email, CancellationToken ct = default);

    /// <summary>Records a successful login; with an upgraded hash, rewrites the password and re-ties the user's sessions to it.</summary>
    Task RecordLoginAsync(long userId, DateTimeOffset at, PasswordUpgrade? upgrade, CancellationToken ct = default);
}

/// <summary>The session that asked for a password change, and its auth hash under the new password.</summary>
public sealed record KeptSession(string Key, string AuthHash);

/// <summary>A password re-hashed at login (more iterations), and the session auth hashes before and after.</summary>
public sealed record PasswordUpgrade(string EncodedPassword, string OldAuthHash, string NewAuthHash);

public interface IGroupStore
{
    /// <exception cref="DuplicateGroupNameException">The name is taken.</exception>
    Task<Group> CreateGroupAsync(string name, CancellationToken ct = default);
    Task<Group?> FindGroupByNameAsync(string name, CancellationToken ct = default);
    Task<Group?> FindGroupByIdAsync(long id, CancellationToken ct = default);
    Task<long> CountGroupsAsync(CancellationToken ct = default);

    /// <summary>A page of groups in id order.</summary>
    Task<IReadOnlyList<Group>> ListGroupsAsync(int offset, int limit, CancellationToken ct = default);

    /// <summary>Which of <paramref name="ids"/> name existing groups.</summary>
    Task<IReadOnlySet<long>> FindExistingGroupIdsAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default);

    /// <exception cref="DuplicateGroupNameException">The name is taken.</exception>
    Task<Group?> RenameGroupAsync(long id, string name, CancellationToken ct = default);

    /// <summary>Deletes the group and its memberships; false if there was none.</summary>
    Task<bool> DeleteGroupAsync(long id, CancellationToken ct = default);
    /// <exception cref="MissingReferenceException">There is no such user or group.</exception>
    Task AddUserToGroupAsync(long userId, long groupId, CancellationToken ct = default);
    Task<IReadOnlyList<Group>> ListGroupsOfUserAsync(long userId, CancellationToken ct = default);
}

public interface ISessionStore
{
    /// <summary>The session with this key and its user, if it exists and has not expired at <paramref name="now"/>.</summary>
    Task<SessionWithUser?> FindLiveSessionAsync(string key, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>
    /// Stores a new session; deletes <paramref name="replacedKey"/> in the same transaction (a login ends the session
    /// it replaces).
    /// </summary>
    /// <exception cref="MissingReferenceException">The user was deleted meanwhile; nothing changed.</exception>
    Task CreateSessionAsync(SessionRecord session, string? replacedKey, CancellationToken ct = default);

    Task DeleteSessionAsync(string key, CancellationToken ct = default);
    /// <summary>Records the session's last use; with <paramref name="expiresAt"/>, also moves its expiry (sliding expiration).</summary>
    Task TouchSessionAsync(string key, DateTimeOffset lastSeenAt, DateTimeOffset? expiresAt = null, CancellationToken ct = default);
    Task<IReadOnlyList<SessionRecord>> ListLiveSessionsOfUserAsync(long userId, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>
    /// Once the user has more than <paramref name="beyond"/> sessions, ends all but the newest <paramref name="keep"/>;
    /// returns how many ended.
    /// </summary>
    Task<int> EndOldestSessionsOfUserAsync(long userId, int keep, int beyond, CancellationToken ct = default);

    /// <summary>Deletes the user's sessions except <paramref name="exceptKey"/>; returns how many.</summary>
    Task<int> DeleteSessionsOfUserAsync(long userId, string? exceptKey, CancellationToken ct = default);

    /// <summary>Deletes sessions expired at <paramref name="now"/>; returns how many.</summary>
    Task<int> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct = default);
}

/// <summary>Schema and instance-wide settings.</summary>
public interface IStoreAdministration
{
    /// <summary>Creates or migrates the schema to the current version. Safe to run on every start and from several instances.</summary>
    Task MigrateAsync(CancellationToken ct = default);

    /// <summary>
    /// The stored value of <paramref name="name"/>, created with <paramref name="create"/> if absent (first writer
    /// wins).
    /// </summary>
    Task<string> GetOrCreateSettingAsync(string name, Func<string> create, CancellationToken ct = default);

    /// <summary>Runs a trivial query (<c>SELECT 1</c>) against the database itself, for the readiness probe.</summary>
    /// <exception cref="StoreUnavailableException">The database does not answer.</exception>
    Task PingAsync(CancellationToken ct = default);
}

/// <summary>
/// The throttle's counters (Throttling/LoginThrottle.cs, Throttling/RequestRateLimiter.cs), shared by every instance.
/// Implementations: the database (<see cref="DatabaseThrottleStore"/>, a row per key) and Redis
/// (<see cref="RedisThrottleStore"/>, a hash per key), the same rules in both, each change one atomic statement or script so
/// that concurrent instances never lose a count. Times are the caller's (its <see cref="TimeProvider"/>), never the store's.
/// </summary>
public interface IThrottleStore
{
    /// <summary>
    /// When the later lock of the account and the address ends (null when neither is locked at <paramref name="now"/>),
    /// and whether the account has a count at all (a successful login then has one to clear; usually it has none, and
    /// writes nothing).
    /// </summary>
    Task<(DateTimeOffset? LockedUntil, bool AccountCounted)> ReadAsync(string accountKey, string? addressKey, DateTimeOffset now,
        CancellationToken ct);

    /// <summary>
    /// Counts one failure (or one request against a rate) and returns the count: it starts again at 1 when the key has been
    /// quiet (no count, no lock) for a whole <paramref name="window"/>.
    /// </summary>
    Task<long> CountAsync(string key, DateTimeOffset now, TimeSpan window, CancellationToken ct);

    /// <summary>
    /// Locks a counted key until <paramref name="until"/>, unless a longer lock already holds it; the key is not quiet
    /// before the lock ends.
    /// </summary>
    Task LockAsync(string key, DateTimeOffset until, CancellationToken ct);

    /// <summary>Forgets the key's count and lock.</summary>
    Task ClearAsync(string key, CancellationToken ct);
}
