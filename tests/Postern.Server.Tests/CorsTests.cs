using System.Net;
using Microsoft.Extensions.Options;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>
/// <c>Postern:Cors</c>, django-cors-headers' CORS_ALLOWED_ORIGINS with credentials, over real HTTP: preflights answered
/// before the API's OPTIONS, the headers on every answer to a listed origin (error answers included), none at all for
/// another origin, the listed origins trusted by the CSRF checks, and a mistyped origin stopping the server at start.
/// </summary>
public sealed class CorsTests : IAsyncLifetime
{
    private const string Frontend = "http://localhost:5173";
    private const string Secret = "lcccccccX2kcccccccY2jcccccccssIC";

    private PosternTestServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Cors:AllowedOrigins:0"] = Frontend,
            ["Postern:Cors:AllowedOrigins:1"] = "https://*.example.com",
            // Login throttling on, for a 429: its counts are per username, which no other test here fails to log in as.
            ["Postern:Throttling:Enabled"] = "true",
        });
        await _server.CreateUserAsync("alice", "alice-password", staff: true);
        _client = _server.CreateRawClient();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static (string, string)[] Preflight(string origin, string method = "PATCH") =>
        [("Origin", origin), ("Access-Control-Request-Method", method), ("Access-Control-Request-Headers", "content-type,x-csrftoken")];

    private static void AssertAllowed(RawResponse response, string origin)
    {
        Assert.Equal(origin, response.Header("Access-Control-Allow-Origin"));
        Assert.Equal("true", response.Header("Access-Control-Allow-Credentials"));
        Assert.Contains("Origin", HeaderList(response, "Vary"));
    }

    private static void AssertNoCorsHeaders(RawResponse response)
    {
        var cors = response.Headers.Concat(response.ContentHeaders)
            .Where(header => header.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase))
            .Select(header => header.Key);
        Assert.Empty(cors);
    }

    private static string[] HeaderList(RawResponse response, string name) =>
        (response.Header(name) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    [Theory]
    [InlineData(Frontend)]
    [InlineData("https://app.example.com")]
    [InlineData("https://deep.sub.example.com")]
    [InlineData("https://example.com")]
    public async Task APreflightFromAListedOriginIsAnsweredBeforeTheApi(string origin)
    {
        var response = await _client.SendAsync(HttpMethod.Options, "/api/users/1/", Preflight(origin));

        Assert.Equal(HttpStatusCode.NoContent, response.Status);
        Assert.Equal("", response.Body);
        AssertAllowed(response, origin);
        Assert.Equal(["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"], HeaderList(response, "Access-Control-Allow-Methods"));
        Assert.Equal(["accept", "authorization", "content-type", "user-agent", "x-csrftoken", "x-requested-with"],
            HeaderList(response, "Access-Control-Allow-Headers"));
        Assert.Equal("86400", response.Header("Access-Control-Max-Age"));
        // Nothing behind CORS ran: no cookie, no session.
        Assert.Empty(response.Cookies);
    }

    [Theory]
    [InlineData("http://evil.example")]
    [InlineData("http://localhost:5174")]
    [InlineData("https://localhost:5173")]
    [InlineData("http://app.example.com")]
    [InlineData("https://example.com.evil.example")]
    [InlineData("https://notexample.com")]
    [InlineData("null")]
    public async Task AnUnlistedOriginGetsNoCorsHeadersAtAll(string origin)
    {
        var preflight = await _client.SendAsync(HttpMethod.Options, "/api/users/1/", Preflight(origin));
        Assert.Equal(HttpStatusCode.NoContent, preflight.Status);
        AssertNoCorsHeaders(preflight);

        var read = await _client.SendAsync(HttpMethod.Get, EndpointPaths.Csrf, [("Origin", origin)]);
        Assert.Equal(HttpStatusCode.OK, read.Status);
        AssertNoCorsHeaders(read);
        // Whether an answer carries CORS headers depends on Origin: caches must know, for every answer.
        Assert.Contains("Origin", HeaderList(read, "Vary"));
    }

    [Fact]
    public async Task AnOptionsRequestThatIsNoPreflightStillGetsTheApiMetadata()
    {
        var response = await _client.SendAsync(HttpMethod.Options, "/api/users/", [("Origin", Frontend)]);

        // The API's own answer to an anonymous OPTIONS of the user list, as DRF gives it.
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("Authentication credentials were not provided.", response.Detail);
        AssertAllowed(response, Frontend);
    }

    [Fact]
    public async Task CredentialedRequestsFromAListedOriginCarryTheHeaders()
    {
        var visitor = new Visitor(_client);
        var csrf = await visitor.GetAsync(EndpointPaths.Csrf, ("Origin", Frontend));
        AssertAllowed(csrf, Frontend);
        Assert.Equal([HeaderNames.CsrfToken, "Retry-After", "X-Request-Id"], HeaderList(csrf, "Access-Control-Expose-Headers"));
        Assert.Equal(["Cookie", "Origin"], HeaderList(csrf, "Vary"));
        Assert.NotNull(csrf.Header(HeaderNames.CsrfToken));

        var login = await visitor.PostWithTokenAsync(EndpointPaths.Login,
            RawHttp.Json("""{"username": "alice", "password": "alice-password"}"""), ("Origin", Frontend));
        Assert.Equal(HttpStatusCode.OK, login.Status);
        AssertAllowed(login, Frontend);
        Assert.Contains(HeaderNames.CsrfToken, HeaderList(login, "Access-Control-Expose-Headers"));

        var user = await visitor.GetAsync(EndpointPaths.User, ("Origin", Frontend));
        Assert.Equal(HttpStatusCode.OK, user.Status);
        Assert.Equal("alice", user.Json().GetProperty("username").GetString());
        AssertAllowed(user, Frontend);

        var write = await visitor.SendAsync(HttpMethod.Patch, "/api/users/1/", RawHttp.Json("""{"first_name": "Alice"}"""),
            ("Origin", Frontend), ("Sec-Fetch-Site", "same-site"), (HeaderNames.CsrfToken, visitor.CsrfCookie!));
        Assert.True(write.Status == HttpStatusCode.OK, write.Body);
        AssertAllowed(write, Frontend);
    }

    /// <summary>
    /// http://localhost:5173 → http://localhost:8000 is same-site, cross-origin: only the Origin check stands in its way.
    /// A frontend on another site (http://127.0.0.1:5173, https://app.example.com) is cross-site: the Fetch Metadata rule too.
    /// </summary>
    [Theory]
    [InlineData(Frontend, "same-site", null)]
    [InlineData(Frontend, "cross-site", null)]
    [InlineData("https://app.example.com", "cross-site", null)]
    [InlineData("https://app.example.com", null, null)]
    [InlineData("http://localhost:5174", "same-site", "Origin checking failed - http://localhost:5174 does not match any trusted origins.")]
    [InlineData("http://evil.example", null, "Origin checking failed - http://evil.example does not match any trusted origins.")]
    [InlineData("http://evil.example", "cross-site", "Cross-site request refused (Sec-Fetch-Site: cross-site).")]
    public async Task TheListedOriginsAreTrustedByTheCsrfChecks(string origin, string? fetchSite, string? reason)
    {
        (string, string)[] headers = [("Cookie", $"csrftoken={Secret}"), (HeaderNames.CsrfToken, Secret), ("Origin", origin)];
        if (fetchSite is not null)
            headers = [.. headers, ("Sec-Fetch-Site", fetchSite)];
        var response = await _client.SendAsync(HttpMethod.Post, EndpointPaths.Logout, headers);

        if (reason is null)
        {
            Assert.Equal(HttpStatusCode.OK, response.Status);
            AssertAllowed(response, origin);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.Status);
            Assert.Equal("CSRF Failed: " + reason, response.Detail);
            AssertNoCorsHeaders(response);
        }
    }

    /// <summary>The browser lets the page read an error's body only with the CORS headers: DRF's words must reach it.</summary>
    [Fact]
    public async Task ErrorAnswersCarryTheHeadersToo()
    {
        var origin = ("Origin", Frontend);
        var unauthenticated = await _client.SendAsync(HttpMethod.Get, EndpointPaths.User, [origin]);
        Assert.Equal(HttpStatusCode.Forbidden, unauthenticated.Status);
        Assert.Equal("Authentication credentials were not provided.", unauthenticated.Detail);
        AssertAllowed(unauthenticated, Frontend);

        // Thrown below the CORS middleware and answered by the error handling, which clears the headers first.
        var badToken = await _client.SendAsync(HttpMethod.Get, EndpointPaths.User, [origin, ("Authorization", "Token nonsense")]);
        Assert.Equal(HttpStatusCode.Unauthorized, badToken.Status);
        Assert.Equal("Invalid token.", badToken.Detail);
        AssertAllowed(badToken, Frontend);

        var csrf = await _client.SendAsync(HttpMethod.Post, EndpointPaths.Login, [origin], RawHttp.Json("{}"));
        Assert.Equal(HttpStatusCode.Forbidden, csrf.Status);
        Assert.Equal("CSRF Failed: CSRF cookie not set.", csrf.Detail);
        AssertAllowed(csrf, Frontend);

        var visitor = new Visitor(_client);
        await visitor.GetAsync(EndpointPaths.Csrf);
        var malformed = await visitor.PostWithTokenAsync(EndpointPaths.Login, RawHttp.Json("{"), origin);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        Assert.Equal("Malformed request body.", malformed.Detail);
        AssertAllowed(malformed, Frontend);

        var missing = await _client.SendAsync(HttpMethod.Get, "/nothing-here", [origin]);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        AssertAllowed(missing, Frontend);

        RawResponse throttled;
        var attempts = 0;
        do
        {
            throttled = await visitor.PostWithTokenAsync(EndpointPaths.Login,
                RawHttp.Json("""{"username": "mallory", "password": "wrong"}"""), origin);
        }
        while (throttled.Status == HttpStatusCode.Unauthorized && ++attempts < 10);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.Status);
        Assert.NotNull(throttled.Header("Retry-After"));
        AssertAllowed(throttled, Frontend);
        Assert.Contains("Retry-After", HeaderList(throttled, "Access-Control-Expose-Headers"));
    }

    [Fact]
    public async Task AForeignHostIsRefusedBeforeCors()
    {
        var response = await _client.SendAsync(HttpMethod.Options, "/api/", [("Host", "evil.example"), .. Preflight(Frontend)]);

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.StartsWith("Invalid HTTP_HOST header: 'evil.example'.", response.Detail, StringComparison.Ordinal);
        AssertNoCorsHeaders(response);
    }

    [Fact]
    public async Task WithoutAllowedOriginsNothingChanges()
    {
        await using var server = await PosternTestServer.StartAsync();
        using var client = server.CreateRawClient();

        var preflight = await client.SendAsync(HttpMethod.Options, "/api/users/", Preflight(Frontend, "POST"));
        // The API's OPTIONS answers it, as DRF does without django-cors-headers.
        Assert.Equal(HttpStatusCode.Forbidden, preflight.Status);
        Assert.Equal("Authentication credentials were not provided.", preflight.Detail);
        AssertNoCorsHeaders(preflight);
        Assert.DoesNotContain("Origin", HeaderList(preflight, "Vary"));

        var write = await client.SendAsync(HttpMethod.Post, EndpointPaths.Logout,
            [("Cookie", $"csrftoken={Secret}"), (HeaderNames.CsrfToken, Secret), ("Origin", Frontend)]);
        Assert.Equal($"CSRF Failed: Origin checking failed - {Frontend} does not match any trusted origins.", write.Detail);
    }

    /// <summary>Over HTTPS a request without Origin meets Django's Referer check: a listed origin's page passes it too.</summary>
    [Theory]
    [InlineData("https://app.example.com/page", HttpStatusCode.OK)]
    [InlineData("https://evil.example/page", HttpStatusCode.Forbidden)]
    public async Task TheHttpsRefererCheckTrustsTheListedOrigins(string referer, HttpStatusCode expected)
    {
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Cors:AllowedOrigins:0"] = "https://*.example.com",
            ["Postern:Proxy:TrustForwardedProto"] = "true",
        });
        using var client = server.CreateRawClient();

        var response = await client.SendAsync(HttpMethod.Post, EndpointPaths.Logout,
            [("X-Forwarded-Proto", "https"), ("Cookie", $"csrftoken={Secret}"), (HeaderNames.CsrfToken, Secret), ("Referer", referer)]);

        Assert.Equal(expected, response.Status);
    }

    /// <summary>TrustForCsrf false: a listed origin may read, and write only if the CSRF trusted origins list it too.</summary>
    [Fact]
    public async Task OriginsKeptApartFromCsrfMayReadButNotWrite()
    {
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Cors:AllowedOrigins:0"] = "https://reader.example.org",
            ["Postern:Cors:AllowedOrigins:1"] = "https://writer.example.org",
            ["Postern:Cors:TrustForCsrf"] = "false",
            ["Postern:Csrf:TrustedOrigins:0"] = "https://writer.example.org",
        });
        using var client = server.CreateRawClient();
        (string, string)[] pair = [("Cookie", $"csrftoken={Secret}"), (HeaderNames.CsrfToken, Secret), ("Sec-Fetch-Site", "cross-site")];

        var read = await client.SendAsync(HttpMethod.Get, EndpointPaths.Csrf, [("Origin", "https://reader.example.org")]);
        AssertAllowed(read, "https://reader.example.org");
        var refused = await client.SendAsync(HttpMethod.Post, EndpointPaths.Logout, [.. pair, ("Origin", "https://reader.example.org")]);
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Equal("CSRF Failed: Cross-site request refused (Sec-Fetch-Site: cross-site).", refused.Detail);
        AssertAllowed(refused, "https://reader.example.org");

        var written = await client.SendAsync(HttpMethod.Post, EndpointPaths.Logout, [.. pair, ("Origin", "https://writer.example.org")]);
        Assert.Equal(HttpStatusCode.OK, written.Status);
        AssertAllowed(written, "https://writer.example.org");
    }

    /// <summary>As an environment variable without an index (<c>Postern__Cors__AllowedOrigins=a,b</c>), and a maximum age.</summary>
    [Fact]
    public async Task OneCommaSeparatedValueListsSeveralOrigins()
    {
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Cors:AllowedOrigins"] = "http://a.test:3000, HTTP://B.test:3001,https://c.test:443",
            ["Postern:Cors:PreflightMaxAgeSeconds"] = "0",
        });
        using var client = server.CreateRawClient();
        // Written as browsers send them: lowercase, without the scheme's own port.
        foreach (var origin in (string[])["http://a.test:3000", "http://b.test:3001", "https://c.test"])
        {
            var preflight = await client.SendAsync(HttpMethod.Options, "/auth/login", Preflight(origin, "POST"));
            AssertAllowed(preflight, origin);
            Assert.Null(preflight.Header("Access-Control-Max-Age"));
        }
    }

    [Theory]
    [InlineData("Postern:Cors:AllowedOrigins:0", "http://localhost:5173/",
        "Postern:Cors:AllowedOrigins:0: 'http://localhost:5173/' is not an origin: scheme://host or scheme://host:port with nothing after it")]
    [InlineData("Postern:Cors:AllowedOrigins:0", "https://app.example.com/api",
        "Postern:Cors:AllowedOrigins:0: 'https://app.example.com/api' is not an origin")]
    [InlineData("Postern:Cors:AllowedOrigins:0", "localhost:5173",
        "Postern:Cors:AllowedOrigins:0: 'localhost:5173' has no scheme: write it as a browser sends it")]
    [InlineData("Postern:Cors:AllowedOrigins:0", "https://*", "Postern:Cors:AllowedOrigins:0: 'https://*' is not an origin")]
    [InlineData("Postern:Cors:AllowedOrigins:0", "https://app.*.example.com",
        "Postern:Cors:AllowedOrigins:0: 'https://app.*.example.com' is not an origin")]
    [InlineData("Postern:Cors:AllowedOrigins:0", "null", "Postern:Cors:AllowedOrigins:0: 'null' is the Origin of sandboxed pages")]
    [InlineData("Postern:Cors:AllowedOrigins", "http://a.test,http://b.test/",
        "Postern:Cors:AllowedOrigins: 'http://b.test/' is not an origin")]
    [InlineData("Postern:Cors:PreflightMaxAgeSeconds", "-1", "PreflightMaxAgeSeconds")]
    [InlineData("Postern:Sessions:CookieSameSite", "Lox", "Postern:Sessions:CookieSameSite must be Lax, Strict, None or empty.")]
    [InlineData("Postern:Csrf:CookieSameSite", "no_restriction", "Postern:Csrf:CookieSameSite must be Lax, Strict, None or empty.")]
    public async Task AMistypedSettingStopsTheServerAtStart(string key, string value, string message)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            PosternTestServer.StartAsync(new Dictionary<string, string?> { [key] = value }));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// For a frontend on another site: SameSite=None, which always comes with Secure (browsers drop it otherwise), and
    /// Partitioned for browsers that block third-party cookies; the logout's deletion names the same partitioned cookie.
    /// </summary>
    [Fact]
    public async Task CookiesForAnotherSiteAreSameSiteNoneSecureAndPartitioned()
    {
        await using var server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Cors:AllowedOrigins:0"] = "http://127.0.0.1:5173",
            ["Postern:Sessions:CookieSameSite"] = "None",
            ["Postern:Sessions:CookiePartitioned"] = "true",
            ["Postern:Csrf:CookieSameSite"] = "none",
            ["Postern:Csrf:CookiePartitioned"] = "true",
        });
        await server.CreateUserAsync("alice", "alice-password");
        var visitor = new Visitor(server.CreateRawClient());
        var login = await visitor.LoginAsync("alice", "alice-password");

        Assert.Equal(HttpStatusCode.OK, login.Status);
        Assert.EndsWith("; Path=/; SameSite=None; Secure; Partitioned", login.Cookie(CookieNames.Session)!.Raw, StringComparison.Ordinal);
        Assert.EndsWith("; Path=/; SameSite=none; Secure; Partitioned", login.Cookie(CookieNames.Csrf)!.Raw, StringComparison.Ordinal);

        var logout = await visitor.PostWithTokenAsync(EndpointPaths.Logout);
        Assert.True(logout.Cookie(CookieNames.Session)!.IsDeletion);
        Assert.EndsWith("; Path=/; SameSite=None; Secure; Partitioned", logout.Cookie(CookieNames.Session)!.Raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CookiesAreNotPartitionedUnlessAskedFor()
    {
        var visitor = new Visitor(_client);
        var login = await visitor.LoginAsync("alice", "alice-password");
        Assert.EndsWith("; Path=/; SameSite=Lax", login.Cookie(CookieNames.Session)!.Raw, StringComparison.Ordinal);
    }
}
