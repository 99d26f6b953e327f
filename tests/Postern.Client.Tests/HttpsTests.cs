using System.Net;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Client.Tests;

/// <summary>
/// The three backends behind Debian's nginx with TLS, as in production: Django told to trust
/// <c>X-Forwarded-Proto</c> (DJANGO_BACKEND_HTTPS=1: secure cookies, strict Referer checks), Postern told the same
/// (trusted forwarded headers, secure cookies). Over HTTPS, Django refuses an unsafe request that has no
/// Origin unless its Referer is a page of the same site.
/// </summary>
public sealed class HttpsBackends : IAsyncLifetime
{
    private readonly Dictionary<string, NginxProxy> _proxies = [];
    private PosternTestServer? _postern;
    private DjangoPeer? _modern;
    private DjangoPeer? _legacy;

    public NginxProxy this[string name] => _proxies[name];

    public async Task InitializeAsync()
    {
        var https = new Dictionary<string, string> { ["DJANGO_BACKEND_HTTPS"] = "1" };
        var modern = DjangoPeer.StartAsync(PeerKind.Modern, https);
        var legacy = DjangoPeer.StartAsync(PeerKind.Legacy, https);
        _postern = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Proxy:TrustForwardedProto"] = "true",
            ["Postern:Csrf:CookieSecure"] = "true",
            ["Postern:Sessions:CookieSecure"] = "true",
        });
        await _postern.SeedLikeDjangoPeerAsync();
        _modern = await modern;
        _legacy = await legacy;
        _proxies["postern"] = await NginxProxy.StartTlsAsync(_postern.BaseAddress);
        _proxies["django52"] = await NginxProxy.StartTlsAsync(_modern.BaseAddress);
        _proxies["django32"] = await NginxProxy.StartTlsAsync(_legacy.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        foreach (var proxy in _proxies.Values)
            await proxy.DisposeAsync();
        if (_postern is not null)
            await _postern.DisposeAsync();
        if (_modern is not null)
            await _modern.DisposeAsync();
        if (_legacy is not null)
            await _legacy.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class HttpsBackendsGroup : ICollectionFixture<HttpsBackends>
{
    public const string Name = "https backends";
}

[Collection(HttpsBackendsGroup.Name)]
public sealed class HttpsTests(HttpsBackends backends)
{
    public static TheoryData<string> All => new() { "postern", "django52", "django32" };

    private static PosternSession NewSession(NginxProxy proxy) =>
        new(proxy.BaseAddress, new PosternClientOptions { TrustedCertificate = proxy.Certificate });

    [Theory]
    [MemberData(nameof(All))]
    public async Task TheClientLogsInAndWritesOverHttpsWithSecureCookies(string backend)
    {
        var proxy = backends[backend];
        Assert.Equal(Uri.UriSchemeHttps, proxy.BaseAddress.Scheme);
        using var alice = NewSession(proxy);
        await alice.LoginAsync("alice", "alice-password");
        Assert.Equal("alice", (await alice.WhoAmIAsync()).Username);

        // Both are unsafe requests over HTTPS without Origin: they pass only with the client's same-site Referer.
        var name = "https-" + Guid.NewGuid().ToString("N")[..8];
        var created = await alice.PostAsync<GroupResource>("/api/groups/", new { name });
        Assert.Equal(name, created.Name);
        Assert.StartsWith(proxy.BaseAddress.GetLeftPart(UriPartial.Authority) + "/", created.Url, StringComparison.Ordinal);
        await alice.DeleteAsync(created.Url);
        await Assert.ThrowsAsync<NotFoundException>(() => alice.GetAsync<GroupResource>(created.Url));

        var cookies = alice.Cookies.GetCookies(proxy.BaseAddress);
        Assert.True(cookies[CookieNames.Session]?.Secure, "the session cookie is Secure");
        Assert.True(cookies[CookieNames.Csrf]?.Secure, "the CSRF cookie is Secure");

        await alice.LogoutAsync();
        Assert.False(alice.HasSession);
        // The traffic went through nginx's TLS listener, not straight to the backend.
        Assert.Contains("\"POST /api/groups/ HTTP/1.1\" 201", await File.ReadAllTextAsync(proxy.AccessLog), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutTrustingTheCertificateTheClientRefusesTheConnection()
    {
        // No "ignore TLS errors" default: a self-signed certificate the caller did not name is not trusted.
        using var session = new PosternSession(backends["postern"].BaseAddress);
        var failure = await Assert.ThrowsAsync<TransportException>(() => session.LoginAsync("alice", "alice-password"));
        Assert.IsType<System.Security.Authentication.AuthenticationException>(
            Assert.IsType<HttpRequestException>(failure.InnerException).InnerException);
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task AnUnsafeRequestWithoutRefererIsRefused(string backend)
    {
        var proxy = backends[backend];
        var (alice, raw, headers) = await LoggedInRawAsync(proxy);
        using (alice)
        using (raw)
        {
            var name = "no-referer-" + Guid.NewGuid().ToString("N")[..8];
            var refused = await raw.SendAsync(HttpMethod.Post, "/api/groups/", headers, RawHttp.Json($$"""{"name":"{{name}}"}"""));
            Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
            Assert.Equal("CSRF Failed: Referer checking failed - no Referer.", refused.Detail);
            Assert.False(await GroupExistsAsync(alice, name), "the refused request created nothing");
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public async Task AForeignRefererIsRefusedAndTheSameSiteOnePasses(string backend)
    {
        var proxy = backends[backend];
        var (alice, raw, headers) = await LoggedInRawAsync(proxy);
        using (alice)
        using (raw)
        {
            var name = "referer-" + Guid.NewGuid().ToString("N")[..8];
            var foreign = await raw.SendAsync(HttpMethod.Post, "/api/groups/",
                [.. headers, ("Referer", "https://evil.example/")], RawHttp.Json($$"""{"name":"{{name}}"}"""));
            Assert.Equal(HttpStatusCode.Forbidden, foreign.Status);
            Assert.Equal(
                "CSRF Failed: Referer checking failed - https://evil.example/ does not match any trusted origins.", foreign.Detail);

            // The same request with a page of the site as Referer is what the client sends: it passes.
            var same = proxy.BaseAddress.GetLeftPart(UriPartial.Authority) + "/api/groups/";
            var accepted = await raw.SendAsync(HttpMethod.Post, "/api/groups/",
                [.. headers, ("Referer", same)], RawHttp.Json($$"""{"name":"{{name}}"}"""));
            Assert.Equal(HttpStatusCode.Created, accepted.Status);
            await alice.DeleteAsync(accepted.Json().GetProperty("url").GetString()!);
        }
    }

    [Fact]
    public async Task AnNginxThatCannotStartSaysWhy()
    {
        // Its port is taken: the test output must show nginx's own complaint, not a bare timeout.
        using var busy = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            NginxProxy.StartAsync(new NginxProxyOptions { Upstreams = [backends["postern"].BaseAddress], Port = port }));
        Assert.Contains($"nginx on 127.0.0.1:{port} exited", failure.Message, StringComparison.Ordinal);
        Assert.Contains("Address already in use", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// alice logged in by the client, and a raw client with her cookies and a correct X-CSRFToken but no Origin or
    /// Referer.
    /// </summary>
    private static async Task<(PosternSession Alice, HttpClient Raw, (string, string)[] Headers)> LoggedInRawAsync(NginxProxy proxy)
    {
        var alice = NewSession(proxy);
        await alice.LoginAsync("alice", "alice-password");
        var token = alice.CsrfToken ?? throw new InvalidOperationException("no CSRF cookie after login");
        (string, string)[] headers =
        [
            ("Cookie", alice.Cookies.GetCookieHeader(proxy.BaseAddress)),
            (HeaderNames.CsrfToken, token),
            ("Accept", "application/json"),
        ];
        return (alice, proxy.CreateRawClient(), headers);
    }

    private static async Task<bool> GroupExistsAsync(PosternSession session, string name)
    {
        await foreach (var group in session.PaginateAsync<GroupResource>("/api/groups/"))
        {
            if (group.Name == name)
                return true;
        }
        return false;
    }
}
