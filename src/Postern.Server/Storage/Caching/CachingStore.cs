using Postern.Server.Hosting;

namespace Postern.Server.Storage.Caching;

/// <summary>
/// The store seen through this instance's <see cref="ReadCache"/>: reads come from memory while the change
/// token stands still; every write goes to the database, empties the cache and announces itself. The hot path
/// of an authenticated request (its session and user, the page it asks for) then costs no query at all.
/// </summary>
public sealed class CachingStore(IUserStore users, IGroupStore groups, ISessionStore sessions, ReadCache cache, IStoreChangeSignal signal,
    ILogger<CachingStore> logger) : IUserStore, IGroupStore, ISessionStore
{
    internal ReadCache Cache => cache;

    /// <summary>Whether this instance would answer a request carrying this session key from memory.</summary>
    internal bool HoldsSession(string key) => cache.Holds(new ReadKey(ReadKind.LiveSession, Text: key));

    internal IStoreChangeSignal Signal => signal;

    // ---- sessions

    /// <summary>Cached by key alone; expiry is checked against <paramref name="now"/> on every hit. Unknown keys are not cached (anyone can send many).</summary>
    public async Task<SessionWithUser?> FindLiveSessionAsync(string key, DateTimeOffset now, CancellationToken ct = default)
    {
        var found = await cache.GetOrLoadAsync(new ReadKey(ReadKind.LiveSession, Text: key),
            c => sessions.FindLiveSessionAsync(key, now, c), ct, keepIf: found => found is not null);
        return found is not null && found.Session.ExpiresAt > now ? found : null;
    }

    /// <summary>
    /// A brand-new key is not announced: no cache anywhere can hold it (unknown keys are never cached), so a login flood
    /// does not empty every instance's cache, and logins go on while Redis is away. Ending the replaced session is announced.
    /// </summary>
    public Task CreateSessionAsync(SessionRecord session, string? replacedKey, CancellationToken ct = default) =>
        replacedKey is null
            ? sessions.CreateSessionAsync(session, null, ct)
            : WriteAsync(c => sessions.CreateSessionAsync(session, replacedKey, c), ct);

    public Task DeleteSessionAsync(string key, CancellationToken ct = default) => WriteAsync(c => sessions.DeleteSessionAsync(key, c), ct);

    /// <summary>
    /// Only when the session was last seen: nothing another instance caches depends on it, so it is not announced
    /// (a busy site would otherwise empty every cache many times a second). This instance's copy is updated so it
    /// does not touch again at once.
    /// </summary>
    public async Task TouchSessionAsync(string key, DateTimeOffset lastSeenAt, CancellationToken ct = default)
    {
        await sessions.TouchSessionAsync(key, lastSeenAt, ct);
        cache.Update<SessionWithUser>(new ReadKey(ReadKind.LiveSession, Text: key),
            found => found with { Session = found.Session with { LastSeenAt = lastSeenAt } });
    }

    /// <summary>Not cached: shown rarely, and its last-seen times would lag.</summary>
    public Task<IReadOnlyList<SessionRecord>> ListLiveSessionsOfUserAsync(long userId, DateTimeOffset now, CancellationToken ct = default) =>
        sessions.ListLiveSessionsOfUserAsync(userId, now, ct);

    public Task<int> DeleteSessionsOfUserAsync(long userId, string? exceptKey, CancellationToken ct = default) =>
        WriteAsync(c => sessions.DeleteSessionsOfUserAsync(userId, exceptKey, c), ct);

    /// <summary>Not announced: a cached session is checked against its expiry on every hit, so no cached read depends on expired rows.</summary>
    public Task<int> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct = default) =>
        sessions.DeleteExpiredSessionsAsync(now, ct);

    // ---- users

    public Task<User?> FindUserByUsernameAsync(string username, CancellationToken ct = default) =>
        ReadAsync(new ReadKey(ReadKind.UserByName, Text: username), c => users.FindUserByUsernameAsync(username, c), ct);

    public Task<User?> FindUserByIdAsync(long id, CancellationToken ct = default) =>
        ReadAsync(new ReadKey(ReadKind.UserById, id), c => users.FindUserByIdAsync(id, c), ct);

    public Task<long> CountUsersAsync(CancellationToken ct = default) =>
        ReadAsync(new ReadKey(ReadKind.UserCount), users.CountUsersAsync, ct);

    public Task<IReadOnlyList<UserWithGroups>> ListUsersAsync(int offset, int limit, CancellationToken ct = default) =>
        ReadAsync(new ReadKey(ReadKind.UserPage, offset, limit), c => users.ListUsersAsync(offset, limit, c), ct);

    public Task<UserWithGroups?> FindUserWithGroupsAsync(long id, CancellationToken ct = default) =>
        ReadAsync(new ReadKey(ReadKind.UserWithGroups, id), c => users.FindUserWithGroupsAsync(id, c), ct);

    public Task<UserWithGroups?> UpdateUserAsync(long id, UserChanges changes, CancellationToken ct = default) =>
        WriteAsync(c => users.UpdateUserAsync(id, changes, c), ct);

    public Task<User> CreateUserAsync(NewUser user, CancellationToken ct = default) => WriteAsync(c => users.CreateUserAsync(user, c), ct);

    public Task SetPasswordAsync(long userId, string encodedPassword, KeptSession? kept = null, CancellationToken ct = default) =>
        WriteAsync(c => users.SetPasswordAsync(userId, encodedPassword, kept, c), ct);

    public Task SetActiveAsync(long userId, bool isActive, CancellationToken ct = default) =>
        WriteAsync(c => users.SetActiveAsync(userId, isActive, c), ct);

    public Task DeleteUserAsync(long userId, CancellationToken ct = default) => WriteAsync(c => users.DeleteUserAsync(userId, c), ct);

    /// <summary>Without an upgraded hash only last_login changes, which no answer shows: not announced, as for a new session.</summary>
    public Task RecordLoginAsync(long userId, DateTimeOffset at, PasswordUpgrade? upgrade, CancellationToken ct = default) =>
        upgrade is null
            ? users.RecordLoginAsync(userId, at, null, ct)
            : WriteAsync(c => users.RecordLoginAsync(userId, at, upgrade, c), ct);

    // ---- groups

    public Task<Group> CreateGroupAsync(string name, CancellationToken ct = default) => WriteAsync(c => groups.CreateGroupAsync(name, c), ct);

    public Task<Group?> FindGroupByNameAsync(string name, CancellationToken ct = default) =>
        ReadAsync(new ReadKey(ReadKind.GroupByName, Text: name), c => groups.FindGroupByNameAsync(name, c), ct);

    public Task<Group?> FindGroupByIdAsync(long id, CancellationToken ct = default) =>
        ReadAsync(new ReadKey(ReadKind.GroupById, id), c => groups.FindGroupByIdAsync(id, c), ct);

    public Task<long> CountGroupsAsync(CancellationToken ct = default) =>
        ReadAsync(new ReadKey(ReadKind.GroupCount), groups.CountGroupsAsync, ct);

    public Task<IReadOnlyList<Group>> ListGroupsAsync(int offset, int limit, CancellationToken ct = default) =>
        ReadAsync(new ReadKey(ReadKind.GroupPage, offset, limit), c => groups.ListGroupsAsync(offset, limit, c), ct);

    /// <summary>Not cached: only writes ask it, and its argument is a set.</summary>
    public Task<IReadOnlySet<long>> FindExistingGroupIdsAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default) =>
        groups.FindExistingGroupIdsAsync(ids, ct);

    public Task<Group?> RenameGroupAsync(long id, string name, CancellationToken ct = default) =>
        WriteAsync(c => groups.RenameGroupAsync(id, name, c), ct);

    public Task<bool> DeleteGroupAsync(long id, CancellationToken ct = default) => WriteAsync(c => groups.DeleteGroupAsync(id, c), ct);

    public Task AddUserToGroupAsync(long userId, long groupId, CancellationToken ct = default) =>
        WriteAsync(c => groups.AddUserToGroupAsync(userId, groupId, c), ct);

    public Task<IReadOnlyList<Group>> ListGroupsOfUserAsync(long userId, CancellationToken ct = default) =>
        ReadAsync(new ReadKey(ReadKind.GroupsOfUser, userId), c => groups.ListGroupsOfUserAsync(userId, c), ct);

    // ----

    private Task<T> ReadAsync<T>(ReadKey key, Func<CancellationToken, Task<T>> load, CancellationToken ct) =>
        cache.GetOrLoadAsync(key, load, ct).AsTask();

    /// <summary>
    /// A write other instances must hear about, announced twice. Before it: if Redis cannot be told, the write is refused
    /// (<see cref="StoreUnavailableException"/>, a 503) instead of committed unseen, for instances that still reach Redis
    /// would go on serving what it changed. After it, even when it failed (a lost connection may still have committed):
    /// another instance reading between the first announcement and the commit may have cached the old rows under the new token.
    /// </summary>
    private async Task<T> WriteAsync<T>(Func<CancellationToken, Task<T>> write, CancellationToken ct)
    {
        await signal.AnnounceAsync(ct);
        try
        {
            return await write(ct);
        }
        finally
        {
            await ChangedAsync();
        }
    }

    private async Task WriteAsync(Func<CancellationToken, Task> write, CancellationToken ct)
    {
        await signal.AnnounceAsync(ct);
        try
        {
            await write(ct);
        }
        finally
        {
            await ChangedAsync();
        }
    }

    /// <summary>
    /// Not cancellable: a client that hangs up after its logout was committed must not leave other instances serving the
    /// session. If Redis went away since the first announcement, every instance that reads the token loses its connection
    /// too and forgets what it cached; only one cut off from this instance alone may serve stale reads, up to the cache's maxAge.
    /// </summary>
    private async Task ChangedAsync()
    {
        cache.Clear();
        try
        {
            await signal.AnnounceAsync(CancellationToken.None);
        }
        catch (StoreUnavailableException e)
        {
            logger.WriteNotAnnounced(e);
        }
    }
}
