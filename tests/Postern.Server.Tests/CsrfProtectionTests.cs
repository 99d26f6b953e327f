using System.Net;
using Postern.Protocol;
using Postern.Testing;

namespace Postern.Server.Tests;

/// <summary>Each of Django's CSRF rules, with its exact reason, over real HTTP.</summary>
public sealed class CsrfProtectionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Secret = "lcccccccX2kcccccccY2jcccccccssIC";
    private const string MaskedSecret = "1bcdefghij2bcdefghij3bcdefghij4bcdefghij5bcdefghij6bcdefghijABCD";
    private readonly HttpClient _client = fixture.Server.CreateRawClient();

    private Task<RawResponse> LogoutAsync(HttpContent? content = null, params (string, string)[] headers) =>
        _client.SendAsync(HttpMethod.Post, "/auth/logout", headers, content);

    private static async Task AssertRefusedAsync(Task<RawResponse> sending, string reason)
    {
        var response = await sending;
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("application/json", response.ContentType);
        Assert.Equal("CSRF Failed: " + reason, response.Detail);
    }

    private static async Task AssertAcceptedAsync(Task<RawResponse> sending)
    {
        var response = await sending;
        Assert.True(response.Status == HttpStatusCode.OK, $"{response.StatusCode}: {response.Body}");
    }

    [Fact]
    public Task NoCookie() => AssertRefusedAsync(LogoutAsync(null, ("X-CSRFToken", Secret)), "CSRF cookie not set.");

    [Fact]
    public Task NoToken() => AssertRefusedAsync(LogoutAsync(null, ("Cookie", $"csrftoken={Secret}")), "CSRF token missing.");

    [Theory]
    [InlineData("abc", "CSRF cookie has incorrect length.")]
    [InlineData("lcccccccX2kcccccccY2jcccccccssI!", "CSRF cookie has invalid characters.")]
    public Task MalformedCookie(string cookie, string reason) =>
        AssertRefusedAsync(LogoutAsync(null, ("Cookie", $"csrftoken={cookie}"), ("X-CSRFToken", Secret)), reason);

    [Fact]
    public async Task AMalformedCookieIsReplacedOnTheRefusal()
    {
        var response = await LogoutAsync(null, ("Cookie", "csrftoken=abc"), ("X-CSRFToken", Secret));
        Assert.Matches("^[A-Za-z0-9]{32}$", response.Cookie("csrftoken")!.Value);
    }

    [Theory]
    [InlineData("", "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.")]
    [InlineData("tooshort", "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.")]
    [InlineData("lcccccccX2kcccccccY2jcccccccssI!", "CSRF token from the 'X-Csrftoken' HTTP header has invalid characters.")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "CSRF token from the 'X-Csrftoken' HTTP header incorrect.")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "CSRF token from the 'X-Csrftoken' HTTP header incorrect.")]
    public Task BadHeaderToken(string token, string reason) =>
        AssertRefusedAsync(LogoutAsync(null, ("Cookie", $"csrftoken={Secret}"), ("X-CSRFToken", token)), reason);

    [Theory]
    [InlineData("tooshort", "CSRF token from POST has incorrect length.")]
    [InlineData("lcccccccX2kcccccccY2jcccccccssI!", "CSRF token from POST has invalid characters.")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "CSRF token from POST incorrect.")]
    public Task BadFormToken(string token, string reason) =>
        AssertRefusedAsync(LogoutAsync(RawHttp.Form(("csrfmiddlewaretoken", token)), ("Cookie", $"csrftoken={Secret}")), reason);

    [Fact]
    public Task TheFormFieldWinsOverTheHeader() =>
        AssertAcceptedAsync(LogoutAsync(RawHttp.Form(("csrfmiddlewaretoken", MaskedSecret)),
            ("Cookie", $"csrftoken={Secret}"), ("X-CSRFToken", "garbage")));

    [Fact]
    public Task AnEmptyFormFieldFallsBackToTheHeader() =>
        AssertAcceptedAsync(LogoutAsync(RawHttp.Form(("csrfmiddlewaretoken", "")),
            ("Cookie", $"csrftoken={Secret}"), ("X-CSRFToken", Secret)));

    [Fact]
    public Task AFieldInAJsonBodyIsNotAToken() =>
        AssertRefusedAsync(LogoutAsync(RawHttp.Json($$"""{"csrfmiddlewaretoken": "{{Secret}}"}"""), ("Cookie", $"csrftoken={Secret}")),
            "CSRF token missing.");

    [Theory]
    [InlineData(Secret, Secret)]
    [InlineData(Secret, MaskedSecret)]
    [InlineData(MaskedSecret, Secret)]
    [InlineData(MaskedSecret, "2JgchWvM1tpxT2lfz9aydoXW9yT1DN3NdLiejYxOOlzzV4nhBbYqmqZYbAV3V5Bf")]
    public Task MaskedAndUnmaskedCookiesAndTokensAllMatch(string cookie, string token) =>
        AssertAcceptedAsync(LogoutAsync(null, ("Cookie", $"csrftoken={cookie}"), ("X-CSRFToken", token)));

    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    [InlineData("PROPFIND")]
    public async Task EveryMethodButTheSafeOnesIsChecked(string method)
    {
        var response = await _client.SendAsync(new HttpMethod(method), "/auth/logout");
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("CSRF Failed: CSRF cookie not set.", response.Detail);
    }

    [Fact]
    public Task AForeignOriginIsRefusedEvenWithAValidToken() =>
        AssertRefusedAsync(LogoutAsync(null, ("Cookie", $"csrftoken={Secret}"), ("X-CSRFToken", Secret), ("Origin", "http://evil.example")),
            "Origin checking failed - http://evil.example does not match any trusted origins.");

    [Fact]
    public Task ANullOriginIsRefused() =>
        AssertRefusedAsync(LogoutAsync(null, ("Cookie", $"csrftoken={Secret}"), ("X-CSRFToken", Secret), ("Origin", "null")),
            "Origin checking failed - null does not match any trusted origins.");

    [Fact]
    public Task TheOwnOriginPasses() =>
        AssertAcceptedAsync(LogoutAsync(null, ("Cookie", $"csrftoken={Secret}"), ("X-CSRFToken", Secret),
            ("Origin", fixture.Server.BaseAddress.GetLeftPart(UriPartial.Authority))));

    [Fact]
    public Task TheOriginIsCheckedBeforeTheToken() =>
        AssertRefusedAsync(LogoutAsync(null, ("Origin", "https://evil.example")),
            "Origin checking failed - https://evil.example does not match any trusted origins.");

    [Fact]
    public Task OverPlainHttpNoRefererIsNeeded() =>
        AssertAcceptedAsync(LogoutAsync(null, ("Cookie", $"csrftoken={Secret}"), ("X-CSRFToken", Secret)));

    [Fact]
    public Task ACrossSiteFetchIsRefusedBeforeTheToken() =>
        AssertRefusedAsync(LogoutAsync(null, ("Cookie", $"csrftoken={Secret}"), ("X-CSRFToken", Secret), ("Sec-Fetch-Site", "cross-site")),
            "Cross-site request refused (Sec-Fetch-Site: cross-site).");

    [Theory]
    [InlineData("same-origin")]
    [InlineData("same-site")]
    [InlineData("none")]
    public Task OtherFetchSitesGoOnToTheOtherRules(string site) =>
        AssertAcceptedAsync(LogoutAsync(null, ("Cookie", $"csrftoken={Secret}"), ("X-CSRFToken", Secret), ("Sec-Fetch-Site", site)));

    /// <summary>The seed's GET /auth/logout carries no token: an &lt;img&gt; or a link on another site must not end the session.</summary>
    [Fact]
    public async Task ACrossSiteGetLogoutIsRefusedAndTheSessionLivesOn()
    {
        var visitor = new Visitor(fixture.Server.CreateRawClient());
        Assert.Equal(HttpStatusCode.OK, (await visitor.LoginAsync("alice", "alice-password")).Status);
        var forged = await visitor.GetAsync(EndpointPaths.Logout, ("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Dest", "image"));
        Assert.Equal(HttpStatusCode.Forbidden, forged.Status);
        Assert.Equal("CSRF Failed: Cross-site request refused (Sec-Fetch-Site: cross-site).", forged.Detail);
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync(EndpointPaths.User)).Status);

        var own = await visitor.GetAsync(EndpointPaths.Logout, ("Sec-Fetch-Site", "same-origin"));
        Assert.Equal(HttpStatusCode.OK, own.Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync(EndpointPaths.User)).Status);
    }

    [Fact]
    public async Task ALoginWithoutTheTokenPairIsRefused()
    {
        // DRF leaves its login views open to login CSRF; Postern does not.
        var response = await _client.SendAsync(HttpMethod.Post, "/auth/login", [],
            RawHttp.Json("""{"username": "alice", "password": "alice-password"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Null(response.Cookie(CookieNames.Session));
    }
}

/// <summary>Origin and Referer rules behind an HTTPS proxy, with trusted origins configured.</summary>
public sealed class CsrfOverHttpsTests : IAsyncLifetime
{
    private const string Secret = "lcccccccX2kcccccccY2jcccccccssIC";
    private PosternTestServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await PosternTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Postern:Proxy:TrustForwardedProto"] = "true",
            ["Postern:Proxy:TrustForwardedHost"] = "true",
            ["Postern:AllowedHosts:0"] = "api.example.com",
            ["Postern:AllowedHosts:1"] = "127.0.0.1",
            ["Postern:Csrf:TrustedOrigins:0"] = "https://dashboard.example.com",
            ["Postern:Csrf:TrustedOrigins:1"] = "https://*.trusted.example",
            ["Postern:Csrf:CookieSecure"] = "true",
            ["Postern:Sessions:CookieSecure"] = "true",
        });
        _client = _server.CreateRawClient();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<RawResponse> PostAsync(params (string, string)[] headers) =>
        _client.SendAsync(HttpMethod.Post, "/auth/logout",
            [
                ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "api.example.com"), ("Cookie", $"csrftoken={Secret}"),
                ("X-CSRFToken", Secret), .. headers,
            ]);

    [Theory]
    [InlineData(null, "Referer checking failed - no Referer.")]
    [InlineData("http://api.example.com/page", "Referer checking failed - Referer is insecure while host is secure.")]
    [InlineData("https://evil.example/x", "Referer checking failed - https://evil.example/x does not match any trusted origins.")]
    [InlineData("https://", "Referer checking failed - Referer is malformed.")]
    [InlineData("//api.example.com/", "Referer checking failed - Referer is malformed.")]
    [InlineData("https://[", "Referer checking failed - Referer is malformed.")]
    [InlineData("", "Referer checking failed - Referer is malformed.")]
    public async Task BadReferersAreRefused(string? referer, string reason)
    {
        var response = referer is null ? await PostAsync() : await PostAsync(("Referer", referer));
        Assert.Equal(HttpStatusCode.Forbidden, response.Status);
        Assert.Equal("CSRF Failed: " + reason, response.Detail);
    }

    [Theory]
    [InlineData("https://api.example.com/app/")]
    [InlineData("https://dashboard.example.com/")]
    [InlineData("https://deep.sub.trusted.example/page")]
    public async Task SameOriginAndTrustedReferersPass(string referer)
    {
        var response = await PostAsync(("Referer", referer));
        Assert.Equal(HttpStatusCode.OK, response.Status);
    }

    [Theory]
    [InlineData("https://api.example.com", HttpStatusCode.OK)]
    [InlineData("https://dashboard.example.com", HttpStatusCode.OK)]
    [InlineData("https://a.trusted.example", HttpStatusCode.OK)]
    [InlineData("http://a.trusted.example", HttpStatusCode.Forbidden)]
    [InlineData("http://api.example.com", HttpStatusCode.Forbidden)]
    [InlineData("https://a.trusted.example:8443", HttpStatusCode.Forbidden)]
    public async Task AnOriginNeedsNoReferer(string origin, HttpStatusCode expected)
    {
        var response = await PostAsync(("Origin", origin));
        Assert.Equal(expected, response.Status);
    }

    /// <summary>A frontend on another site, configured as a trusted origin, is cross-site to the browser yet allowed.</summary>
    [Theory]
    [InlineData("https://dashboard.example.com", HttpStatusCode.OK)]
    [InlineData("https://evil.example", HttpStatusCode.Forbidden)]
    public async Task ACrossSiteFetchFromATrustedOriginPasses(string origin, HttpStatusCode expected)
    {
        var response = await PostAsync(("Origin", origin), ("Sec-Fetch-Site", "cross-site"));
        Assert.Equal(expected, response.Status);
    }

    [Fact]
    public async Task CookiesAreSecureWhenConfigured()
    {
        var response = await _client.SendAsync(HttpMethod.Get, "/auth/csrf", [("X-Forwarded-Proto", "https")]);
        Assert.True(response.Cookie("csrftoken")!.Secure);
    }

    [Fact]
    public async Task ForwardedHeadersAreIgnoredUnlessTrusted()
    {
        await using var server = await PosternTestServer.StartAsync();
        using var client = server.CreateRawClient();
        var response = await client.SendAsync(HttpMethod.Post, "/auth/logout",
            [("X-Forwarded-Proto", "https"), ("Cookie", $"csrftoken={Secret}"), ("X-CSRFToken", Secret)]);
        // Not trusted: still plain HTTP, so no Referer is required.
        Assert.Equal(HttpStatusCode.OK, response.Status);
    }
}
