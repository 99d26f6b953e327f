namespace Postern.Server.Storage.Caching;

/// <summary>
/// The store seen through this instance's <see cref="ReadCache"/>: reads come from memory while the change
/// token stands still; every write goes to the database, empties the cache and announces itself. The hot path
/// of an authenticated request (its session and user, the page it asks for) then costs no query at all.
/// </summary>
public sealed class CachingStore(IUserStore users, IGroupStore groups, ISessionStore sessions, ReadCache cache, IStoreChangeSignal signal)
    : IUserStore, IGroupStore, ISessionStore
{
    internal ReadCache Cache => cache;

    internal IStoreChangeSignal Signal => signal;

    // ---- sessions

    /// <summary>Cached by key alone; expiry is checked against <paramref name="now"/> on every hit. Unknown keys are not cached (anyone can send many).</summary>
    public async Task<SessionWithUser?> FindLiveSessionAsync(string key, DateTimeOffset now, CancellationToken ct = default)
    {
        var found = await cache.GetOrLoadAsync(new ReadKey(ReadKind.LiveSession, Text: key),
            c => sessions.FindLiveSessionAsync(key, now, c), ct, keepIf: found => found is not null);
        return found is not null && found.Session.ExpiresAt > now ? found : null;
    }

    public Task CreateSessionAsync(SessionRecord session, string? replacedKey, CancellationToken ct = default) =>
        WriteAsync(c => sessions.CreateSessionAsync(session, replacedKey, c), ct);

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

    public Task<int> DeleteExpiredSessionsAsync(DateTimeOffset now, CancellationToken ct = default) =>
        WriteAsync(c => sessions.DeleteExpiredSessionsAsync(now, c), ct);

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

    public Task RecordLoginAsync(long userId, DateTimeOffset at, PasswordUpgrade? upgrade, CancellationToken ct = default) =>
        WriteAsync(c => users.RecordLoginAsync(userId, at, upgrade, c), ct);

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

    private async Task WriteAsync(Func<CancellationToken, Task> write, CancellationToken ct)
    {
        try
        {
            await write(ct);
        }
        finally
        {
            await ChangedAsync();
        }
    }

    private async Task<T> WriteAsync<T>(Func<CancellationToken, Task<T>> write, CancellationToken ct)
    {
        try
        {
            return await write(ct);
        }
        finally
        {
            await ChangedAsync();
        }
    }

    /// <summary>
    /// After every write, even a failed one (a lost connection may still have committed). Not cancellable: a client that
    /// hangs up after its logout was committed must not leave other instances serving the session.
    /// </summary>
    private async Task ChangedAsync()
    {
        cache.Clear();
        await signal.AnnounceAsync(CancellationToken.None);
    }
}
