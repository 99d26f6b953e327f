using System.Security.Cryptography;
using StackExchange.Redis;

namespace Postern.Server.Storage.Caching;

/// <summary>
/// The change token of instances that share a PostgreSQL database: a counter in Redis that every write bumps
/// (before it, and again after its commit, before its response) and every cached read checks. While Redis cannot
/// be reached the token is unknown and reads go to the database, so an outage costs speed, never correctness.
/// </summary>
public sealed class RedisChangeCounter : IStoreChangeSignal
{
    private const string CounterKey = "postern:store-changes";

    /// <summary>
    /// Starts a missing counter at a random value before counting: after Redis restarts empty, a plain INCR would
    /// count 1, 2, 3 again. (Tokens also name the connection they were read on, see <see cref="CurrentAsync"/>.)
    /// </summary>
    private static readonly LuaScript Increment = LuaScript.Prepare(
        "if redis.call('EXISTS', @key) == 0 then redis.call('SET', @key, @start) end return redis.call('INCR', @key)");

    private readonly RedisConnection _redis;

    public RedisChangeCounter(RedisConnection redis) => _redis = redis;

    /// <summary>
    /// The counter, tagged with how many sockets this client has opened to Redis so far. A restarted Redis can hand
    /// back a counter seen before (appendonly keeps it; a snapshot or a lost last second of the append-only file may
    /// even roll it back) while this instance, idle during the outage, still caches results under it; but a restart
    /// always costs a new socket, so no token read after an outage equals one read before it. The client counts a
    /// socket before it carries any command, and a count that moved during the read makes the read unknown.
    /// </summary>
    public async ValueTask<ChangeToken?> CurrentAsync(CancellationToken ct)
    {
        var socket = SocketsOpened();
        if (!_redis.IsConnected)
            return null;
        var start = _redis.Metrics?.RedisStart() ?? 0;
        try
        {
            var db = _redis.Database;
            var value = await db.StringGetAsync(CounterKey);
            if (value.IsNull)
            {
                await db.StringSetAsync(CounterKey, RandomStart(), when: When.NotExists);
                value = await db.StringGetAsync(CounterKey);
            }
            _redis.Metrics?.RedisOperation("change_token", start);
            return value.TryParse(out long version) && SocketsOpened() == socket ? new ChangeToken(socket, version) : null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _redis.Metrics?.RedisError("change_token");
            return null;
        }
    }

    /// <exception cref="StoreUnavailableException">Redis does not answer.</exception>
    public async ValueTask AnnounceAsync(CancellationToken ct) =>
        await _redis.RunAsync("announce", db => Increment.EvaluateAsync(db, new { key = (RedisKey)CounterKey, start = RandomStart() }));

    private long SocketsOpened() => _redis.SocketsOpened;

    private static long RandomStart() => RandomNumberGenerator.GetInt32(int.MaxValue) * (long)int.MaxValue;
}

/// <summary>
/// The Redis connection when one is configured (null otherwise), for the cache's change counter, the throttle's counters
/// and the readiness probe.
/// </summary>
public sealed record RedisConnectionHolder(RedisConnection? Connection) : IDisposable
{
    public RedisChangeCounter? Counter { get; } = Connection is null ? null : new RedisChangeCounter(Connection);

    public void Dispose() => Connection?.Dispose();
}
