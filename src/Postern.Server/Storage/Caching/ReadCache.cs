using System.Collections.Concurrent;

namespace Postern.Server.Storage.Caching;

/// <summary>What a cached read was: the store method and its arguments.</summary>
internal readonly record struct ReadKey(ReadKind Kind, long Number = 0, long Second = 0, string? Text = null);

internal enum ReadKind
{
    LiveSession,
    UserById,
    UserByName,
    UserWithGroups,
    UserCount,
    UserPage,
    GroupById,
    GroupByName,
    GroupCount,
    GroupPage,
    GroupsOfUser,
}

/// <summary>
/// Results of store reads, kept while the store's change token stays the same. One generation of entries
/// per token: a different token starts an empty generation, so a write anywhere empties every cache before
/// the next read. Bounded in size (a full generation starts over) and in age (so an instance that cannot
/// see another's writes, e.g. cut off from Redis, is stale for seconds at most, never for ever).
/// </summary>
/// <param name="maxEntries">0 keeps nothing: every read goes to the database (the writes of a CachingStore are still announced).</param>
public sealed class ReadCache(IStoreChangeSignal signal, TimeProvider time, int maxEntries, TimeSpan maxAge)
{
    private sealed record Generation(ChangeToken Token, long StartedAt, ConcurrentDictionary<ReadKey, object?> Entries);

    private Generation? _current;

    /// <summary>The token one request read at its first cached read, shared by its later reads (see <see cref="BeginRequestAsync"/>).</summary>
    private sealed class RequestReads
    {
        public ReadCache? Cache;
        public ChangeToken Token;
    }

    private static readonly AsyncLocal<RequestReads?> CurrentRequest = new();

    /// <summary>
    /// Runs <paramref name="request"/> with one change token for all its reads: read at its first cached read, so after the
    /// request arrived, and any write committed before it arrived is seen. Its later reads (the session, then the user, the
    /// count and the page) then cost no second look at SQLite's data_version or Redis. An async method, so the scope ends
    /// with the request and never flows into the next request on the same connection.
    /// </summary>
    public static async Task BeginRequestAsync(HttpContext context, RequestDelegate request)
    {
        CurrentRequest.Value = new RequestReads();
        await request(context);
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

    internal async ValueTask<T> GetOrLoadAsync<T>(ReadKey key, Func<CancellationToken, Task<T>> load, CancellationToken ct, Func<T, bool>? keepIf = null)
    {
        if (maxEntries == 0)
            return await load(ct);
        var token = await TokenAsync(ct);
        if (token is null)
        {
            // Writes may be landing unseen (Redis is down, or the SQLite file is gone): nothing cached so far may be
            // served again, whatever token comes back later.
            Clear();
            return await load(ct);
        }
        var generation = GenerationFor(token.Value);
        if (generation.Entries.TryGetValue(key, out var cached))
            return (T)cached!;
        // Loaded after the token was read: if a write lands in between, the token moves on and this generation is dropped.
        var loaded = await load(ct);
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
