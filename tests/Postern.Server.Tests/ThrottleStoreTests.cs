using System.Net;
using Microsoft.Extensions.Options;
using Postern.Server.Storage;
using Postern.Server.Throttling;
using Postern.Testing;
using StackExchange.Redis;

namespace Postern.Server.Tests;

/// <summary>
/// The rules every <see cref="IThrottleStore"/> keeps, played against each on a clock the test moves: the database's
/// (SQLite, or PostgreSQL with POSTERN_TEST_STORE=postgres) and a private redis-server's. The throttle and the rate limiter
/// on top of them must not be able to tell which one they count in.
/// </summary>
public abstract class ThrottleStoreContract : IAsyncLifetime
{
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    private static readonly IPAddress Address = IPAddress.Parse("192.0.2.7");

    // Whole microseconds, as both stores keep time.
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    protected IThrottleStore Store { get; private set; } = null!;

    /// <summary>A new, empty store.</summary>
    protected abstract Task<IThrottleStore> OpenAsync();

    public virtual async Task InitializeAsync() => Store = await OpenAsync();

    public abstract Task DisposeAsync();

    private static string NewKey() => "test:" + Guid.NewGuid().ToString("N");

    private LoginThrottle Throttle(ThrottlingOptions? options = null) =>
        new(Store, Options.Create(options ?? new ThrottlingOptions()), _clock);

    [Fact]
    public async Task CountsStartAgainOnlyAfterAWholeQuietWindow()
    {
        var key = NewKey();
        var start = _clock.Now;
        Assert.Equal(1, await Store.CountAsync(key, start, Window, default));
        Assert.Equal(2, await Store.CountAsync(key, start, Window, default));
        // Each failure restarts the quiet time: a window after the first, but not after the last, it goes on.
        Assert.Equal(3, await Store.CountAsync(key, start + Window - TimeSpan.FromSeconds(1), Window, default));
        Assert.Equal(4, await Store.CountAsync(key, start + Window + TimeSpan.FromSeconds(1), Window, default));
        Assert.Equal(1, await Store.CountAsync(key, start + Window + Window + TimeSpan.FromSeconds(1), Window, default));
        // Another key counts on its own.
        Assert.Equal(1, await Store.CountAsync(NewKey(), start, Window, default));
    }

    [Fact]
    public async Task ALockHoldsUntilItEndsNeverShortensAndKeepsTheKeyFromGoingQuiet()
    {
        var account = NewKey();
        var now = _clock.Now;
        Assert.Equal((null, false), await Store.ReadAsync(account, null, now, default));
        // A key never counted cannot be locked.
        await Store.LockAsync(account, now.AddMinutes(1), default);
        Assert.Equal((null, false), await Store.ReadAsync(account, null, now, default));

        await Store.CountAsync(account, now, Window, default);
        Assert.Equal((null, true), await Store.ReadAsync(account, null, now, default));
        await Store.LockAsync(account, now.AddMinutes(2), default);
        await Store.LockAsync(account, now.AddMinutes(1), default);
        Assert.Equal((now.AddMinutes(2), true), await Store.ReadAsync(account, null, now, default));
        Assert.Equal((now.AddMinutes(2), true), await Store.ReadAsync(account, null, now.AddMinutes(2).AddTicks(-10), default));
        Assert.Equal((null, true), await Store.ReadAsync(account, null, now.AddMinutes(2), default));

        // Quiet from the lock's end, not from the failure: a window after the failure the count goes on.
        Assert.Equal(2, await Store.CountAsync(account, now + Window + TimeSpan.FromSeconds(1), Window, default));
    }

    [Fact]
    public async Task TheLaterLockOfTheAccountAndTheAddressCounts()
    {
        var (account, address) = (NewKey(), NewKey());
        var now = _clock.Now;
        await Store.CountAsync(account, now, Window, default);
        await Store.CountAsync(address, now, Window, default);
        await Store.LockAsync(address, now.AddMinutes(3), default);
        await Store.LockAsync(account, now.AddMinutes(1), default);
        Assert.Equal((now.AddMinutes(3), true), await Store.ReadAsync(account, address, now, default));
        Assert.Equal((now.AddMinutes(3), false), await Store.ReadAsync(NewKey(), address, now, default));
        Assert.Equal((now.AddMinutes(1), true), await Store.ReadAsync(account, null, now, default));
    }

    [Fact]
    public async Task ClearingForgetsTheCountAndTheLock()
    {
        var key = NewKey();
        var now = _clock.Now;
        await Store.CountAsync(key, now, Window, default);
        await Store.CountAsync(key, now, Window, default);
        await Store.LockAsync(key, now.AddMinutes(1), default);
        await Store.ClearAsync(key, default);
        Assert.Equal((null, false), await Store.ReadAsync(key, null, now, default));
        Assert.Equal(1, await Store.CountAsync(key, now, Window, default));
        await Store.ClearAsync(NewKey(), default);
    }

    /// <summary>Many instances failing at once: every failure is counted, none lost to a race.</summary>
    [Fact]
    public async Task ConcurrentCountsAreNeverLost()
    {
        var key = NewKey();
        var now = _clock.Now;
        var counts = new System.Collections.Concurrent.ConcurrentBag<long>();
        // 16 at a time: as many as a few busy instances send, and within what the shared test cluster allows connections.
        await Parallel.ForAsync(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (_, ct) => counts.Add(await Store.CountAsync(key, now, Window, ct)));
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), counts.Order());
    }

    [Fact]
    public async Task TheLockDoublesUpToItsCapAndASuccessClearsTheAccountButNotTheAddress()
    {
        var throttle = Throttle();
        var username = "alice-" + Guid.NewGuid().ToString("N");
        for (var i = 0; i < 4; i++)
            await throttle.RecordFailureAsync(username, Address, default);
        Assert.Equal((0, true), await throttle.CheckAsync(username, Address, default));
        foreach (var seconds in (int[])[60, 120, 240, 480, 960, 1920, 3600, 3600])
        {
            await throttle.RecordFailureAsync(username, Address, default);
            Assert.Equal((seconds, true), await throttle.CheckAsync(username, Address, default));
            _clock.Now += TimeSpan.FromSeconds(seconds);
            Assert.Equal((0, true), await throttle.CheckAsync(username, Address, default));
        }
        await throttle.ClearAsync(username, default);
        Assert.Equal((0, false), await throttle.CheckAsync(username, Address, default));
        for (var i = 0; i < 4; i++)
            await throttle.RecordFailureAsync(username, Address, default);
        Assert.Equal((0, true), await throttle.CheckAsync(username, Address, default));

        // The address's count started again after the last quiet minute: 4, and 27 more within the minute are over 30. A
        // success does not undo that.
        for (var i = 0; i < 27; i++)
            await throttle.RecordFailureAsync("sprayed-" + i, Address, default);
        await throttle.ClearAsync(username, default);
        Assert.Equal((60, false), await throttle.CheckAsync(username, Address, default));
        _clock.Now += TimeSpan.FromSeconds(60);
        Assert.Equal((0, false), await throttle.CheckAsync(username, Address, default));
    }

    [Fact]
    public async Task RatesCountFixedWindows()
    {
        var limiter = new RequestRateLimiter(Store, Options.Create(new ThrottlingOptions()), _clock);
        var subject = Guid.NewGuid().ToString("N") + "@example.org";
        // 5/m, from the start of a minute.
        _clock.Now = new DateTimeOffset(_clock.Now.UtcTicks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero);
        for (var i = 0; i < 5; i++)
            Assert.Equal(0, await limiter.HitAsync(RateNames.PasswordResetPerEmail, subject, default));
        _clock.Now += TimeSpan.FromSeconds(20);
        Assert.Equal(40, await limiter.HitAsync(RateNames.PasswordResetPerEmail, subject, default));
        Assert.Equal(0, await limiter.HitAsync(RateNames.PasswordResetPerEmail, "someone-else@example.org" + subject, default));
        Assert.Equal(0, await limiter.HitAsync(RateNames.PasswordResetPerAddress, subject, default));
        _clock.Now += TimeSpan.FromSeconds(40);
        Assert.Equal(0, await limiter.HitAsync(RateNames.PasswordResetPerEmail, subject, default));
    }
}

/// <summary>The counters in the test store's database (login_throttles).</summary>
public sealed class DatabaseThrottleStoreTests : ThrottleStoreContract
{
    private readonly string _folder = Directory.CreateTempSubdirectory("postern-throttle-store-").FullName;
    private Database? _database;

    protected override async Task<IThrottleStore> OpenAsync()
    {
        _database = Database.Open(await TestStore.NewDatabaseAsync(_folder));
        await _database.MigrateAsync();
        return new DatabaseThrottleStore(_database);
    }

    public override async Task DisposeAsync()
    {
        if (_database is not null)
            await _database.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One private redis-server for the Redis store's tests; each test's keys are its own.</summary>
public sealed class ThrottleRedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;
    public RedisConnection Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await RedisServer.StartAsync();
        Connection = new RedisConnection(Server.Configuration);
        // Connected before the first test: the client's 1 s timeout is meant for a running server, not for its first
        // connection on a machine busy starting the other suites' servers.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await Connection.PingAsync(CancellationToken.None);
                return;
            }
            catch (StoreUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task DisposeAsync()
    {
        Connection?.Dispose();
        if (Server is not null)
            await Server.DisposeAsync();
    }
}

/// <summary>The counters in Redis: the same rules, and keys that expire once they no longer matter.</summary>
public sealed class RedisThrottleStoreTests(ThrottleRedisFixture redis) : ThrottleStoreContract, IClassFixture<ThrottleRedisFixture>
{
    protected override Task<IThrottleStore> OpenAsync() => Task.FromResult<IThrottleStore>(new RedisThrottleStore(redis.Connection));

    public override Task DisposeAsync() => Task.CompletedTask;

    private Task<TimeSpan?> TimeToLiveAsync(string key) => redis.Connection.Database.KeyTimeToLiveAsync(RedisThrottleStore.KeyPrefix + key);

    [Fact]
    public async Task AKeyIsKeptAWindowPastItsLastFailureOrItsLockThenExpires()
    {
        var key = "expiry:" + Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow.AddYears(-3); // the caller's clock, whatever Redis's says
        await Store.CountAsync(key, now, TimeSpan.FromMinutes(15), default);
        Assert.InRange((await TimeToLiveAsync(key))!.Value, TimeSpan.FromMinutes(15) - TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(15));
        await Store.LockAsync(key, now.AddMinutes(60), default);
        Assert.InRange((await TimeToLiveAsync(key))!.Value, TimeSpan.FromMinutes(75) - TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(75));
        // A shorter lock changes nothing.
        await Store.LockAsync(key, now.AddMinutes(30), default);
        Assert.InRange((await TimeToLiveAsync(key))!.Value, TimeSpan.FromMinutes(75) - TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(75));

        var brief = "expiry:" + Guid.NewGuid().ToString("N");
        await Store.CountAsync(brief, now, TimeSpan.FromMilliseconds(200), default);
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        Assert.False(await redis.Connection.Database.KeyExistsAsync(RedisThrottleStore.KeyPrefix + brief));
    }

    /// <summary>Redis away: the store says so as a 503 does (never a count skipped, never a 500), and goes on once it is back.</summary>
    [Fact]
    public async Task WhileRedisIsDownTheStoreIsUnavailableThenRecovers()
    {
        await using var own = await RedisServer.StartAsync();
        using var connection = new RedisConnection(own.Configuration);
        var store = new RedisThrottleStore(connection);
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(1, await store.CountAsync("down", now, TimeSpan.FromMinutes(1), default));
        await own.StopAsync();
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.ReadAsync("down", null, now, default));
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.CountAsync("down", now, TimeSpan.FromMinutes(1), default));
        await own.StartAgainAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                // Nothing kept on disk: it starts again at 1.
                Assert.Equal(1, await store.CountAsync("down", now, TimeSpan.FromMinutes(1), default));
                break;
            }
            catch (StoreUnavailableException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
