using StackExchange.Redis;
using static Postern.Server.Storage.StoredRows;

namespace Postern.Server.Storage;

/// <summary>
/// The throttle's counters in Redis, for instances that share one (<c>Postern:Redis</c>): a hash per key,
/// <c>postern:throttle:KEY</c>, with the fields of a <c>login_throttles</c> row (<c>failures</c>, <c>quiet</c> and
/// <c>locked</c>, in microseconds of the caller's clock) and the same rules as <see cref="DatabaseThrottleStore"/>'s SQL,
/// each change one Lua script, so that counts from many instances at once are never lost. A key expires once it has been
/// quiet for its window: by then its next failure would count 1 again and its lock has ended, so nothing is forgotten that
/// mattered, and Redis holds only live keys. Expiries are relative (<c>PEXPIRE</c>), so the caller's clock need not be
/// Redis's. A Redis that does not answer is a <see cref="StoreUnavailableException"/>, a 503.
/// </summary>
public sealed class RedisThrottleStore(RedisConnection redis) : IThrottleStore
{
    public const string KeyPrefix = "postern:throttle:";

    // Lua numbers are doubles: microseconds since 1970 (about 2^51) are exact. Times are stored as the strings they came
    // as, since Lua would write a number that long in exponent notation.
    private static readonly LuaScript Read = LuaScript.Prepare(
        """
        local account = redis.call('HGET', @account, 'locked')
        local address = redis.call('HGET', @address, 'locked')
        return { account or '', address or '' }
        """);

    private static readonly LuaScript Count = LuaScript.Prepare(
        """
        local now = tonumber(@now)
        local window = tonumber(@window)
        local quiet = tonumber(redis.call('HGET', @key, 'quiet'))
        local failures = 1
        if quiet == nil then
            redis.call('HSET', @key, 'failures', 1, 'quiet', @now, 'locked', 0)
            quiet = now
        else
            if quiet > now - window then
                failures = tonumber(redis.call('HGET', @key, 'failures')) + 1
            end
            redis.call('HSET', @key, 'failures', failures)
            if now > quiet then
                redis.call('HSET', @key, 'quiet', @now)
                quiet = now
            end
        end
        redis.call('PEXPIRE', @key, math.ceil((quiet - now + window) / 1000))
        return failures
        """);

    /// <summary>
    /// A lock moves the key's quiet time to its end, and its expiry as far: kept a window beyond the lock, as counted (the
    /// window is in the expiry <see cref="Count"/> set).
    /// </summary>
    private static readonly LuaScript Lock = LuaScript.Prepare(
        """
        local locked = redis.call('HGET', @key, 'locked')
        local untilMicros = tonumber(@until)
        if not locked or tonumber(locked) >= untilMicros then
            return 0
        end
        redis.call('HSET', @key, 'locked', @until)
        local quiet = tonumber(redis.call('HGET', @key, 'quiet'))
        if untilMicros > quiet then
            redis.call('HSET', @key, 'quiet', @until)
            local ttl = redis.call('PTTL', @key)
            if ttl > 0 then
                redis.call('PEXPIRE', @key, ttl + math.ceil((untilMicros - quiet) / 1000))
            end
        end
        return 1
        """);

    public Task<(DateTimeOffset? LockedUntil, bool AccountCounted)> ReadAsync(string accountKey, string? addressKey, DateTimeOffset now,
        CancellationToken ct) =>
        redis.RunAsync("throttle", async db =>
        {
            var found = (RedisResult[])(await Read.EvaluateAsync(db,
                new { account = Key(accountKey), address = Key(addressKey ?? accountKey) }))!;
            var account = (string?)found[0] ?? "";
            var until = found.Select(locked => long.TryParse((string?)locked, out var micros) ? micros : 0).Max();
            return (until > Micros(now) ? FromMicros(until) : (DateTimeOffset?)null, account.Length > 0);
        });

    public Task<long> CountAsync(string key, DateTimeOffset now, TimeSpan window, CancellationToken ct) =>
        redis.RunAsync("throttle", async db => (long)await Count.EvaluateAsync(db,
            new { key = Key(key), now = Micros(now), window = window.Ticks / TimeSpan.TicksPerMicrosecond }));

    public Task LockAsync(string key, DateTimeOffset until, CancellationToken ct) =>
        redis.RunAsync("throttle", db => Lock.EvaluateAsync(db, new { key = Key(key), until = Micros(until) }));

    public Task ClearAsync(string key, CancellationToken ct) => redis.RunAsync("throttle", db => db.KeyDeleteAsync(Key(key)));

    private static RedisKey Key(string key) => KeyPrefix + key;
}
