using System.Security.Cryptography;
using StackExchange.Redis;

namespace Postern.Server.Storage.Caching;

/// <summary>
/// The change token of instances that share a PostgreSQL database: a counter in Redis that every write bumps
/// (after its commit, before its response) and every cached read checks. While Redis cannot be reached the
/// token is unknown and reads go to the database, so an outage costs speed, never correctness.
/// </summary>
public sealed class RedisChangeCounter : IStoreChangeSignal, IDisposable
{
    private const string CounterKey = "postern:store-changes";

    /// <summary>
    /// Starts a missing counter at a random value before counting: after Redis restarts empty, a plain INCR would
    /// count 1, 2, 3 again and could meet a token some instance still has cached from before.
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
        options.ClientName ??= "postern";
        _redis = ConnectionMultiplexer.Connect(options);
    }

    public async ValueTask<long?> CurrentAsync(CancellationToken ct)
    {
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
            return value.TryParse(out long token) ? token : null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return null;
        }
    }

    public async ValueTask AnnounceAsync(CancellationToken ct)
    {
        try
        {
            await Increment.EvaluateAsync(_redis.GetDatabase(), new { key = (RedisKey)CounterKey, start = RandomStart() });
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Other instances that can reach Redis will not see this write until their cache generation ages out (ReadCache's maxAge).
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
            throw new StoreUnavailableException("Redis does not answer.", e);
        }
    }

    private static long RandomStart() => RandomNumberGenerator.GetInt32(int.MaxValue) * (long)int.MaxValue;

    public void Dispose() => _redis.Dispose();
}
