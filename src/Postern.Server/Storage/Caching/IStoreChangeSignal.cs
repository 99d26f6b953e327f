namespace Postern.Server.Storage.Caching;

/// <summary>
/// A version of the stored data as read over one connection. Versions read over different connections are not
/// comparable (a reopened SQLite connection counts afresh; a Redis that restarted may hand back an older counter),
/// so a token names the connection too, and a new connection never matches anything cached before it.
/// </summary>
public readonly record struct ChangeToken(long Connection, long Version);

/// <summary>
/// Tells an in-process cache whether the stored data may have changed since it last looked: a token that
/// differs after every committed write by any instance or process. This is what makes a cached session safe:
/// a logout on any instance changes the token before its response is sent, so the next request anywhere misses.
/// </summary>
public interface IStoreChangeSignal
{
    /// <summary>The current token, or null when it cannot be known now (the cache must then go to the database).</summary>
    ValueTask<ChangeToken?> CurrentAsync(CancellationToken ct);

    /// <summary>
    /// Moves the token on, for signals that cannot see writes themselves: called before a write that other instances
    /// must hear about, and again after it (committed or maybe committed).
    /// </summary>
    /// <exception cref="StoreUnavailableException">The token could not be moved on (Redis does not answer).</exception>
    ValueTask AnnounceAsync(CancellationToken ct);
}
