using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Server.Observability;
using Postern.Server.Storage;

namespace Postern.Server.Sessions;

/// <summary>Opens, resolves and ends server-side sessions; knows nothing of cookies or HTTP.</summary>
public sealed class SessionManager(ISessionStore store, SessionAuthHash authHash, IOptions<ServerSessionOptions> options, TimeProvider time,
    PosternMetrics? metrics = null)
{
    /// <summary>last_seen_at is written at most this often per session, so reads stay reads.</summary>
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);
    private const int MaxUserAgentLength = 512;

    public int AgeSeconds => options.Value.AgeSeconds;

    /// <summary>How many live sessions a user keeps at most (0: no bound).</summary>
    public int MaxPerUser => options.Value.MaxPerUser;

    /// <summary>
    /// The live session behind <paramref name="key"/>, or null. A session whose user was deactivated or whose password
    /// changed is deleted on sight.
    /// </summary>
    /// <returns>The session, and whether its expiry just moved (the cookie goes out again with the new age).</returns>
    public async Task<(SessionWithUser? Found, bool Extended)> ResolveAsync(string key, CancellationToken ct)
    {
        if (!SessionKey.IsWellFormed(key))
            return (null, false);
        var now = time.GetUtcNow();
        var found = await store.FindLiveSessionAsync(key, now, ct);
        if (found is null)
            return (null, false);
        if (!found.User.IsActive || !AuthHashMatches(found))
        {
            await store.DeleteSessionAsync(key, ct);
            metrics?.SessionsEnded(found.User.IsActive ? PosternMetrics.EndReasons.PasswordChanged : PosternMetrics.EndReasons.Deactivated);
            return (null, false);
        }
        if (now - found.Session.LastSeenAt <= TouchInterval)
            return (found, false);
        var sliding = options.Value.SlidingExpiration;
        DateTimeOffset? expiresAt = sliding ? now.AddSeconds(AgeSeconds) : null;
        await store.TouchSessionAsync(key, now, expiresAt, ct);
        return sliding ? (found with { Session = found.Session with { LastSeenAt = now, ExpiresAt = expiresAt!.Value } }, true) : (found, false);
    }

    /// <summary>
    /// Results read from the store's cache are the same objects request after request: each is checked once, not an
    /// HMAC per request. A changed password or session comes back from the store as a new object and is checked anew.
    /// </summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SessionWithUser, object> _checked = [];

    private bool AuthHashMatches(SessionWithUser found)
    {
        if (_checked.TryGetValue(found, out _))
            return true;
        if (!authHash.Matches(found.Session.AuthHash, found.User.Password))
            return false;
        _checked.TryAdd(found, found);
        return true;
    }

    /// <summary>
    /// A brand-new session for <paramref name="user"/>. The session the request came with, if any, is
    /// deleted: keys are never reused across a login, so a key planted before login (session fixation) is worthless.
    /// </summary>
    /// <returns>The session, and how many of the user's oldest sessions ended to keep them within MaxPerUser.</returns>
    public async Task<(SessionRecord Session, int Trimmed)> OpenAsync(User user, string? replacedKey, string? userAgent, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (userAgent is { Length: > MaxUserAgentLength })
            userAgent = userAgent[..MaxUserAgentLength];
        var session = new SessionRecord(
            SessionKey.New(), user.Id, authHash.For(user.Password), now, now, now.AddSeconds(AgeSeconds), userAgent);
        await store.CreateSessionAsync(session, replacedKey is not null && SessionKey.IsWellFormed(replacedKey) ? replacedKey : null, ct);
        var trimmed = options.Value.MaxPerUser is > 0 and var keep
            ? await store.EndOldestSessionsOfUserAsync(user.Id, keep, beyond: keep + Math.Max(1, keep / 10), ct)
            : 0;
        metrics?.SessionOpened();
        metrics?.SessionsEnded(PosternMetrics.EndReasons.Trimmed, trimmed);
        return (session, trimmed);
    }

    public Task EndAsync(string key, CancellationToken ct) =>
        SessionKey.IsWellFormed(key) ? store.DeleteSessionAsync(key, ct) : Task.CompletedTask;

    /// <summary>Counts a logout that ended a signed-in session (<c>postern.logouts</c>, <c>postern.sessions.ended</c>).</summary>
    public void CountLogout()
    {
        metrics?.Logout();
        metrics?.SessionsEnded(PosternMetrics.EndReasons.Logout);
    }
}
