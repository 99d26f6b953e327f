using System.Security.Cryptography;
using StackExchange.Redis;

namespace Postern.Server.Storage.Caching;

/// <summary>
/// The change token of instances that share a PostgreSQL database: a counter in Redis that every write bumps
/// (before it, and again after its commit, before its response) and every cached read checks. While Redis cannot
/// be reached the token is unknown and reads go to the database, so an outage costs speed, never correctness.
/// </summary>
public sealed class RedisChangeCounter : IStoreChangeSignal, IDisposable
{
    private const string CounterKey = "postern:store-changes";

    /// <summary>
    /// Starts a missing counter at a random value before counting: after Redis restarts empty, a plain INCR would
    /// count 1, 2, 3 again. (Tokens also name the connection they were read on, see <see cref="CurrentAsync"/>.)
    /// </summary>
    private static readonly LuaScript Increment = LuaScript.Prepare(
        "if redis.call('EXISTS', @key) == 0 then redis.call('SET', @key, @start) end return redis.call('INCR', @key)");

    private readonly ConnectionMultiplexer _redis;

    public RedisChangeCounter(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        // Start (and keep running) while Redis is down; fail commands fast instead of queueing them behind a reconnect.
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2000;
        options.AsyncTimeout = 1000;
        options.SyncTimeout = 1000;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        // Back within seconds of Redis: until then every read costs a query and every announced write is refused.
        options.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
        options.ClientName ??= "postern";
        Description = string.Join(",", options.EndPoints.Select(EndPointCollection.ToString));
        _redis = ConnectionMultiplexer.Connect(options);
    }

    /// <summary>Where Redis is (its endpoints, without any password), for messages.</summary>
    public string Description { get; }

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
        try
        {
            var db = _redis.GetDatabase();
            var value = await db.StringGetAsync(CounterKey);
            if (value.IsNull)
            {
                await db.StringSetAsync(CounterKey, RandomStart(), when: When.NotExists);
                value = await db.StringGetAsync(CounterKey);
            }
            return value.TryParse(out long version) && SocketsOpened() == socket ? new ChangeToken(socket, version) : null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return null;
        }
    }

    /// <exception cref="StoreUnavailableException">Redis does not answer.</exception>
    public async ValueTask AnnounceAsync(CancellationToken ct)
    {
        try
        {
            await Increment.EvaluateAsync(_redis.GetDatabase(), new { key = (RedisKey)CounterKey, start = RandomStart() });
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new StoreUnavailableException($"Redis at {Description} does not answer.", e);
        }
    }

    /// <summary>Asks Redis itself, for the readiness probe.</summary>
    /// <exception cref="StoreUnavailableException">Redis does not answer.</exception>
    public async Task PingAsync(CancellationToken ct)
    {
        try
        {
            await _redis.GetDatabase().PingAsync().WaitAsync(ct);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new StoreUnavailableException($"Redis at {Description} does not answer.", e);
        }
    }

    private long SocketsOpened() => _redis.GetCounters().Interactive.SocketCount;

    private static long RandomStart() => RandomNumberGenerator.GetInt32(int.MaxValue) * (long)int.MaxValue;

    public void Dispose() => _redis.Dispose();
}

/// <summary>The Redis connection when one is configured (null otherwise), for the cache and the readiness probe.</summary>
public sealed record RedisConnectionHolder(RedisChangeCounter? Counter) : IDisposable
{
    public void Dispose() => Counter?.Dispose();
}
