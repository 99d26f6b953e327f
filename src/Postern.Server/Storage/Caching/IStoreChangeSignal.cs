namespace Postern.Server.Storage.Caching;

/// <summary>
/// Tells an in-process cache whether the stored data may have changed since it last looked: a token that
/// differs after every committed write by any instance or process. This is what makes a cached session safe:
/// a logout on any instance changes the token before its response is sent, so the next request anywhere misses.
/// </summary>
public interface IStoreChangeSignal
{
    /// <summary>The current token, or null when it cannot be known now (the cache must then go to the database).</summary>
    ValueTask<long?> CurrentAsync(CancellationToken ct);

    /// <summary>Called after this instance wrote (committed or maybe committed), for signals that cannot see writes themselves.</summary>
    ValueTask AnnounceAsync(CancellationToken ct);
}
