using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Postern.Protocol;
using Postern.Server.Storage;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// Two instances on one PostgreSQL database (a private server on loopback) behind nginx round-robin, throttling on, nginx
/// the one trusted proxy (<c>TrustedProxyCount</c> 1, as compose sets it); with Redis beside them when
/// <see cref="WithRedis"/>, whose counters then live there.
/// </summary>
public abstract class ThrottlingInstancesBehindNginx : TwoInstancesBehindNginx
{
    private PostgresServer? _postgres;

    public RedisServer? Redis { get; private set; }

    protected abstract bool WithRedis { get; }

    protected override async Task<(string? Database, IReadOnlyDictionary<string, string?> Settings)> PrepareStoreAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Postern:Throttling:Enabled"] = "true",
            ["Postern:Proxy:TrustedProxyCount"] = "1",
        };
        if (WithRedis)
        {
            Redis = await RedisServer.StartAsync();
            settings["Postern:Redis:Configuration"] = Redis.Configuration;
        }
        return (await _postgres.CreateDatabaseAsync(), settings);
    }

    protected override async Task DisposeStoreAsync()
    {
        if (Redis is not null)
            await Redis.DisposeAsync();
        if (_postgres is not null)
            await _postgres.DisposeAsync();
    }
}

public sealed class ThrottlingInstancesOnPostgresBehindNginx : ThrottlingInstancesBehindNginx
{
    protected override bool WithRedis => false;
}

public sealed class ThrottlingInstancesOnPostgresAndRedisBehindNginx : ThrottlingInstancesBehindNginx
{
    protected override bool WithRedis => true;
}

/// <summary>What holds wherever the counters live: two instances behind one proxy throttle as one, and by the right address.</summary>
public abstract class ThrottlingAcrossInstancesScenarios<TSetup>(TSetup setup) : IClassFixture<TSetup>
    where TSetup : ThrottlingInstancesBehindNginx
{
    protected TSetup Setup => setup;

    /// <summary>Where the counts of <paramref name="throttleKey"/> are, asserted: the database's table, or Redis.</summary>
    protected abstract Task AssertCountedAsync(string throttleKey);

    protected static string AccountKey(string username) =>
        "account:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(username)));

    protected Task<long> RowsAsync(string throttleKey) => TestStore.QueryInt64Async(setup.First.DatabasePath,
        "SELECT COUNT(*) FROM login_throttles WHERE throttle_key = @key;", ("@key", throttleKey));

    private static StringContent Credentials(string username, string password) =>
        RawHttp.Json($$"""{"username": "{{username}}", "password": "{{password}}"}""");

    private static void AssertThrottled(RawResponse response, int atMostSeconds)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.Status);
        var seconds = int.Parse(response.Header("Retry-After")!, CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, atMostSeconds);
        Assert.Equal($"Request was throttled. Expected available in {seconds} second{(seconds == 1 ? "" : "s")}.", response.Detail);
        Assert.Null(response.Cookie(CookieNames.Session));
    }

    /// <summary>The backends nginx sent the requests to whose line holds <paramref name="marker"/> (it logs after answering).</summary>
    private async Task<IReadOnlyList<string>> UpstreamsOfAsync(string marker, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            var upstreams = (await File.ReadAllLinesAsync(setup.Proxy.AccessLog))
                .Where(line => line.Contains(marker, StringComparison.Ordinal))
                .Select(line => Regex.Match(line, @"upstream=(\S+)").Groups[1].Value).ToList();
            if (upstreams.Count >= count || DateTime.UtcNow > deadline)
                return upstreams;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task FiveWrongPasswordsAlternatingBetweenTheInstancesLockTheAccountOnBoth()
    {
        var username = "locked-" + Guid.NewGuid().ToString("N")[..8];
        await setup.First.CreateUserAsync(username, "right-password");
        // One token pair for every attempt (a refused login keeps it), so the logins alone go round the two instances.
        var visitor = new Visitor(setup.Proxy.CreateRawClient());
        await visitor.GetAsync(EndpointPaths.Csrf);
        var marker = "attempt=" + Guid.NewGuid().ToString("N");
        for (var i = 0; i < 5; i++)
        {
            var refused = await visitor.PostWithTokenAsync($"{EndpointPaths.Login}?{marker}", Credentials(username, "wrong-password"));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        }
        var upstreams = await UpstreamsOfAsync(marker, 5);
        Assert.Equal(5, upstreams.Count);
        Assert.Equal(new HashSet<string> { setup.First.BaseAddress.Authority, setup.Second.BaseAddress.Authority }, upstreams.ToHashSet());

        // The sixth, with the right password: locked, through nginx and on each instance straight.
        AssertThrottled(await visitor.PostWithTokenAsync(EndpointPaths.Login, Credentials(username, "right-password")), 60);
        AssertThrottled(await visitor.PostWithTokenAsync(EndpointPaths.Login, Credentials(username, "right-password")), 60);
        foreach (var instance in new[] { setup.First, setup.Second })
            AssertThrottled(await new Visitor(instance.CreateRawClient()).LoginAsync(username, "right-password"), 60);

        await AssertCountedAsync(AccountKey(username));
    }

    [Fact]
    public async Task AnAttackerBehindTheProxyExhaustingItsAddressDoesNotThrottleAnyoneElse()
    {
        var username = "bystander-" + Guid.NewGuid().ToString("N")[..8];
        await setup.First.CreateUserAsync(username, "bystander-password");
        var attacker = new Visitor(RawHttp.CreateClientFrom(setup.Proxy.BaseAddress, IPAddress.Parse("127.0.0.2")));
        await attacker.GetAsync(EndpointPaths.Csrf);
        for (var i = 0; i < 31; i++)
        {
            // A different name each time (no account locks), and another address claimed each time: nginx appends the
            // one it saw, the only one trusted.
            var guess = await attacker.PostWithTokenAsync(EndpointPaths.Login, Credentials($"sprayed{i}", "Winter2026!"),
                ("X-Forwarded-For", $"10.9.8.{i}"));
            Assert.Equal(HttpStatusCode.Unauthorized, guess.Status);
        }
        AssertThrottled(await attacker.PostWithTokenAsync(EndpointPaths.Login, Credentials(username, "bystander-password"),
            ("X-Forwarded-For", "127.0.0.3")), 60);

        var bystander = new Visitor(RawHttp.CreateClientFrom(setup.Proxy.BaseAddress, IPAddress.Parse("127.0.0.3")));
        for (var i = 0; i < 2; i++) // both instances
            Assert.Equal(HttpStatusCode.OK, (await bystander.LoginAsync(username, "bystander-password")).Status);

        await AssertCountedAsync("address:127.0.0.2");
    }
}

[Trait("Store", "postgres-only")]
public sealed class ThrottlingAcrossInstancesOnPostgresTests(ThrottlingInstancesOnPostgresBehindNginx setup)
    : ThrottlingAcrossInstancesScenarios<ThrottlingInstancesOnPostgresBehindNginx>(setup)
{
    protected override async Task AssertCountedAsync(string throttleKey)
    {
        Assert.IsType<DatabaseThrottleStore>(Setup.First.Services.GetRequiredService<IThrottleStore>());
        Assert.Equal(1, await RowsAsync(throttleKey));
    }
}

[Trait("Store", "postgres-only")]
public sealed class ThrottlingAcrossInstancesOnPostgresAndRedisTests(ThrottlingInstancesOnPostgresAndRedisBehindNginx setup)
    : ThrottlingAcrossInstancesScenarios<ThrottlingInstancesOnPostgresAndRedisBehindNginx>(setup)
{
    protected override async Task AssertCountedAsync(string throttleKey)
    {
        Assert.IsType<RedisThrottleStore>(Setup.First.Services.GetRequiredService<IThrottleStore>());
        Assert.IsType<RedisThrottleStore>(Setup.Second.Services.GetRequiredService<IThrottleStore>());
        Assert.Equal(0, await TestStore.QueryInt64Async(Setup.First.DatabasePath, "SELECT COUNT(*) FROM login_throttles;"));
        using var redis = new RedisConnection(Setup.Redis!.Configuration);
        var fields = await redis.Database.HashGetAllAsync(RedisThrottleStore.KeyPrefix + throttleKey);
        Assert.Contains(fields, field => field.Name == "locked" && (long)field.Value > 0);
    }
}
