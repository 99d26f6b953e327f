using System.Collections.Concurrent;

namespace Postern.Server.Storage.Caching;

/// <summary>
/// A kind of read whose results the cache keeps (a user by id, a page of groups…): the first part of a
/// <see cref="ReadKey"/>. Declared once per store as a static field and compared by identity, so two stores never
/// share entries by picking the same name; the name is for people reading a key.
/// </summary>
public sealed class CachedQuery(string name)
{
    public string Name => name;

    public override string ToString() => name;
}

/// <summary>What a cached read was: the query and its arguments (a number or two, or a text).</summary>
public readonly record struct ReadKey(CachedQuery Query, long Number = 0, long Second = 0, string? Text = null);

/// <summary>
/// Results of store reads, kept while the store's change token stays the same. One generation of entries
/// per token: a different token starts an empty generation, so a write anywhere empties every cache before
/// the next read. Bounded in size (a full generation starts over) and in age (so an instance that cannot
/// see another's writes, e.g. cut off from Redis, is stale for seconds at most, never for ever).
/// </summary>
/// <param name="maxEntries">
/// 0 keeps nothing: every read goes to the database (the writes of a <see cref="Database"/> are still announced).
/// </param>
/// <param name="metrics">Counts hits and misses by query (<c>postern.read_cache.*</c>).</param>
public sealed class ReadCache(IStoreChangeSignal signal, TimeProvider time, int maxEntries, TimeSpan maxAge,
    Observability.PosternMetrics? metrics = null)
{
    private sealed record Generation(ChangeToken Token, long StartedAt, ConcurrentDictionary<ReadKey, object?> Entries);

    private Generation? _current;

    /// <summary>What tells whether the stored data changed, and what writes are announced to.</summary>
    internal IStoreChangeSignal Signal => signal;

    /// <summary>The token a request read at its first cached read, shared by its later reads (<see cref="BeginRequestScope"/>).</summary>
    internal sealed class RequestReads
    {
        public ReadCache? Cache;
        public ChangeToken Token;
    }

    private static readonly AsyncLocal<RequestReads?> CurrentRequest = new();

    /// <summary>
    /// Gives the reads made until the scope is disposed one change token: read at their first cached read, so after the
    /// request arrived, and any write committed before it arrived is seen. The later reads of a request (the session, then
    /// the user, the count and the page) then cost no second look at SQLite's data_version or Redis. Begin it in an async
    /// method (a middleware) that awaits the request: the scope then ends with that method and never flows into the next
    /// request on the same connection; disposing it also puts back the scope it was begun in.
    /// </summary>
    public static RequestScope BeginRequestScope()
    {
        var outer = CurrentRequest.Value;
        CurrentRequest.Value = new RequestReads();
        return new RequestScope(outer);
    }

    /// <summary>The reads of one request (<see cref="BeginRequestScope"/>); a struct: a request allocates only its token holder.</summary>
    public readonly struct RequestScope : IDisposable
    {
        private readonly RequestReads? _outer;

        internal RequestScope(RequestReads? outer) => _outer = outer;

        public void Dispose() => CurrentRequest.Value = _outer;
    }

    private async ValueTask<ChangeToken?> TokenAsync(CancellationToken ct)
    {
        var request = CurrentRequest.Value;
        if (request is not null && ReferenceEquals(request.Cache, this))
            return request.Token;
        var token = await signal.CurrentAsync(ct);
        // An unknown token is not kept: every read asks again, and goes to the database until one is known.
        if (token is { } known && request is { Cache: null })
        {
            request.Token = known;
            request.Cache = this;
        }
        return token;
    }

    /// <summary>
    /// The result kept for <paramref name="key"/> under the current token, or <paramref name="load"/>'s (given
    /// <paramref name="state"/>, so that a caller need not allocate a closure to pass its arguments), kept if
    /// <paramref name="keepIf"/> allows.
    /// </summary>
    internal async ValueTask<T> GetOrLoadAsync<TState, T>(ReadKey key, TState state, Func<TState, CancellationToken, Task<T>> load,
        CancellationToken ct, Func<T, bool>? keepIf = null)
    {
        if (maxEntries == 0)
            return await load(state, ct);
        var token = await TokenAsync(ct);
        if (token is null)
        {
            // Writes may be landing unseen (Redis is down, or the SQLite file is gone): nothing cached so far may be
            // served again, whatever token comes back later.
            Clear();
            metrics?.CacheMiss(key.Query.Name);
            return await load(state, ct);
        }
        var generation = GenerationFor(token.Value);
        if (generation.Entries.TryGetValue(key, out var cached))
        {
            metrics?.CacheHit(key.Query.Name);
            return (T)cached!;
        }
        metrics?.CacheMiss(key.Query.Name);
        // Loaded after the token was read: if a write lands in between, the token moves on and this generation is dropped.
        var loaded = await load(state, ct);
        if (keepIf is null || keepIf(loaded))
        {
            if (generation.Entries.Count >= maxEntries)
                Interlocked.CompareExchange(ref _current, null, generation);
            else
                generation.Entries[key] = loaded;
        }
        return loaded;
    }

    /// <summary>Replaces a cached result in place, for changes that only this instance needs to see at once (last_seen_at).</summary>
    internal void Update<T>(ReadKey key, Func<T, T> change) where T : class
    {
        var generation = Volatile.Read(ref _current);
        if (generation is not null && generation.Entries.TryGetValue(key, out var cached) && cached is T value)
            generation.Entries.TryUpdate(key, change(value), cached);
    }

    /// <summary>How many results the current generation holds.</summary>
    internal int Count => Volatile.Read(ref _current)?.Entries.Count ?? 0;

    /// <summary>Whether the current generation holds this read's result.</summary>
    internal bool Holds(ReadKey key) => Volatile.Read(ref _current)?.Entries.ContainsKey(key) ?? false;

    /// <summary>Forgets everything: this instance just wrote, or lost sight of the token.</summary>
    public void Clear() => Volatile.Write(ref _current, null);

    private Generation GenerationFor(ChangeToken token)
    {
        var current = Volatile.Read(ref _current);
        var now = time.GetTimestamp();
        if (current is not null && current.Token == token && time.GetElapsedTime(current.StartedAt, now) < maxAge)
            return current;
        var fresh = new Generation(token, now, new ConcurrentDictionary<ReadKey, object?>());
        var raced = Interlocked.CompareExchange(ref _current, fresh, current);
        return ReferenceEquals(raced, current) ? fresh : raced is not null && raced.Token == token ? raced : fresh;
    }
}
