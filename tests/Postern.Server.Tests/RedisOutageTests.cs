using System.Net;
using Npgsql;
using Postern.Server.Storage.Caching;
using Postern.Server.Storage.Postgres;
using Postern.Testing;
using StackExchange.Redis;

namespace Postern.Server.Tests;

/// <summary>Redis keeps its data across a restart here (append-only, as compose runs it): it comes back with the counter it had.</summary>
public sealed class TwoInstancesOnPostgresAndAppendOnlyRedis() : TwoInstancesOnPostgresAndRedis(appendOnly: true);

/// <summary>
/// Redis stopped under two running instances, then started again: reads are served from PostgreSQL meanwhile, writes
/// that other instances must hear about are refused with a 503 (nothing commits that they could not learn of),
/// /readyz says so, and everything recovers once Redis is back, without restarting Postern. Nothing cached before the
/// outage is served after it, even by an instance that saw no request during the outage.
/// </summary>
[Trait("Store", "postgres-only")]
public sealed class RedisOutageTests(TwoInstancesOnPostgresAndAppendOnlyRedis setup)
    : IClassFixture<TwoInstancesOnPostgresAndAppendOnlyRedis>, IAsyncLifetime
{
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(60);

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Whatever a test did, the next one starts with Redis up and both instances announcing writes through it.</summary>
    public async Task DisposeAsync()
    {
        if (setup.Redis.Pid is null)
            await setup.Redis.StartAgainAsync();
        await WaitUntilAcceptingWritesAsync(setup.First);
        await WaitUntilAcceptingWritesAsync(setup.Second);
    }

    private static async Task<RawResponse> ReadyzAsync(PosternTestServer instance) =>
        await instance.CreateRawClient().SendAsync(HttpMethod.Get, "/readyz");

    /// <summary>Polls until <paramref name="condition"/> holds, failing after <see cref="RecoveryBound"/>.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + RecoveryBound;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {RecoveryBound} after Redis came back: {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// /readyz answers 200 and a write announcement goes through. The client reconnects on its own after Redis is back,
    /// within seconds; until then (and in a moment of reconnecting) writes are refused with a 503, as they should be.
    /// </summary>
    private static async Task WaitUntilAcceptingWritesAsync(PosternTestServer instance)
    {
        await WaitUntilAsync(async () => (await ReadyzAsync(instance)).Status == HttpStatusCode.OK, $"{instance.BaseAddress} /readyz");
        await WaitUntilAsync(async () =>
        {
            try
            {
                await TwoInstancesOnPostgresAndRedis.CacheOf(instance).Signal.AnnounceAsync(CancellationToken.None);
                return true;
            }
            catch (Storage.StoreUnavailableException)
            {
                return false;
            }
        }, $"{instance.BaseAddress} announcing writes");
    }

    /// <summary>SQL straight to PostgreSQL, behind Postern's back; returns the rows it changed or, for a SELECT, its one number.</summary>
    private async Task<long> SqlAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var db = new NpgsqlConnection(PostgresDatabaseUrl.ToConnectionString(setup.DatabaseUrl));
        await db.OpenAsync();
        await using var command = new NpgsqlCommand(sql, db);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return sql.StartsWith("SELECT", StringComparison.Ordinal)
            ? Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)
            : await command.ExecuteNonQueryAsync();
    }

    private static void AssertTemporarilyUnavailable(RawResponse response)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.Status);
        Assert.Equal("application/json", response.ContentHeaders.ContentType?.MediaType);
        Assert.Equal("Service temporarily unavailable, try again shortly.", response.Detail);
        Assert.Equal("1", response.Header("Retry-After"));
    }

    [Fact]
    public async Task WhileRedisIsDownReadsComeFromPostgresAndAnnouncedWritesAreRefusedThenAllRecovers()
    {
        var (visitor, userId, _) = await setup.SignedInOnFirstAsync(staff: true);
        var onSecond = await setup.WarmOnSecondAsync(visitor);
        for (var i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync($"/api/users/{userId}/")).Status);

        await setup.Redis.StopAsync();

        foreach (var instance in new[] { setup.First, setup.Second })
        {
            var ready = await ReadyzAsync(instance);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.Status);
            Assert.Equal("Redis does not answer.", ready.Detail);
        }
        // Reads: from PostgreSQL, so a change made behind Postern's back shows at once.
        Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync("/auth/user")).Status);
        await SqlAsync("UPDATE users SET email = 'behind@example.org' WHERE id = @id", ("id", userId));
        Assert.Equal("behind@example.org", (await onSecond.GetAsync($"/api/users/{userId}/")).Json().GetProperty("email").GetString());
        Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync("/api/users/")).Status);

        // Writes other instances must hear about: refused, and nothing committed. The browser keeps its cookie, to retry.
        var key = visitor.SessionCookie!;
        var refusedLogout = await visitor.PostWithTokenAsync("/auth/logout");
        AssertTemporarilyUnavailable(refusedLogout);
        Assert.Null(refusedLogout.Cookie("sessionid"));
        Assert.Equal(key, visitor.SessionCookie);
        Assert.Equal(1, await SqlAsync("SELECT COUNT(*) FROM sessions WHERE session_key = @key", ("key", key)));
        Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync("/auth/user")).Status);
        // A login carrying no session announces nothing (no cache can hold a key never seen): it goes on, and its session
        // works on both instances, which read PostgreSQL meanwhile. A login replacing a session ends that one: refused.
        var newcomer = new Visitor(setup.First.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await newcomer.LoginAsync("alice", "alice-password")).Status);
        Assert.Equal(HttpStatusCode.OK,
            (await new Visitor(setup.Second.CreateRawClient()) { Jar = { [Protocol.CookieNames.Session] = newcomer.SessionCookie } }
                .GetAsync("/auth/user")).Status);
        AssertTemporarilyUnavailable(await newcomer.LoginAsync("alice", "alice-password"));
        AssertTemporarilyUnavailable(await visitor.SendAsync(HttpMethod.Patch, $"/api/users/{userId}/",
            RawHttp.Json("""{"email": "refused@example.org"}"""), ("X-CSRFToken", visitor.CsrfCookie!)));
        Assert.Equal("behind@example.org", (await onSecond.GetAsync($"/api/users/{userId}/")).Json().GetProperty("email").GetString());

        await setup.Redis.StartAgainAsync();
        await WaitUntilAcceptingWritesAsync(setup.First);
        await WaitUntilAcceptingWritesAsync(setup.Second);

        // The same processes cache again, and a logout on one is refused on the other at once again.
        await setup.WarmOnSecondAsync(visitor);
        Assert.Equal(HttpStatusCode.OK, (await visitor.PostWithTokenAsync("/auth/logout")).Status);
        onSecond.Jar[Protocol.CookieNames.Session] = key; // the jar is shared: put the old cookie back
        Assert.Equal(HttpStatusCode.Forbidden, (await onSecond.GetAsync("/auth/user")).Status);
    }

    [Fact]
    public async Task WhatAnIdleInstanceCachedBeforeAnOutageIsNotServedAfterItThoughTheCounterCameBackTheSame()
    {
        var (visitor, _, _) = await setup.SignedInOnFirstAsync();
        var onSecond = await setup.WarmOnSecondAsync(visitor);
        var signal = TwoInstancesOnPostgresAndRedis.CacheOf(setup.Second).Signal;
        var before = await signal.CurrentAsync(CancellationToken.None);
        Assert.NotNull(before);

        await setup.Redis.StopAsync();
        // A write no instance could announce (an operator's psql, say), while the second instance serves nothing.
        Assert.Equal(1, await SqlAsync("DELETE FROM sessions WHERE session_key = @key", ("key", visitor.SessionCookie!)));
        await setup.Redis.StartAgainAsync();
        // Asking the signal itself leaves the cache alone: the instance still has served nothing since the outage.
        ChangeToken? after = null;
        await WaitUntilAsync(async () => (after = await signal.CurrentAsync(CancellationToken.None)) is not null,
            "the second instance reading the counter");

        // Redis kept the counter (append-only), yet the token differs: it was read over a new connection.
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(setup.Redis.Configuration))
            Assert.Equal(before.Value.Version, (long)await redis.GetDatabase().StringGetAsync("postern:store-changes"));
        Assert.Equal(before.Value.Version, after!.Value.Version);
        Assert.NotEqual(before.Value.Connection, after.Value.Connection);

        var response = await onSecond.GetAsync("/auth/user");
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
    }

    [Fact]
    public async Task AnInstanceThatReadDuringTheOutageForgetsWhatItCachedBeforeIt()
    {
        var (visitor, userId, _) = await setup.SignedInOnFirstAsync();
        await setup.WarmOnSecondAsync(visitor);
        var cache = TwoInstancesOnPostgresAndRedis.CacheOf(setup.Second);

        await setup.Redis.StopAsync();
        // Any read without a token: the instance reads PostgreSQL and drops what it held.
        Assert.NotNull(await setup.Second.Users.FindUserByIdAsync(userId));
        Assert.False(TwoInstancesOnPostgresAndRedis.HoldsSession(setup.Second, visitor.SessionCookie!));
        Assert.Equal(0, cache.Count);
    }
}
