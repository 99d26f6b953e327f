using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Postern.Server.Storage;
using Postern.Server.Storage.Caching;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The compose topology without Docker: two Postern instances sharing one store, behind Debian's nginx
/// running deploy/nginx/postern.conf.template (the file compose mounts), over plain HTTP as in compose.
/// </summary>
public abstract class TwoInstancesBehindNginx : IAsyncLifetime
{
    public PosternTestServer First { get; private set; } = null!;
    public PosternTestServer Second { get; private set; } = null!;
    public NginxProxy Proxy { get; private set; } = null!;

    /// <summary>The store both instances share (null: the first makes the test store's default) and the settings it needs.</summary>
    protected abstract Task<(string? Database, IReadOnlyDictionary<string, string?> Settings)> PrepareStoreAsync();

    protected virtual Task DisposeStoreAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        var (database, storeSettings) = await PrepareStoreAsync();
        // The settings compose gives every backend.
        var settings = new Dictionary<string, string?>(storeSettings)
        {
            ["Postern:SecretKey"] = "behind-nginx-test-key-" + Guid.NewGuid().ToString("N"),
            ["Postern:Proxy:TrustForwardedProto"] = "true",
            ["Postern:Proxy:TrustForwardedHost"] = "true",
        };
        First = await PosternTestServer.StartAsync(settings, databasePath: database);
        Second = await PosternTestServer.StartAsync(settings,
            folder: Directory.CreateTempSubdirectory("postern-second-").FullName, databasePath: First.DatabasePath);
        await First.CreateUserAsync("alice", "alice-password", staff: true);
        Proxy = await NginxProxy.StartAsync(new NginxProxyOptions { Upstreams = [First.BaseAddress, Second.BaseAddress], Tls = false });
    }

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Second.DisposeAsync();
        await First.DisposeAsync();
        await DisposeStoreAsync();
    }
}

/// <summary>
/// Sharing the test store's default: one SQLite file (or, with POSTERN_TEST_STORE=postgres, a PostgreSQL database
/// without Redis).
/// </summary>
public sealed class TwoInstancesOnTheDefaultStoreBehindNginx : TwoInstancesBehindNginx
{
    protected override Task<(string? Database, IReadOnlyDictionary<string, string?> Settings)> PrepareStoreAsync() =>
        Task.FromResult<(string?, IReadOnlyDictionary<string, string?>)>((null, new Dictionary<string, string?>()));
}

/// <summary>As compose runs them: one PostgreSQL database and one Redis (append-only), each a private server on loopback.</summary>
public sealed class TwoInstancesOnPostgresAndRedisBehindNginx : TwoInstancesBehindNginx
{
    private PostgresServer? _postgres;
    private RedisServer? _redis;

    protected override async Task<(string? Database, IReadOnlyDictionary<string, string?> Settings)> PrepareStoreAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        _redis = await RedisServer.StartAsync(appendOnly: true);
        return (await _postgres.CreateDatabaseAsync(),
            new Dictionary<string, string?> { ["Postern:Redis:Configuration"] = _redis.Configuration });
    }

    protected override async Task DisposeStoreAsync()
    {
        if (_redis is not null)
            await _redis.DisposeAsync();
        if (_postgres is not null)
            await _postgres.DisposeAsync();
    }
}

/// <summary>What holds behind nginx whichever store the instances share.</summary>
public abstract class BehindNginxScenarios<TSetup>(TSetup setup) : IClassFixture<TSetup> where TSetup : TwoInstancesBehindNginx
{
    protected TSetup Setup => setup;

    private Visitor ThroughNginx() => new(setup.Proxy.CreateRawClient());

    private async Task<Visitor> LoggedInThroughNginxAsync()
    {
        var visitor = ThroughNginx();
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("alice", "alice-password")).Status);
        return visitor;
    }

    /// <summary>
    /// The backend addresses nginx used for the <paramref name="count"/> requests whose line contains
    /// <paramref name="requestLine"/> ("-" when it answered itself). nginx logs a request after sending its answer,
    /// so the last line may arrive a moment after the client has read the response.
    /// </summary>
    private async Task<HashSet<string>> UpstreamsServingAsync(string requestLine, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            var lines = (await File.ReadAllLinesAsync(setup.Proxy.AccessLog))
                .Where(line => line.Contains(requestLine, StringComparison.Ordinal)).ToList();
            if (lines.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, lines.Count);
                return lines.Select(line => Regex.Match(line, @"upstream=(\S+)").Groups[1].Value).ToHashSet();
            }
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// nginx's request id reaches the backend (the template's <c>proxy_set_header X-Request-Id $request_id</c>), which takes it
    /// from the trusted proxy and echoes it: the client sees the id nginx logged, never one it chose itself.
    /// </summary>
    [Fact]
    public async Task TheRequestIdIsNginxsOwnAndTheBackendEchoesIt()
    {
        using var client = setup.Proxy.CreateRawClient();
        var path = "/auth/csrf?probe=" + Guid.NewGuid().ToString("N");
        var response = await client.SendAsync(HttpMethod.Get, path, [("X-Request-Id", "chosen-by-the-client")]);
        Assert.Equal(HttpStatusCode.OK, response.Status);
        var id = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.Matches("^[0-9a-f]{32}$", id);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!(await File.ReadAllLinesAsync(setup.Proxy.AccessLog)).Any(line => line.Contains(path, StringComparison.Ordinal))
            && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        var logged = (await File.ReadAllLinesAsync(setup.Proxy.AccessLog)).Single(line => line.Contains(path, StringComparison.Ordinal));
        Assert.EndsWith($"request_id={id}", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASessionMadeThroughNginxWorksOnBothInstancesInTurn()
    {
        var visitor = await LoggedInThroughNginxAsync();
        var path = "/auth/user?probe=" + Guid.NewGuid().ToString("N");
        for (var i = 0; i < 4; i++)
        {
            var user = await visitor.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, user.Status);
            Assert.Equal("alice", user.Json().GetProperty("username").GetString());
        }
        // Round-robin: both instances answered these requests.
        Assert.Equal(new HashSet<string> { setup.First.BaseAddress.Authority, setup.Second.BaseAddress.Authority },
            await UpstreamsServingAsync(path, count: 4));
    }

    [Fact]
    public async Task LogoutThroughNginxIsRefusedOnBothInstancesAtOnce()
    {
        var visitor = await LoggedInThroughNginxAsync();
        var sessionCookie = visitor.SessionCookie!;
        // Round-robin: each instance serves the session twice, so each has it cached where it caches.
        for (var i = 0; i < 4; i++)
            Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/auth/user")).Status);
        foreach (var instance in new[] { setup.First, setup.Second })
        {
            if (instance.Services.GetRequiredService<Database>().Cache is not null)
            {
                Assert.True(TwoInstancesOnPostgresAndRedis.HoldsSession(instance, sessionCookie),
                    $"{instance.BaseAddress} has the session cached");
            }
        }
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/auth/logout")).Status);

        // Straight to each instance, with the old cookie: the session is gone from the shared store and from both caches.
        foreach (var instance in new[] { setup.First, setup.Second })
        {
            using var direct = instance.CreateRawClient();
            var user = await direct.SendAsync(HttpMethod.Get, "/auth/user", [("Cookie", "sessionid=" + sessionCookie)]);
            Assert.Equal(HttpStatusCode.Forbidden, user.Status);
        }
    }

    [Fact]
    public async Task ApiLinksUseNginxsHostAndPortEvenWhenTheClientSendsItsOwnForwardedHost()
    {
        var visitor = await LoggedInThroughNginxAsync();
        var proxyOrigin = setup.Proxy.BaseAddress.GetLeftPart(UriPartial.Authority);
        for (var i = 0; i < 2; i++)
        {
            var root = await visitor.GetAsync("/api/", ("Accept", "application/json"), ("X-Forwarded-Host", "evil.example"));
            Assert.Equal(HttpStatusCode.OK, root.Status);
            Assert.Equal($"{proxyOrigin}/api/users/", root.Json().GetProperty("users").GetString());
        }
    }

    [Theory]
    [InlineData("/healthz", HttpStatusCode.OK)]
    [InlineData("/readyz", HttpStatusCode.OK)]
    [InlineData("/api-auth/login/", HttpStatusCode.OK)]
    [InlineData("/", HttpStatusCode.NotFound)]
    [InlineData("/healthz-and-more", HttpStatusCode.NotFound)]
    public async Task NginxForwardsOnlyPosternsPaths(string path, HttpStatusCode expected)
    {
        using var client = setup.Proxy.CreateRawClient();
        var response = await client.SendAsync(HttpMethod.Get, path);
        Assert.Equal(expected, response.Status);
        var upstreams = await UpstreamsServingAsync($"\"GET {path} ", count: 1);
        Assert.Equal(expected == HttpStatusCode.OK, !upstreams.SetEquals(["-"]));
    }
}

public sealed class BehindNginxTests(TwoInstancesOnTheDefaultStoreBehindNginx setup)
    : BehindNginxScenarios<TwoInstancesOnTheDefaultStoreBehindNginx>(setup);

[Trait("Store", "postgres-only")]
public sealed class BehindNginxOnPostgresAndRedisTests(TwoInstancesOnPostgresAndRedisBehindNginx setup)
    : BehindNginxScenarios<TwoInstancesOnPostgresAndRedisBehindNginx>(setup)
{
    [Fact]
    public void BothInstancesReadThroughTheirCachesKeptExactByTheRedisCounter()
    {
        foreach (var instance in new[] { Setup.First, Setup.Second })
        {
            Assert.IsType<RedisChangeCounter>(TwoInstancesOnPostgresAndRedis.CacheOf(instance).Signal);
            Assert.IsType<SessionStore>(instance.Sessions);
        }
    }
}
