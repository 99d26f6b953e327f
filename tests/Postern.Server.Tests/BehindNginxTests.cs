using System.Net;
using System.Text.RegularExpressions;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// The compose topology without Docker: two Postern instances sharing one database, behind Debian's nginx
/// running deploy/nginx/postern.conf.template (the file compose mounts), over plain HTTP as in compose.
/// </summary>
public sealed class TwoInstancesBehindNginx : IAsyncLifetime
{
    public PosternTestServer First { get; private set; } = null!;
    public PosternTestServer Second { get; private set; } = null!;
    public NginxProxy Proxy { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // The settings compose gives every backend.
        var settings = new Dictionary<string, string?>
        {
            ["Postern:SecretKey"] = "behind-nginx-test-key-" + Guid.NewGuid().ToString("N"),
            ["Postern:Proxy:TrustForwardedProto"] = "true",
            ["Postern:Proxy:TrustForwardedHost"] = "true",
        };
        First = await PosternTestServer.StartAsync(settings);
        Second = await PosternTestServer.StartAsync(settings, folder: Directory.CreateTempSubdirectory("postern-second-").FullName, databasePath: First.DatabasePath);
        await First.CreateUserAsync("alice", "alice-password", staff: true);
        Proxy = await NginxProxy.StartAsync(new NginxProxyOptions { Upstreams = [First.BaseAddress, Second.BaseAddress], Tls = false });
    }

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Second.DisposeAsync();
        await First.DisposeAsync();
    }
}

public sealed class BehindNginxTests(TwoInstancesBehindNginx setup) : IClassFixture<TwoInstancesBehindNginx>
{
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
            var lines = (await File.ReadAllLinesAsync(setup.Proxy.AccessLog)).Where(line => line.Contains(requestLine, StringComparison.Ordinal)).ToList();
            if (lines.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, lines.Count);
                return lines.Select(line => Regex.Match(line, @"upstream=(\S+)").Groups[1].Value).ToHashSet();
            }
            await Task.Delay(50);
        }
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
        Assert.Equal(new HashSet<string> { setup.First.BaseAddress.Authority, setup.Second.BaseAddress.Authority }, await UpstreamsServingAsync(path, count: 4));
    }

    [Fact]
    public async Task LogoutThroughNginxIsRefusedOnBothInstancesAtOnce()
    {
        var visitor = await LoggedInThroughNginxAsync();
        var sessionCookie = visitor.SessionCookie!;
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync("/auth/logout")).Status);

        // Straight to each instance, with the old cookie: the session is gone from the shared store, not from a cache.
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
